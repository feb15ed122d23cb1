"""``icp-notify alerts test --config alerts.toml``: send a sample card to every channel.

Prints one line per channel with the answer (HTTP status or SMTP code, and the error); the exit
status is 1 when any channel failed, so it fits a deployment check.
"""

from __future__ import annotations

import argparse
import sys
from typing import Literal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify alerts``."""
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    test = sub.add_parser(
        "test",
        help="send a sample alert to each channel and print each answer",
        description="send a sample alert to each channel and print each answer",
    )
    test.add_argument("--config", required=True, help="the alerts file (TOML)")
    test.add_argument(
        "--channel", action="append", help="only this channel (repeatable; default: all)"
    )
    test.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="language of the sample (default: that of the first route naming the channel)",
    )


def run(args: argparse.Namespace) -> int:
    """Send the sample card to each selected channel; 1 if any failed."""
    from icp_notify.alerts.card import build_card
    from icp_notify.alerts.channels import build_senders
    from icp_notify.alerts.config import load_config
    from icp_notify.alerts.sample import SAMPLE_FILING, sample_report
    from icp_notify.errors import InputError

    try:
        import httpx
    except ModuleNotFoundError:
        raise InputError(
            "missing_extra", "alerts need httpx", hint="pip install 'icp-notify[server]'"
        ) from None

    config = load_config(args.config)
    names = list(config.channels)
    if args.channel:
        unknown = [n for n in args.channel if n not in config.channels]
        if unknown:
            raise InputError(
                "invalid_field",
                f"no channel {unknown[0]!r} in the alerts file (known: {', '.join(names)})",
                where="--channel",
            )
        names = [n for n in names if n in args.channel]
    senders = build_senders(config)
    failed = 0
    with httpx.Client(timeout=config.delivery.timeout_s) as client:
        for name in names:
            langs = [r.lang for r in config.routes if name in r.channels]
            lang: Literal["zh", "en"] = args.lang or (langs[0] if langs else "zh")
            card = build_card(sample_report(lang), filing=SAMPLE_FILING, test=True)
            key = f"icpn-test-{name}"
            result = senders[name].send(card, key, client)
            status = "-" if result.status is None else str(result.status)
            outcome = "ok" if result.ok else "FAILED"
            line = f"{name}\t{senders[name].kind}\t{outcome}\t{status}"
            if result.error:
                line += f"\t{result.error}"
            print(line)
            failed += not result.ok
    if failed:
        print(f"{failed} of {len(names)} channel(s) failed", file=sys.stderr)
    return 1 if failed else 0
