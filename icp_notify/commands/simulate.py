"""``icp-notify simulate``: score the context engine on simulated filing histories."""

from __future__ import annotations

import argparse


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= n <= 1_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000000")
    return n


def _probability(value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return p


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify simulate``."""
    parser.add_argument(
        "--histories", type=_positive, default=10_000, help="filings to simulate (default 10000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the seed (default 1)")
    parser.add_argument(
        "--p",
        type=_probability,
        action="append",
        help="probability that the user records an operation (repeatable; default 1.0 0.9 0.7)",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="processes sharing the histories (default: the number of CPUs, at most 8)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    """Simulate, replay every generic notice through classify, print the table per p."""
    import os

    from icp_notify.simulate import simulate

    workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
    result = simulate(args.histories, args.seed, tuple(args.p or (1.0, 0.9, 0.7)), workers=workers)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(result.table())
    return 0
