"""``icp-notify calibrate``: measure the shipped classifier by leave-one-writer-out and write its
learned combiner (``icp_notify/data/combiner.json``, :mod:`icp_notify.combiner`) and calibration
table (``icp_notify/data/calibration.json``, :mod:`icp_notify.calibration`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify calibrate``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where the table goes (default: icp_notify/data/calibration.json)",
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
        "--combiner-out",
        type=Path,
        default=None,
        help="where the combiner goes (default: icp_notify/data/combiner.json)",
    )
    parser.add_argument(
        "--no-combiner",
        action="store_true",
        help="keep the hand-written policy: fit no combiner (and remove the shipped one)",
    )
    parser.add_argument("--report", type=Path, default=None, help="also write an HTML report here")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="selective threshold: decided answers calibrated below it become ambiguous"
        " (default: icp_notify.calibration.DEFAULT_THRESHOLD)",
    )


def run(args: argparse.Namespace) -> int:
    """Run leave-one-writer-out (each writer answered by a combiner fitted without it), fit the
    combiner on every independent writer's out-of-fold answers and the table on every writer's
    answers, write both, and print the leave-one-writer-out table (as ``icp-notify eval --by
    writer``)."""
    from icp_notify.calibration import DEFAULT_THRESHOLD, default_path, fit_table
    from icp_notify.combiner import COMBINER_C, fit_combiner
    from icp_notify.combiner import default_path as combiner_path
    from icp_notify.commands import need_training_extra
    from icp_notify.commands.evaluate import render_html, render_text, render_writers, writer_rows
    from icp_notify.crossval import (
        calibration_samples,
        combiner_samples,
        independent,
        leave_one_writer_out,
    )
    from icp_notify.errors import InputError
    from icp_notify.textmodel import default_model

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        raise InputError("invalid_option", "must lie in [0, 1]", where="--threshold")
    need_training_extra("calibrate")
    version = default_model().version

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    combine = not args.no_combiner
    folds, pooled = leave_one_writer_out(args.corpus, threshold=threshold, combine=combine, log=log)
    where = args.combiner_out if args.combiner_out is not None else combiner_path()
    if combine:
        samples = combiner_samples(folds)
        combiner = fit_combiner(
            samples,
            model_version=version,
            c=COMBINER_C,
            measured={"writers": sorted(f.writer for f in folds if independent(f.writer))},
        )
        where.write_text(
            json.dumps(combiner.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        log(f"wrote {where} (model {version}, {len(samples)} out-of-fold answers)")
    elif args.combiner_out is None and where.exists():
        where.unlink()
        log(f"removed {where}: the hand-written policy decides")
    table = fit_table(calibration_samples(folds), model_version=version, threshold=threshold)
    table = table.model_copy(
        update={
            "measured": {
                **table.measured,
                "writers": [f.writer for f in folds],
                "leave_one_writer_out": {
                    k: pooled[k] for k in ("macro_f1", "explicit_change_recall", "ece", "coverage")
                }
                | {"confident_errors": len(pooled["confident_errors"])},
            }
        }
    )
    out = args.out if args.out is not None else default_path()
    out.write_text(
        json.dumps(table.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    log(f"wrote {out} (model {version}, {table.measured['answers']} answers)")
    rows = writer_rows(folds)
    pooled["evaluated"] = "full classifier, leave-one-writer-out (nested calibration)"
    pooled["split"] = "all"
    print(render_writers(rows))
    print()
    print(render_text(pooled))
    if args.report is not None:
        args.report.write_text(render_html(pooled, writers=rows), encoding="utf-8")
    return 0
