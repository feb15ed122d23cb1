"""``icp-notify train``: train the text model on the corpus and export the artefact."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify train``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="artefact directory (default: icp_notify/data/model of the source tree)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=None,
        metavar="FILE.jsonl",
        help="corpus file (repeatable; default: every corpus/*.jsonl)",
    )
    parser.add_argument(
        "--no-select",
        action="store_true",
        help="skip the dev-split grid and train the default setting only",
    )
    parser.add_argument(
        "--no-generalisation",
        action="store_true",
        help="skip the train-without-generated-records check",
    )
    parser.add_argument(
        "--rebuild-dictionary",
        action="store_true",
        help="regenerate icp_notify/data/userdict.txt from jieba's dictionary first",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run(args: argparse.Namespace) -> int:
    """Train, export, and print the dev/test metrics."""
    from icp_notify.commands import need_training_extra

    need_training_extra("train")
    from icp_notify import training
    from icp_notify.textmodel import default_model_dir

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    if args.rebuild_dictionary:
        from icp_notify import tokenize as tk

        path = training.build_dictionary()
        tk.dictionary_sha256.cache_clear()
        tk._tokenizer.cache_clear()
        log(f"wrote {path}")
    out = args.out if args.out is not None else default_model_dir()
    grid = training.GRID[:1] if args.no_select else training.GRID
    result = training.train(
        out,
        paths=args.corpus,
        grid=grid,
        generalisation=not args.no_generalisation,
        log=log,
    )
    if args.json:
        print(json.dumps(result.metrics, ensure_ascii=False, indent=1))
    else:
        for split in ("dev", "test"):
            print(f"{split}: {result.metrics[split]}")
        print(f"wrote {out / 'model.json'} and {out / 'model.npz'} in {result.seconds:.1f} s")
    if args.out is None:
        from icp_notify.calibration import default_path
        from icp_notify.combiner import default_path as combiner_path

        log(
            f"the shipped model changed: run `icp-notify calibrate` to refit {combiner_path()} and"
            f" {default_path()} for it (the shipped classifier refuses a combiner or table fitted"
            " for another model)"
        )
    return 0
