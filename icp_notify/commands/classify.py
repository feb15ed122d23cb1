"""``icp-notify classify TEXT|- [--context FILE.json] [--received-at ISO] [--json]``.

Classifies one notice (the text, or standard input with ``-``) and prints the situation, the
candidates, what decided it, the chain of events behind a context decision (in Chinese and
English) and the evidence; ``--json`` prints
``Classification.model_dump(mode="json")``.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``icp-notify classify``."""
    parser.add_argument("text", metavar="TEXT", help="the notice text, or - to read standard input")
    parser.add_argument(
        "--context",
        metavar="FILE.json",
        help="the user's recent operations and earlier notices (a Context as JSON)",
    )
    parser.add_argument(
        "--received-at", metavar="ISO", help="when the notice arrived (naive = Asia/Shanghai)"
    )
    parser.add_argument("--sender", help="the sender (e.g. 12381 or an e-mail address)")
    parser.add_argument("--channel", choices=["sms", "email", "unknown"], help="how it arrived")
    parser.add_argument("--json", action="store_true", help="print the Classification as JSON")


def run(args: argparse.Namespace) -> int:
    """Classify one notice and print the result; returns the exit status."""
    from icp_notify.boundary import coerce_time
    from icp_notify.classifier import classify
    from icp_notify.commands import read_context

    # bytes from standard input: parse() decodes UTF-8 / GB18030 and reads e-mail, like
    # ``icp-notify parse -`` and ``icp-notify analyze -``
    text: str | bytes = sys.stdin.buffer.read() if args.text == "-" else args.text
    context = read_context(args.context)
    result = classify(
        text,
        channel=args.channel,
        sender=args.sender,
        received_at=coerce_time(args.received_at, field="--received-at"),
        context=context,
    )
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0
    if result.situation is not None:
        print(f"situation:   {result.situation.value} (confidence {result.confidence:.2f})")
    else:
        names = ", ".join(s.value for s in result.candidates)
        print(f"situation:   ambiguous — one of: {names}")
    print(f"kind:        {result.kind.value}")
    print(f"decided by:  {', '.join(d.value for d in result.decided_by) or '-'}")
    probs = sorted(result.probabilities.items(), key=lambda kv: -kv[1])
    print("probability: " + ", ".join(f"{s.value} {p:.2f}" for s, p in probs))
    if context is not None:
        from icp_notify.advisor import Advisor

        advisor = Advisor.default()
        for lang in ("zh", "en"):
            sentence = advisor.chain_sentence(result, lang)
            if sentence:
                print(f"chain ({lang}):  {sentence}")
    for e in result.evidence:
        if e.source == "context" and e.id == "chain":
            continue  # printed above, in words
        where = f" {e.span[0]}-{e.span[1]}" if e.span else ""
        what = f" «{e.matched}»" if e.matched else ""
        flag = " [timed out]" if e.timed_out else ""
        detail = f" — {e.detail}" if e.detail else ""
        print(f"  {e.source:7} {e.id}{where}{what}{flag}{detail}")
    return 0
