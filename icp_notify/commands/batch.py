"""``icp-notify batch``: label archived notices into JSONL or CSV.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_arguments(p)
>>> p.parse_args(["inbox.mbox", "-o", "out.jsonl", "--workers", "2"]).workers
2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Literal, TextIO

FORMATS = ("text", "jsonl", "csv", "eml", "mbox", "maildir", "sms-xml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify batch``."""
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files, directories or Maildir folders"
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default=None,
        help="output format (default: from OUT's suffix, else jsonl)",
    )
    parser.add_argument(
        "--input-format", choices=FORMATS, default=None, help="force one reader for every input"
    )
    parser.add_argument(
        "--text-field",
        default=None,
        help="JSONL/CSV field with the text (default text/body/content)",
    )
    parser.add_argument(
        "--split",
        choices=("line", "blank"),
        default="line",
        help="plain text: one notice per line, or blank-line separated",
    )
    parser.add_argument(
        "--include-sent", action="store_true", help="also label sent messages of SMS backups"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="advice language")
    parser.add_argument(
        "--now", default=None, metavar="ISO", help="the clock the advice is computed against"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue after the last row already in OUT"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar even on a terminal"
    )


class Progress:
    """A one-line progress bar on a terminal: rows, rate, and ETA from the bytes read.

    Silent when ``stream`` is not a terminal.

    Parameters
    ----------
    stream : text stream
        Where to draw (``sys.stderr``).
    total_bytes : int
        The size of all inputs, for the ETA (0 when unknown).
    enabled : bool
        ``False`` turns the bar off (``--no-progress``).
    """

    def __init__(self, stream: TextIO, total_bytes: int, *, enabled: bool) -> None:
        self.stream = stream
        self.total = total_bytes
        self.enabled = enabled and stream.isatty()
        self.start = time.monotonic()
        self.last = 0.0
        self.rows = 0
        self.done_bytes = 0
        self._file: str | None = None
        self._file_bytes = 0

    def update(self, row: Any) -> None:
        """Count a row and redraw at most ten times a second.

        Parameters
        ----------
        row : dict or labelled line
            The row just produced (its ``source`` tells the file and offset).
        """
        self.rows += 1
        if not self.enabled:
            return
        source = (row.get("source") if isinstance(row, dict) else row.source) or {}
        file = source.get("file")
        if file != self._file:
            self.done_bytes += self._file_bytes
            self._file = file
            try:
                self._file_bytes = os.path.getsize(file) if file and os.path.isfile(file) else 0
            except OSError:
                self._file_bytes = 0
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self.draw(source.get("offset"))

    def draw(self, offset: int | None = None, final: bool = False) -> None:
        """Write the bar.

        Parameters
        ----------
        offset : int, optional
            Bytes read of the current file.
        final : bool, default False
            The last draw (no ETA).
        """
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.rows / elapsed
        done = self.done_bytes + (offset or 0)
        eta = ""
        if self.total and done and not final:
            remaining = max(self.total - done, 0) * elapsed / done
            eta = f", ETA {int(remaining) // 60}:{int(remaining) % 60:02d}"
            pct = f"{100 * min(done / self.total, 1):3.0f}% "
        else:
            pct = ""
        self.stream.write(f"\r{pct}{self.rows} rows, {rate:,.0f}/s{eta}   ")
        if final:
            self.stream.write("\n")
        self.stream.flush()


def _total_bytes(inputs: list[str]) -> int:
    total = 0
    for path in inputs:
        if os.path.isfile(path):
            total += os.path.getsize(path)
        elif os.path.isdir(path):
            for dirpath, _dirs, files in os.walk(path):
                for name in files:
                    with contextlib.suppress(OSError):
                        total += os.path.getsize(os.path.join(dirpath, name))
    return total


def run(args: argparse.Namespace) -> int:
    """Label the inputs; exit 0 when every input was read, 1 when one could not be opened."""
    from icp_notify.batch import CSV_COLUMNS, Summary, label_lines, last_seq, write_rows

    out_path: str | None = args.output
    fmt: Literal["jsonl", "csv"] = args.format or (
        "csv" if out_path and out_path.lower().endswith(".csv") else "jsonl"
    )
    if args.workers < 1:
        print("icp-notify batch: error: --workers must be at least 1", file=sys.stderr)
        return 2
    resume_after = None
    if args.resume:
        if out_path is None:
            print("icp-notify batch: error: --resume needs -o OUT", file=sys.stderr)
            return 2
        resume_after = last_seq(out_path, fmt)
    summary = Summary()
    rows = label_lines(
        args.inputs,
        input_format=args.input_format,
        text_field=args.text_field,
        split=args.split,
        include_sent=args.include_sent,
        workers=args.workers,
        lang=args.lang,
        now=args.now,
        summary=summary,
        resume_after=resume_after,
    )
    progress = Progress(sys.stderr, _total_bytes(args.inputs), enabled=not args.no_progress)
    appending = resume_after is not None or (
        args.resume and out_path is not None and os.path.exists(out_path)
    )
    out: TextIO
    if out_path is None:
        out = sys.stdout
    else:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        # a 1 MiB buffer: one write(2) per ~250 rows, not per two; Ctrl-C flushes whole rows
        # and --resume cuts a torn last line of a killed run
        out = open(  # noqa: SIM115
            out_path,
            "a" if appending else "w",
            encoding="utf-8",
            newline="",
            buffering=1 << 20,
        )
    last: int | None = resume_after
    try:
        if fmt == "csv" and not appending:
            import csv

            csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
        for row in write_rows(rows, out, fmt):
            last = row["seq"] if isinstance(row, dict) else row.seq
            progress.update(row)
    except KeyboardInterrupt:
        out.flush()
        progress.draw(final=True)
        where = f"after row seq {last}" if last is not None else "before the first row"
        target = out_path or "stdout"
        print(
            f"icp-notify batch: interrupted {where}; {target} holds every row written so far"
            + (f" — rerun with --resume -o {out_path} to continue" if out_path else ""),
            file=sys.stderr,
        )
        print(summary.format(), file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `icp-notify batch … | head`: the reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        with contextlib.suppress(BrokenPipeError):
            out.flush()
        if out is not sys.stdout:
            out.close()
    progress.draw(final=True)
    if out_path is not None:
        summary.files_written.append(out_path)
    print(summary.format(), file=sys.stderr)
    if summary.unopened:
        print(
            f"icp-notify batch: {summary.unopened} input(s) could not be opened (see the error rows)",
            file=sys.stderr,
        )
        return 1
    return 0
