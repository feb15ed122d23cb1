"""Dump every output icp_notify produces for a fixed set of inputs, to prove a refactor changes nothing.

Speed work must not change a single result. Run this before and after a change and compare::

    .venv/bin/python bench/golden.py /tmp/before.jsonl
    # ... change the code ...
    .venv/bin/python bench/golden.py /tmp/after.jsonl
    cmp /tmp/before.jsonl /tmp/after.jsonl && echo identical

Archive paths are written relative to the checkout's root, so the dumps of two checkouts (e.g. a
``git worktree`` of the base commit and the working tree) compare equal.

What it writes, one JSON line per case, in a fixed order:

* ``Report.model_dump_json()`` of ``icp_notify.analyze`` for every record of ``corpus/*.jsonl`` and
  ``corpus/holdout/*.jsonl`` — with the record's channel, sender, received_at and context, and
  again from the text alone; in Chinese, and in English for every fifth record — all at a fixed
  ``now``;
* ``Classification`` of ``icp_notify.classify`` for the same texts (text alone);
* the rows of ``icp_notify.batch.label`` over every archive fixture in ``tests/fixtures/archives``,
  and what ``icp-notify batch`` writes for them as JSONL and as CSV.

Nothing here is a test; ``tests/`` pin behaviour case by case, this pins all of it at once.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = "2026-01-15T12:00:00+08:00"


def _records() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")) + sorted(
        (ROOT / "corpus" / "holdout").glob("*.jsonl")
    ):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def main(argv: list[str]) -> int:
    """Write the dump to ``argv[0]``; return 0."""
    import icp_notify
    from icp_notify.batch import label
    from icp_notify.errors import InputError

    out_path = Path(argv[0]).resolve()
    with out_path.open("w", encoding="utf-8") as out:
        for i, rec in enumerate(_records()):
            text = str(rec["text"])
            calls: list[dict[str, object]] = [
                {
                    "channel": rec.get("channel"),
                    "sender": rec.get("sender"),
                    "received_at": rec.get("received_at"),
                    "context": rec.get("context"),
                },
                {},
            ]
            for kwargs in calls:
                for lang in ("zh", "en") if i % 5 == 0 else ("zh",):
                    try:
                        report = icp_notify.analyze(text, now=NOW, lang=lang, **kwargs)  # type: ignore[arg-type]
                        out.write(report.model_dump_json() + "\n")
                    except InputError as exc:
                        out.write(json.dumps({"error": exc.code, "message": str(exc)}) + "\n")
            try:
                out.write(icp_notify.classify(text).model_dump_json() + "\n")
            except InputError as exc:
                out.write(json.dumps({"error": exc.code}) + "\n")
        # relative paths (from the checkout's root), so dumps of two checkouts compare equal
        os.chdir(ROOT)
        archives = sorted(Path("tests", "fixtures", "archives").iterdir())
        for path in archives:
            for row in label([path], now=NOW):
                out.write(
                    json.dumps(
                        row if isinstance(row, dict) else row.model_dump(mode="json"),
                        ensure_ascii=False,
                        sort_keys=True,
                        default=str,
                    )
                    + "\n"
                )
        # the CLI's writers (JSONL and CSV) over the same archives
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("jsonl", "csv"):
                target = Path(tmp) / f"out.{fmt}"
                subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        "import sys; from icp_notify.cli import main; sys.exit(main())",
                        "batch",
                        *map(str, archives),
                        "-o",
                        str(target),
                        "--format",
                        fmt,
                        "--now",
                        NOW,
                    ],
                    check=False,
                    capture_output=True,
                )
                out.write(target.read_text(encoding="utf-8"))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["golden.jsonl"]))
