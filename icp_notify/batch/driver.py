"""The batch driver: read every input, number and de-duplicate messages, label them in order.

Examples
--------
>>> from icp_notify.models import RawMessage
>>> summary = Summary()
>>> msg = RawMessage(text="尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
>>> [row["seq"] for row in label([msg, msg], summary=summary)], summary.duplicates
([0], 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from icp_notify.batch import dedupe as dedupe_module
from icp_notify.batch.dedupe import SeenSet, dedupe_key
from icp_notify.batch.labeller import LabelledLine, Labeller, line_labeller
from icp_notify.batch.rows import Row, Summary, read_error_row
from icp_notify.boundary import coerce_time
from icp_notify.errors import InputError
from icp_notify.models import RawMessage, ReadError

if TYPE_CHECKING:
    from icp_notify.readers.walk import InputFormat

__all__ = ["label", "label_lines", "numbered"]


def _items(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None,
    text_field: str | None,
    split: Literal["line", "blank"],
    include_sent: bool,
) -> Iterator[RawMessage | ReadError]:
    from icp_notify.readers.walk import read_inputs

    for entry in inputs:
        if isinstance(entry, RawMessage | ReadError):
            yield entry
        else:
            yield from read_inputs(
                [entry],
                input_format=input_format,
                text_field=text_field,
                split=split,
                include_sent=include_sent,
            )


def label(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Literal["line", "blank"] | None = None,
    include_sent: bool = False,
    workers: int = 1,
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
    summary: Summary | None = None,
    resume_after: int | None = None,
    dedupe: bool = True,
) -> Iterator[Row]:
    """Label every message of ``inputs``, streaming one row per message in input order.

    Parameters
    ----------
    inputs : iterable
        Paths (files, directories, Maildir folders) and/or ready ``RawMessage`` objects.
    input_format : str, optional
        Force a reader: ``text``, ``jsonl``, ``csv``, ``eml``, ``mbox``, ``maildir``, ``sms-xml``.
    text_field : str, optional
        JSONL/CSV field with the text (default ``text``/``body``/``content``).
    split : {"line", "blank"}, optional
        How plain-text files are cut (default one notice per line).
    include_sent : bool
        Also label sent messages of SMS backups.
    workers : int
        Worker processes (1: in this process). Each loads the pipeline once; rows come back
        in input order, chunk by chunk.
    lang : {"zh", "en"}
        Advice language.
    now : datetime or ISO str, optional
        The clock for the advice (``wait``, deadlines).
    pipeline : Pipeline, optional
        Defaults to ``Pipeline.default()``.
    summary : Summary, optional
        Updated in place as rows stream (and with duplicates, which get no row).
    resume_after : int, optional
        Skip messages with ``seq <= resume_after`` (they are still read, so duplicates are
        still recognised) — what ``--resume`` passes.
    dedupe : bool
        Drop messages with the same sender, time and text as an earlier one
        (:mod:`icp_notify.batch.dedupe` says why this key).

    Yields
    ------
    dict
        Labelled rows (:class:`~icp_notify.batch.rows.LabelledRow`) and error rows.

    Raises
    ------
    InputError
        For an unknown ``lang`` or a malformed ``now`` (checked before reading anything).

    Examples
    --------
    Ready messages work as well as paths; bad input becomes an error row, not an exception:

    >>> from icp_notify.models import RawMessage
    >>> rows = list(label([
    ...     RawMessage(text="尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"),
    ...     RawMessage(text="   "),
    ... ]))
    >>> rows[0]["seq"], rows[0]["classification"]["ambiguous"], rows[0]["advice"]["action"]
    (0, True, 'check_candidates')
    >>> rows[1]["seq"], rows[1]["error"]["code"]
    (1, 'empty')
    """
    for row in label_lines(
        inputs,
        input_format=input_format,
        text_field=text_field,
        split=split,
        include_sent=include_sent,
        workers=workers,
        lang=lang,
        now=now,
        pipeline=pipeline,
        summary=summary,
        resume_after=resume_after,
        dedupe=dedupe,
    ):
        yield row.row() if isinstance(row, LabelledLine) else row


def label_lines(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Literal["line", "blank"] | None = None,
    include_sent: bool = False,
    workers: int = 1,
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
    summary: Summary | None = None,
    resume_after: int | None = None,
    dedupe: bool = True,
) -> Iterator[LabelledLine | Row]:
    """:func:`label` with labelled rows left as :class:`~icp_notify.batch.labeller.LabelledLine`.

    What the CLI writes: each labelled row's JSON line is built once and never parsed back.
    Parameters and errors are those of :func:`label`.

    Parameters
    ----------
    inputs, input_format, text_field, split, include_sent, workers, lang, now, pipeline, \
summary, resume_after, dedupe
        As for :func:`label`.

    Yields
    ------
    LabelledLine or dict
        Labelled rows (a row of a worker process comes back as a ``LabelledRow``) and error
        rows.

    Examples
    --------
    >>> from icp_notify.models import RawMessage
    >>> [line] = label_lines([RawMessage(text="您的备案信息已被变更，请咨询接入服务提供商。")])
    >>> line.json.startswith('{"seq": 0, "source": null, "notice": {')
    True
    """
    if lang not in ("zh", "en"):
        raise InputError(
            "invalid_field", f"unknown language {lang!r}", where="lang", hint="use zh or en"
        )
    now = coerce_time(now, field="now")
    if summary is not None and resume_after is not None:
        summary.resumed_after = resume_after
    items = _items(
        inputs,
        input_format=input_format,
        text_field=text_field,
        split=split or "line",
        include_sent=include_sent,
    )
    messages = numbered(items, summary=summary, resume_after=resume_after, dedupe=dedupe)
    rows: Iterator[LabelledLine | Row]
    labeller: Labeller | None = None
    if workers > 1:
        from icp_notify.batch.workers import label_parallel

        # files may be read in a process of their own; a caller's iterable stays here
        paths = isinstance(inputs, list | tuple) and all(isinstance(i, str | Path) for i in inputs)
        rows = label_parallel(
            messages,
            workers=workers,
            pipeline=pipeline,
            lang=lang,
            now=now,
            summary=summary,
            read_apart=paths,
        )
    else:
        labeller = Labeller(pipeline, lang=lang, now=now)
        label_one = line_labeller(labeller)
        rows = (
            read_error_row(seq, item) if isinstance(item, ReadError) else label_one(seq, item)
            for seq, item in messages
        )
    for row in rows:
        if summary is not None:
            if isinstance(row, LabelledLine):
                summary.add_labelled(row.situation, row.urgency)
            else:
                summary.add(row)
        yield row
    if summary is not None and labeller is not None:
        summary.cache_hits += labeller.cache_hits


def numbered(
    items: Iterable[RawMessage | ReadError],
    *,
    summary: Summary | None,
    resume_after: int | None,
    dedupe: bool,
) -> Iterator[tuple[int, RawMessage | ReadError]]:
    """Number the items (``seq``), dropping duplicates and what ``--resume`` skips.

    Parameters
    ----------
    items : iterable of RawMessage or ReadError
        What the readers yield, in order.
    summary : Summary, optional
        Counts the duplicates.
    resume_after : int, optional
        Items with ``seq <= resume_after`` are read (for duplicates) but not yielded.
    dedupe : bool
        Drop messages whose :func:`~icp_notify.batch.dedupe.dedupe_key` was seen before.

    Yields
    ------
    (int, RawMessage or ReadError)

    Examples
    --------
    >>> from icp_notify.models import RawMessage
    >>> a, b = RawMessage(text="x"), RawMessage(text="y")
    >>> [seq for seq, _ in numbered([a, b, a], summary=None, resume_after=0, dedupe=True)]
    [1]
    """
    seen = SeenSet(dedupe_module.SEEN_MEMORY_KEYS)
    try:
        for seq, item in enumerate(items):
            duplicate = False
            if dedupe and isinstance(item, RawMessage):
                duplicate = not seen.add(dedupe_key(item))
            if resume_after is not None and seq <= resume_after:
                continue
            if duplicate:
                if summary is not None:
                    summary.read += 1
                    summary.duplicates += 1
                continue
            yield seq, item
    finally:
        seen.close()
