"""``icp-notify check-corpus [FILES...] [--json]``: validate the labelled corpus.

Prints the counts per split, situation, kind, channel and file, then every problem with its
``file:line``. Exits 0 when the corpus is clean and 1 when there are problems.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``check-corpus``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="corpus JSONL files (default: every corpus/*.jsonl of the source tree)",
    )
    parser.add_argument("--json", action="store_true", help="print the CorpusCheck as JSON")


def _table(title: str, counts: dict[str, int]) -> list[str]:
    lines = [f"{title}:"]
    width = max((len(k) for k in counts), default=0)
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<{width}}  {value:>5}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Check the corpus and print the result.

    Parameters
    ----------
    args : argparse.Namespace
        ``files`` (list of paths, possibly empty) and ``json`` (bool).

    Returns
    -------
    int
        0 when the corpus has no problems, 1 otherwise.
    """
    from icp_notify.corpus import check_corpus

    result = check_corpus(args.files or None)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0 if result.ok else 1
    lines = [
        f"{result.total} records in {len(result.files)} file(s);"
        f" {result.ambiguous} ambiguous, {result.with_context} with context",
    ]
    lines += _table("split", result.by_split)
    lines += _table("situation", result.by_situation)
    lines += _table("kind", result.by_kind)
    lines += _table("channel", result.by_channel)
    lines += _table("file", result.by_file)
    if result.problems:
        lines.append(f"{len(result.problems)} problem(s):")
        lines += [f"  {p}" for p in result.problems]
    else:
        lines.append("ok: no problems")
    print("\n".join(lines))
    return 0 if result.ok else 1
