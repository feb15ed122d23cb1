"""Batch labelling in worker processes (``--workers N``), rows still in input order.

Chunks of :data:`CHUNK_SIZE` messages travel to the workers as JSON text; each worker labels
with its own :class:`~icp_notify.batch.labeller.Labeller` (the pipeline loaded once, before
forking) and returns the rows' JSON lines.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from collections.abc import Iterator
from typing import Any

from icp_notify.batch.labeller import LabelledLine, Labeller, line_labeller
from icp_notify.batch.rows import LabelledRow, Row, read_error_row
from icp_notify.batch.writers import row_json
from icp_notify.errors import InputError
from icp_notify.models import RawMessage, ReadError

__all__ = ["CHUNK_SIZE", "label_parallel"]

CHUNK_SIZE = 256
"""Messages sent to a worker process at a time."""

_WORKER: dict[str, Any] = {}


def _worker_init(lang: str, now: str | None) -> None:
    pipeline = _WORKER.get("pipeline")  # inherited through fork, else the default
    _WORKER["labeller"] = Labeller(pipeline, lang=lang, now=now)


def _worker_run(chunk: str) -> str:
    """Label one chunk (JSON text of ``[seq, kind, payload]`` items); return JSON lines."""
    label_one = line_labeller(_WORKER["labeller"])
    lines = []
    for seq, kind, payload in json.loads(chunk):
        row: LabelledLine | Row
        if kind == "error":
            row = read_error_row(seq, ReadError.model_validate(payload))
        else:
            row = label_one(seq, RawMessage.model_validate(payload))
        lines.append(row_json(row))
    return "\n".join(lines)


def _chunks(numbered: Iterator[tuple[int, RawMessage | ReadError]]) -> Iterator[str]:
    batch: list[tuple[int, str, Any]] = []
    for seq, item in numbered:
        kind = "error" if isinstance(item, ReadError) else "message"
        batch.append((seq, kind, item.model_dump(mode="json", exclude_defaults=True)))
        if len(batch) >= CHUNK_SIZE:
            yield json.dumps(batch, ensure_ascii=False)
            batch = []
    if batch:
        yield json.dumps(batch, ensure_ascii=False)


def _rows_of(lines: str) -> Iterator[Row]:
    """The rows of a worker's JSON lines, each keeping its line (written as it came)."""
    for line in lines.split("\n"):
        row = LabelledRow(json.loads(line))
        row.json = line
        yield row


_WARM_UP = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def label_parallel(
    numbered: Iterator[tuple[int, RawMessage | ReadError]],
    *,
    workers: int,
    pipeline: Any,
    lang: str,
    now: dt.datetime | str | None,
) -> Iterator[Row]:
    """Label in ``workers`` processes; chunks travel as JSON text, results come back in order.

    Workers return JSON lines (serialised once, in the worker); at most ``4 * workers`` chunks
    are in flight, so memory stays flat on any input size.

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

    Yields
    ------
    dict
        Rows in input order (labelled rows as ``LabelledRow`` with their line).

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
    pool = ctx.Pool(workers, initializer=_worker_init, initargs=(lang, now_text))
    try:
        pending: deque[Any] = deque()
        for chunk in _chunks(numbered):
            pending.append(pool.apply_async(_worker_run, (chunk,)))
            while len(pending) >= 4 * workers:
                yield from _rows_of(pending.popleft().get())
        while pending:
            yield from _rows_of(pending.popleft().get())
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        _WORKER.pop("pipeline", None)
