"""``icp-notify parse``: parse one notice and print the Notice.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_arguments(p)
>>> p.parse_args(["--json", "-"]).text
'-'
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icp_notify.models import Notice


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``icp-notify parse``."""
    parser.add_argument(
        "text", nargs="?", help="the notice text, or - to read it from standard input"
    )
    parser.add_argument(
        "--file",
        metavar="PATH",
        help="read the notice from a file (bytes: .eml e-mail or text in UTF-8/GB18030)",
    )
    parser.add_argument("--channel", choices=["sms", "email", "unknown"], help="how it arrived")
    parser.add_argument("--sender", help="who sent it (12381, 10690000123, noreply@…)")
    parser.add_argument(
        "--received-at", metavar="ISO", help="when it arrived (ISO 8601; no zone = Asia/Shanghai)"
    )
    parser.add_argument("--max-chars", type=int, default=None, help="raise the text size cap")
    parser.add_argument(
        "--json", action="store_true", help="print Notice.model_dump_json() on one line"
    )


def summary(notice: Notice) -> str:
    """Return a readable multi-line summary of a Notice.

    Parameters
    ----------
    notice : Notice
        A parsed notice.

    Returns
    -------
    str
        One ``label: value`` line per field and entity type found, then the defects.
    """
    lines = [f"text:        {notice.text}"]
    fields: list[tuple[str, object]] = [
        ("channel", notice.channel.value),
        ("sender", notice.sender),
        ("sender type", notice.sender_type.value),
        ("signature", notice.signature),
        ("subject", notice.subject),
        ("received at", notice.received_at.isoformat() if notice.received_at else None),
        (
            "recipient",
            f"{notice.recipient.name}{' (masked)' if notice.recipient.masked else ''}"
            if notice.recipient
            else None,
        ),
        ("opt-out", notice.opt_out),
    ]
    if notice.forward is not None:
        f = notice.forward
        parts = [f.wrapper] + [
            f"{k}={v}"
            for k, v in (
                ("from", f.original_sender),
                ("sim", f.sim),
                ("subid", f.sub_id),
                ("time", f.received_text),
                ("device", f.device),
            )
            if v
        ]
        fields.append(("forwarded", ", ".join(parts)))
    lines += [f"{k + ':':<12} {v}" for k, v in fields if v not in (None, "")]
    e = notice.entities
    entity_lines: list[tuple[str, list[str]]] = [
        ("ICP numbers", [n.canonical for n in e.icp_numbers]),
        ("licences", [x.text for x in e.licences]),
        ("公网安备", [x.text for x in e.public_security_numbers]),
        ("domains", [d.name if d.name == d.ascii else f"{d.name} ({d.ascii})" for d in e.domains]),
        ("IPs", [x.address for x in e.ips]),
        (
            "providers",
            [f"{p.name} ({p.alias})" if p.alias != p.name else p.name for p in e.providers],
        ),
        ("codes", [c.code for c in e.codes]),
        ("URLs", [u.url for u in e.urls]),
        ("dates", [d.text + (f" = {d.value.isoformat()}" if d.value else "") for d in e.dates]),
        (
            "durations",
            [f"{d.text} = {d.seconds}s{' (limit)' if d.within else ''}" for d in e.durations],
        ),
        ("phones", list(e.phones)),
    ]
    for label, values in entity_lines:
        if values:
            lines.append(f"{label + ':':<12} {'; '.join(values)}")
    for d in notice.defects:
        lines.append(f"{'defect:':<12} {d.code}: {d.message}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Parse the notice named by ``args`` and print it; return the exit status."""
    from icp_notify.boundary import coerce_time
    from icp_notify.errors import InputError
    from icp_notify.parse import parse

    data: str | bytes
    if args.file is not None:
        if args.text is not None:
            raise InputError("invalid_field", "give either TEXT or --file, not both")
        try:
            with open(args.file, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise InputError("unreadable", f"cannot read {args.file}: {exc.strerror}") from None
    elif args.text is None:
        raise InputError(
            "empty", "no notice given", hint="pass the text, - for stdin, or --file PATH"
        )
    elif args.text == "-":
        data = sys.stdin.buffer.read()
    else:
        data = args.text
    notice = parse(
        data,
        channel=args.channel,
        sender=args.sender,
        received_at=coerce_time(args.received_at, field="--received-at"),
        max_chars=args.max_chars,
    )
    if args.json:
        sys.stdout.write(notice.model_dump_json() + "\n")
    else:
        sys.stdout.write(summary(notice) + "\n")
    return 0
