"""``icp-notify demo``: analyze the built-in example notices and print their cards.

The examples (``icp_notify/data/examples.jsonl``) cover every situation and every kind: the
generic MIIT notice with and without context, each provider notice, and each kind of ``other``
notice. They carry fixed receive times and the demo uses a fixed "now" (:data:`DEMO_NOW`), so the
output is the same on every run. ``--json`` prints one ``Report`` JSON per line instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icp_notify.errors import DataFileError
from icp_notify.models import SHANGHAI, URGENCY_ORDER, Context, Kind, Report, Situation

__all__ = [
    "DEMO_NOW",
    "EXAMPLES_PATH",
    "Example",
    "add_arguments",
    "load_examples",
    "run",
    "run_examples",
]

EXAMPLES_PATH = Path(__file__).resolve().parent.parent / "data" / "examples.jsonl"
"""The built-in examples."""

DEMO_NOW = dt.datetime(2025, 3, 4, 22, 30, tzinfo=SHANGHAI)
"""The fixed "now" of the demo: some approvals are still syncing, some deadlines are near."""


class Expectation(BaseModel):
    """What the example is (its label), to show whether the classifier agrees."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    situation: Situation | None
    kind: Kind
    ambiguous: bool = False


class Example(BaseModel):
    """One built-in example notice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: dict[str, str]
    text: str = Field(min_length=1)
    subject: str | None = None
    channel: str = "sms"
    sender: str | None = None
    received_at: dt.datetime
    context: Context | None = None
    expect: Expectation


@functools.cache
def _load(path: str) -> tuple[Example, ...]:
    examples: list[Example] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataFileError(path, f"cannot read: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            examples.append(Example.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DataFileError(path, f"invalid example: {exc}", item=f"line {number}") from None
    return tuple(examples)


def load_examples(path: Path | None = None) -> tuple[Example, ...]:
    """The examples, validated, loaded once per path.

    Parameters
    ----------
    path : Path, optional
        An examples file (default: the shipped one).

    Returns
    -------
    tuple of Example

    Examples
    --------
    >>> examples = load_examples()
    >>> len(examples) >= 20, examples[0].expect.ambiguous
    (True, True)
    """
    return _load(str(path or EXAMPLES_PATH))


def run_examples(
    *, lang: str = "zh", now: dt.datetime = DEMO_NOW, pipeline: Any = None
) -> list[tuple[Example, Report]]:
    """Analyze every example with ``pipeline`` (default: :meth:`Pipeline.default`).

    Parameters
    ----------
    lang : {"zh", "en"}
        Advice language.
    now : datetime
        The clock for the advice (fixed, so the demo output does not depend on today).
    pipeline : Pipeline, optional
        Any object with ``analyze(...) -> Report``.

    Returns
    -------
    list of (Example, Report)
    """
    from icp_notify.models import RawMessage
    from icp_notify.pipeline import Pipeline

    pipe = pipeline if pipeline is not None else Pipeline.default()
    out: list[tuple[Example, Report]] = []
    for ex in load_examples():
        raw = RawMessage(
            text=ex.text,
            channel=ex.channel,
            sender=ex.sender,
            received_at=ex.received_at,
            subject=ex.subject,
        )
        report = pipe.analyze(raw, context=ex.context, now=now, lang=lang)
        out.append((ex, report))
    return out


def matches(example: Example, report: Report) -> bool:
    """Whether the classification agrees with the example's label.

    Parameters
    ----------
    example : Example
        A demo example with its expected label.
    report : Report
        Its report.

    Returns
    -------
    bool
    """
    cls = report.classification
    exp = example.expect
    if exp.ambiguous:
        return cls.ambiguous
    return cls.situation == exp.situation and cls.kind == exp.kind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``icp-notify demo``."""
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the advice")
    parser.add_argument("--json", action="store_true", help="print one Report JSON per line")


def run(args: argparse.Namespace) -> int:
    """Print a card for every example, then a summary line."""
    from icp_notify.commands.analyze import field_lines, render_card

    results = run_examples(lang=args.lang)
    if args.json:
        for _ex, report in results:
            print(report.model_dump_json())
        return 0
    zh = args.lang == "zh"
    now_text = DEMO_NOW.strftime("%Y-%m-%d %H:%M")
    intro = (
        f"icp-notify 演示：{len(results)} 条示例通知，“现在”固定为 {now_text}（Asia/Shanghai）。"
        if zh
        else f"icp-notify demo: {len(results)} example notices, 'now' fixed at {now_text} Asia/Shanghai."
    )
    print(intro)
    print()
    ok = 0
    for i, (ex, report) in enumerate(results, 1):
        agree = matches(ex, report)
        ok += agree
        title = f"{i}/{len(results)} {ex.title.get(args.lang, ex.id)}"
        print(render_card(report, title=title, now=DEMO_NOW))
        expected = (
            "ambiguous" if ex.expect.ambiguous else f"{ex.expect.situation} / {ex.expect.kind}"
        )
        label = "示例标注" if zh else "labelled"
        verdict = "✓" if agree else ("✗ 与分类结果不一致" if zh else "✗ the classifier disagrees")
        print("\n".join(field_lines(label, f"{expected}  {verdict}")))
        print()
    counts = Counter(r.advice.urgency for _e, r in results)
    ambiguous = sum(r.classification.ambiguous for _e, r in results)
    parts = ", ".join(f"{counts.get(u, 0)} {u.value}" for u in URGENCY_ORDER)
    if zh:
        print(
            f"共 {len(results)} 条：{parts}；{ambiguous} 条无法确定；"
            f"{ok}/{len(results)} 条与示例标注一致。"
        )
    else:
        print(
            f"{len(results)} notices: {parts}; {ambiguous} ambiguous; "
            f"{ok}/{len(results)} classified as labelled."
        )
    return 0
