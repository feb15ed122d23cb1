"""Run every ``parsing-example`` block of docs/parsing.md, so the docs never go stale."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from icp_notify.normalize import html_to_text, normalize, normalize_text, strip_subject_prefixes
from icp_notify.parse import parse

DOC = Path(__file__).resolve().parent.parent / "docs" / "parsing.md"
BLOCK = re.compile(r"^```parsing-example (?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.M | re.S)
ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|r|n|t)")
ENTITY_LISTS = {
    "icp_numbers", "licences", "public_security_numbers", "domains", "ips", "providers",
    "codes", "urls", "dates", "durations", "phones",
}  # fmt: skip


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code in {"r", "n", "t"}:
            return {"r": "\r", "n": "\n", "t": "\t"}[code]
        return chr(int(code[1:], 16))

    return ESCAPE.sub(one, text)


def _examples() -> list[tuple[str, dict[str, str], str, str]]:
    found = []
    for m in BLOCK.finditer(DOC.read_text("utf-8")):
        check, *options = m["info"].split()
        opts = dict(o.split("=", 1) for o in options)
        before, sep, after = m["body"].partition("\n=>\n")
        assert sep, f"example {check!r} has no => line"
        found.append((check, opts, _unescape(before), after.rstrip("\n")))
    return found


EXAMPLES = _examples()


def _render(check: str, text: str, opts: dict[str, str]) -> str:
    if check == "normalize_text":
        return normalize_text(text)
    if check == "html_to_text":
        return html_to_text(text)
    if check in {"body", "signature", "opt_out"}:
        return str(getattr(normalize(text), check))
    if check == "forward":
        fwd = normalize(text).forward
        assert fwd is not None, "no forwarding wrapper found"
        return "\n".join(f"{k}: {v}" for k, v in fwd.model_dump().items() if v)
    if check == "subject":
        subject, forwarded = strip_subject_prefixes(text)
        return f"{subject} forward={forwarded}"
    notice = parse(text, sender=opts.get("sender"), received_at=opts.get("received_at"))
    if check == "text":
        return notice.text
    if check == "recipient":
        r = notice.recipient
        return "None" if r is None else r.name + (" (masked)" if r.masked else "")
    if check == "sender_type":
        return " ".join(x for x in (notice.sender_type.value, notice.sender_provider) if x)
    if check == "defects":
        return "\n".join(d.code for d in notice.defects)
    if check in ENTITY_LISTS:
        lines = []
        for item in getattr(notice.entities, check):
            data: Any = (
                item if isinstance(item, str) else item.model_dump(mode="json", exclude_none=True)
            )
            if isinstance(data, dict):
                data.pop("span", None)
            lines.append(json.dumps(data, ensure_ascii=False))
        return "\n".join(lines)
    raise AssertionError(f"unknown check {check!r} in docs/parsing.md")


@pytest.mark.parametrize(
    ("check", "opts", "before", "after"),
    EXAMPLES,
    ids=[f"{i:02d}-{e[0]}" for i, e in enumerate(EXAMPLES)],
)
def test_doc_example(check: str, opts: dict[str, str], before: str, after: str) -> None:
    assert _render(check, before, opts) == after


def test_docs_cover_every_step_and_entity() -> None:
    checks = {e[0] for e in EXAMPLES}
    assert checks >= ENTITY_LISTS
    assert {"normalize_text", "html_to_text", "body", "signature", "opt_out", "forward"} <= checks
    assert {"subject", "recipient", "sender_type", "defects"} <= checks
    forwards = " ".join(e[3] for e in EXAMPLES if e[0] == "forward")
    for wrapper in ("smsforwarder", "json", "email_forward", "quoted_reply"):
        assert f"wrapper: {wrapper}" in forwards
