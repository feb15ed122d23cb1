"""Time ``icp-notify simulate`` (the issue-10 target: 10,000 histories in at most 30 s).

Usage: ``.venv/bin/python bench/simulate_bench.py [--histories N] [--seed S]``. Prints the table
and the wall time of the whole simulation (all three p values), and per p.
"""

from __future__ import annotations

import argparse
import time

from icp_notify.simulate import simulate


def main() -> None:
    """Run the simulation once and print its table and timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--histories", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    simulate(5, args.seed)  # load rules and model first
    start = time.perf_counter()
    result = simulate(args.histories, args.seed, workers=args.workers)
    elapsed = time.perf_counter() - start
    print(result.table())
    print(
        f"\n{args.histories} histories x {len(result.rows)} p values, {args.workers} workers:"
        f" {elapsed:.1f} s wall ({elapsed / len(result.rows):.1f} s per p)"
    )


if __name__ == "__main__":
    main()
