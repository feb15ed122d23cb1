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
import io
import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

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
    """A one-line :mod:`tqdm` progress bar on a terminal: bytes read (percentage and ETA), rows
    and their rate.

    Silent when ``stream`` is not a terminal (or ``enabled`` is false): then :mod:`tqdm` is not
    even imported. The bar advances by the bytes read (each row's ``source`` names its file and
    byte offset), so the ETA holds for inputs of any row size; the rows and rows per second
    are shown after it.

    Parameters
    ----------
    stream : text stream
        Where to draw (``sys.stderr``).
    total_bytes : int
        The size of all inputs, for the percentage and ETA (0 when unknown: no ETA).
    enabled : bool
        ``False`` turns the bar off (``--no-progress``).
    interval : float, default 0.1
        Seconds between redraws.

    Examples
    --------
    >>> import io
    >>> p = Progress(io.StringIO(), 1000, enabled=True)  # not a terminal: silent
    >>> p.update({"source": {"file": "in.txt", "offset": 10}}); p.close()
    >>> p.enabled, p.rows
    (False, 1)
    """

    def __init__(
        self, stream: TextIO, total_bytes: int, *, enabled: bool, interval: float = 0.1
    ) -> None:
        self.stream = stream
        self.total = total_bytes
        self.enabled = enabled and stream.isatty()
        self.interval = interval
        self.last = 0.0
        self.rows = 0
        self.done_bytes = 0
        self._file: str | None = None
        self._file_bytes = 0
        self._offset = 0
        self._bar: Any = None
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_bytes or None,
                file=stream,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                mininterval=interval,
                dynamic_ncols=True,
                leave=True,
            )

    def update(self, row: Any) -> None:
        """Count a row and redraw at most every ``interval`` seconds.

        Parameters
        ----------
        row : dict or labelled line
            The row just produced (its ``source`` tells the file and offset).
        """
        self.rows += 1
        if self._bar is None:
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
        self._offset = source.get("offset") or 0
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._draw()

    def _draw(self) -> None:
        """Move the bar to the bytes read so far and show the rows."""
        bar = self._bar
        done = self.done_bytes + self._offset
        if self.total:
            done = min(done, self.total)
        elapsed = bar.format_dict["elapsed"]
        rate = self.rows / elapsed if elapsed > 0 else 0.0
        bar.set_postfix_str(f"{self.rows:,} rows, {rate:,.0f} rows/s", refresh=False)
        bar.n = max(done, bar.n)
        bar.refresh()

    def close(self, *, complete: bool = True) -> None:
        """Draw the last state and end the line (nothing when silent).

        Parameters
        ----------
        complete : bool, default True
            Every input was read to its end (``False`` when interrupted: the bar stays where
            the last row was).
        """
        if self._bar is None:
            return
        if complete and self._file is not None:  # the last file was read to its end
            self.done_bytes += self._file_bytes
            self._file = None
            self._file_bytes = self._offset = 0
        self._draw()
        self._bar.close()
        self._bar = None


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
    from icp_notify.boundary import coerce_time

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
        now=coerce_time(args.now, field="--now"),
        summary=summary,
        resume_after=resume_after,
    )
    progress = Progress(sys.stderr, _total_bytes(args.inputs), enabled=not args.no_progress)
    appending = resume_after is not None or (
        args.resume and out_path is not None and os.path.exists(out_path)
    )
    out: TextIO
    binary: BinaryIO | None = None
    if out_path is None:
        out = sys.stdout
        reconfigure = getattr(out, "reconfigure", None)
        if reconfigure is not None:  # a lone surrogate is written as its JSON escape \udXXX
            with contextlib.suppress(ValueError):
                reconfigure(errors="backslashreplace")
    else:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        # a 1 MiB buffer: one write(2) per ~250 rows, not per two; Ctrl-C flushes whole rows
        # and --resume cuts a torn last line of a killed run. Write-through text over it, so
        # rows that arrive as UTF-8 (from workers) go to the buffer directly, in order. A lone
        # surrogate (from a JSON escape in the input) is written as its JSON escape \udXXX.
        binary = open(out_path, "ab" if appending else "wb", buffering=1 << 20)  # noqa: SIM115
        out = io.TextIOWrapper(
            binary, encoding="utf-8", errors="backslashreplace", newline="", write_through=True
        )
    last: int | None = resume_after
    try:
        if fmt == "csv" and not appending:
            import csv

            csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
        for row in write_rows(rows, out, fmt, binary=binary):
            last = row["seq"] if isinstance(row, dict) else row.seq
            progress.update(row)
    except KeyboardInterrupt:
        out.flush()
        progress.close(complete=False)
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
    progress.close()
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
