"""Batch labelling in worker processes (``--workers N``), rows still in input order.

Chunks of :data:`CHUNK_SIZE` messages travel to the workers as bytes, one line per message:
``seq``, a kind letter and the message's JSON as pydantic writes it (``model_dump_json``, read
back with ``model_validate_json``: one C call each way; a text pydantic cannot write as UTF-8,
with a lone surrogate, goes as ``json.dumps`` of its ``model_dump`` instead). Each worker labels
with its own :class:`~icp_notify.batch.labeller.Labeller` (the pipeline loaded once, before
forking, and shared copy-on-write) and returns the rows' JSON lines encoded as UTF-8, so the
parent passes them to the output file without decoding and encoding them again
(:func:`~icp_notify.batch.writers.write_rows`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import deque
from collections.abc import Generator, Iterator
from typing import Any

from pydantic_core import PydanticSerializationError

from icp_notify.batch.labeller import LabelledLine, Labeller, line_labeller
from icp_notify.batch.rows import LabelledRow, Row, Summary, read_error_row
from icp_notify.batch.writers import row_json
from icp_notify.errors import InputError
from icp_notify.models import RawMessage, ReadError, Report

__all__ = ["CHUNK_SIZE", "WorkerLine", "label_parallel"]

CHUNK_SIZE = 256
"""Messages sent to a worker process at a time."""

_WORKER: dict[str, Any] = {}


def _worker_init(lang: str, now: str | None) -> None:
    pipeline = _WORKER.get("pipeline")  # inherited through fork, else the default
    _WORKER["labeller"] = Labeller(pipeline, lang=lang, now=now)


def _worker_run(chunk: bytes) -> bytes:
    """Label one chunk (lines of :func:`_item_line`).

    Returns one line of JSON, ``[[seq, situation, urgency, utf8, size] or [seq, utf8, size],
    ...]`` (what the summary counts; ``utf8`` is 0 for a line with a lone surrogate, sent with
    ``surrogatepass``; ``size`` the line's length in bytes, so the parent cuts the lines without
    scanning them), then the rows' JSON lines, as UTF-8, each after a newline.
    """
    labeller = _WORKER["labeller"]
    label_one = line_labeller(labeller)
    # the repeats of cached notices are labelled from their JSON without building the message
    by_payload = label_one == labeller.label_line
    heads: list[list[Any]] = []
    lines: list[bytes] = []
    for item in chunk.split(b"\n"):
        seq_text, kind, payload = item.split(b" ", 2)
        seq = int(seq_text)
        row: LabelledLine | Row
        if kind in _ERRORS:
            error = (
                ReadError.model_validate_json(payload)
                if kind == _ERROR
                else ReadError.model_validate(json.loads(payload))
            )
            row = read_error_row(seq, error)
        elif kind == _MESSAGE and by_payload:
            row = labeller.label_payload(seq, payload)
        else:
            msg = (
                RawMessage.model_validate_json(payload)
                if kind == _MESSAGE
                else RawMessage.model_validate(json.loads(payload))
            )
            row = label_one(seq, msg)
        raw = getattr(row, "raw", None)
        utf8 = 1
        if raw is None:
            text = row_json(row)
            try:
                raw = text.encode()
            except UnicodeEncodeError:  # a lone surrogate: kept exactly, written as text
                raw = text.encode("utf-8", "surrogatepass")
                utf8 = 0
        lines.append(raw)
        if isinstance(row, LabelledLine):
            heads.append([seq, row.situation, row.urgency, utf8, len(raw)])
        else:
            heads.append([seq, utf8, len(raw)])
    return b"\n".join([json.dumps(heads).encode(), *lines])


_MESSAGE, _ERROR = b"m", b"e"
"""Kinds of a chunk line whose item pydantic wrote (upper case: ``json.dumps`` wrote it)."""
_ERRORS = frozenset({_ERROR, _ERROR.upper()})


def _item_line(seq: int, item: RawMessage | ReadError) -> bytes:
    """One chunk line: ``seq``, the kind, the item's JSON (JSON text holds no newline)."""
    kind = _ERROR if isinstance(item, ReadError) else _MESSAGE
    try:
        payload = type(item).__pydantic_serializer__.to_json(item, exclude_defaults=True)
    except PydanticSerializationError:  # a lone surrogate is not UTF-8: json.dumps escapes it
        payload = json.dumps(item.model_dump(mode="json", exclude_defaults=True)).encode()
        kind = kind.upper()
    return b"%d %s %s" % (seq, kind, payload)


def _chunks(numbered: Iterator[tuple[int, RawMessage | ReadError]]) -> Generator[bytes, None, None]:
    batch: list[bytes] = []
    for seq, item in numbered:
        batch.append(_item_line(seq, item))
        if len(batch) >= CHUNK_SIZE:
            yield b"\n".join(batch)
            batch = []
    if batch:
        yield b"\n".join(batch)


_SOURCE_AT = re.compile(r'\{"seq": -?[0-9]+, "source": ')
"""How a row's JSON line begins (:func:`~icp_notify.batch.writers.row_json`): its ``source``
value starts where this match ends."""
_DECODER = json.JSONDecoder()


class WorkerLine(LabelledLine):
    """A labelled row from a worker process: its JSON line as UTF-8 and what the summary counts.

    Nothing is decoded or parsed in this process unless asked (:attr:`json`, :meth:`row`,
    :attr:`report`, :attr:`source`): :func:`~icp_notify.batch.writers.write_rows` writes
    :attr:`raw` to a UTF-8 file as it came.

    Parameters
    ----------
    seq : int
        The row's ``seq``.
    line : bytes
        The row's JSON line, UTF-8 (``surrogatepass`` when ``utf8`` is false).
    situation, urgency : str
        As :attr:`LabelledLine.situation` and :attr:`LabelledLine.urgency` give them.
    utf8 : bool
        Whether ``line`` is valid UTF-8 (false when the row holds a lone surrogate).

    Examples
    --------
    >>> w = WorkerLine(3, b'{"seq": 3, "source": null}', "other", "info")
    >>> w.situation, w.urgency, w.source is None, w.json
    ('other', 'info', True, '{"seq": 3, "source": null}')
    """

    __slots__ = ("_counts",)

    def __init__(
        self, seq: int, line: bytes, situation: str, urgency: str, utf8: bool = True
    ) -> None:
        self.seq = seq
        if utf8:
            self.raw, self._json = line, None
        else:  # a lone surrogate: kept as text, written by the text layer
            self.raw, self._json = None, line.decode("utf-8", "surrogatepass")
        self._counts = (situation, urgency)

    @property
    def report(self) -> Report:
        """The row's report, validated from its line."""
        data = json.loads(self.json)
        return Report.model_validate({k: v for k, v in data.items() if k not in ("seq", "source")})

    @property
    def source(self) -> dict[str, Any] | None:
        """The row's ``source``, decoded alone where the line begins with ``seq`` and ``source``
        (as every row does: the progress bar reads it for each row, and the rest of the line,
        a hundred times longer, is not parsed); otherwise from the whole line."""
        text = self.json
        head = _SOURCE_AT.match(text)
        if head is not None:
            try:
                value, _ = _DECODER.raw_decode(text, head.end())
            except ValueError:
                pass
            else:
                if value is None or isinstance(value, dict):
                    return value
        source: dict[str, Any] | None = json.loads(text)["source"]
        return source

    @property
    def situation(self) -> str:
        """The situation as the summary counts it (``ambiguous`` when undecided)."""
        return self._counts[0]

    @property
    def urgency(self) -> str:
        """The advice's urgency."""
        return self._counts[1]


def _rows_of(data: bytes) -> Iterator[WorkerLine | Row]:
    """The rows of a worker's answer (see :func:`_worker_run`), in order."""
    start = data.index(b"\n") + 1
    for counts in json.loads(data[: start - 1]):
        end = start + counts[-1]
        line = data[start:end]
        start = end + 1
        if len(counts) == 5:
            yield WorkerLine(counts[0], line, counts[1], counts[2], bool(counts[3]))
        else:  # an error row: a dict, as the summary and the CSV writer read it
            text = line.decode("utf-8", "surrogatepass")
            row = LabelledRow(json.loads(text))
            row.json = text
            yield row


_WARM_UP = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def label_parallel(
    numbered: Iterator[tuple[int, RawMessage | ReadError]],
    *,
    workers: int,
    pipeline: Any,
    lang: str,
    now: dt.datetime | str | None,
    summary: Summary | None = None,
    read_apart: bool = False,
) -> Iterator[WorkerLine | Row]:
    """Label in ``workers`` processes; chunks travel as bytes, results come back in order.

    With ``read_apart``, where processes are forked, one more process reads the inputs
    (``numbered``: reading, numbering, duplicates) and makes the chunks, so this process only
    hands them on and writes what the workers return: reading costs as much as labelling a
    repeat, and in this process it would bound the whole run to one core. Workers return JSON
    lines (serialised once, in the worker); at most ``4 * workers`` chunks are in flight and
    the reader waits for this process, so memory stays flat on any input size.

    Parameters
    ----------
    numbered : iterator of (int, RawMessage or ReadError)
        The numbered messages (:func:`~icp_notify.batch.driver.numbered`).
    workers : int
        Worker processes.
    pipeline : Pipeline, optional
        Loaded once before forking and shared; a custom one needs the fork start method.
    lang : {"zh", "en"}
        Advice language.
    now : datetime or ISO str, optional
        The clock for the advice.
    summary : Summary, optional
        The summary ``numbered`` counts duplicates into; with a reader process, its counts
        are sent to this process with each chunk.
    read_apart : bool
        Whether ``numbered`` may run in a process of its own: only when it reads files
        (:func:`~icp_notify.batch.label_lines` with paths only); a caller's own iterable is
        read in the caller's process, where its state and errors are.

    Yields
    ------
    WorkerLine or dict
        Rows in input order: labelled rows as :class:`WorkerLine`, error rows as dicts.

    Raises
    ------
    InputError
        When a custom ``pipeline`` is given where processes cannot be forked.
    """
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        # load and warm the pipeline once, before forking: the workers share it copy-on-write
        # instead of each loading the model, rules and tokenizer dictionary again
        if pipeline is None:
            from icp_notify.pipeline import Pipeline

            pipeline = Pipeline.default()
        Labeller(pipeline, lang=lang, now=now).label_message(0, RawMessage(text=_WARM_UP))
        _WORKER["pipeline"] = pipeline
    elif pipeline is not None:
        raise InputError(
            "unsupported", "a custom pipeline needs the fork start method", hint="use workers=1"
        )
    ctx = multiprocessing.get_context(method)
    now_text = now.isoformat() if isinstance(now, dt.datetime) else now
    reader = None
    chunks: Iterator[bytes]
    if read_apart and method == "fork":  # the reader first: forked before the pool's threads
        forking = multiprocessing.get_context("fork")
        receiving, sending = forking.Pipe(duplex=False)
        reader = forking.Process(
            target=_read_chunks, args=(numbered, sending, summary), name="icp-notify-reader"
        )
        reader.start()
        sending.close()
        chunks = _received_chunks(receiving, summary)
    else:
        chunks = _chunks(numbered)
    pool = None
    try:
        pool = ctx.Pool(workers, initializer=_worker_init, initargs=(lang, now_text))
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_worker_run, (chunk,)))
            while len(pending) >= 4 * workers:
                yield from _rows_of(pending.popleft().get())
        while pending:
            yield from _rows_of(pending.popleft().get())
        pool.close()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if reader is not None:
            if reader.is_alive():
                reader.terminate()  # SIGTERM: it unwinds, removing the seen-set's file
            reader.join()
        _WORKER.pop("pipeline", None)


def _counts(summary: Summary | None) -> tuple[int, int]:
    return (0, 0) if summary is None else (summary.read, summary.duplicates)


def _read_chunks(
    numbered: Iterator[tuple[int, RawMessage | ReadError]],
    sending: Any,
    summary: Summary | None,
) -> None:
    """The reader process: chunks to ``sending``, each after a line of the summary's new counts
    (``read duplicates``, what ``numbered`` counted since the last chunk); ``END`` and the last
    counts when done, ``ERR`` and the error if reading failed."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwind: the generators' finally
    last = _counts(summary)
    chunks = _chunks(numbered)
    try:
        for chunk in chunks:
            counts = _counts(summary)
            sending.send_bytes(b"%d %d\n%s" % (counts[0] - last[0], counts[1] - last[1], chunk))
            last = counts
        counts = _counts(summary)
        sending.send_bytes(b"END %d %d\n" % (counts[0] - last[0], counts[1] - last[1]))
    except Exception as exc:  # e.g. a disk error: the main process raises it
        sending.send_bytes(b"ERR\n" + f"{type(exc).__name__}: {exc}".encode())
    finally:
        # stopped early (SIGTERM): close the generators now, so numbered's seen-set removes
        # its temporary file before the process exits
        chunks.close()
        close = getattr(numbered, "close", None)
        if close is not None:
            close()
        sending.close()


def _received_chunks(receiving: Any, summary: Summary | None) -> Iterator[bytes]:
    """The reader's chunks, its counts added to ``summary`` as they arrive."""
    try:
        while True:
            head, _, chunk = receiving.recv_bytes().partition(b"\n")
            if head == b"ERR":
                raise RuntimeError(f"reading the inputs failed: {chunk.decode()}")
            fields = head.split()
            if summary is not None:
                summary.read += int(fields[-2])
                summary.duplicates += int(fields[-1])
            if fields[0] == b"END":
                return
            yield chunk
    finally:
        receiving.close()
