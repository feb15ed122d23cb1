"""Batch output rows: labelled rows, error rows and the run's :class:`Summary`.

Examples
--------
>>> from icp_notify.models import ReadError, SourceRef
>>> e = ReadError(code="empty", message="blank line", source=SourceRef(file="a.txt", line=2))
>>> error_row(0, e, e.code, e.message)["source"]
{'file': 'a.txt', 'line': 2}
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from icp_notify.models import Advice, RawMessage, ReadError, Report, SourceRef

__all__ = [
    "LabelledLine",
    "LabelledRow",
    "Row",
    "Summary",
    "error_row",
    "row_source",
    "source_forms",
]

Row = dict[str, Any]
"""One output row (a JSON object): a labelled report or an error, with ``seq`` and ``source``."""


class Summary(BaseModel):
    """Counts of one batch run (``read = labelled + errors + duplicates``).

    Examples
    --------
    >>> s = Summary()
    >>> s.add({"seq": 0, "error": {"code": "bad_row", "message": "..."}})
    >>> s.read, s.errors, s.consistent
    (1, {'bad_row': 1}, True)
    """

    read: int = 0
    labelled: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    duplicates: int = 0
    situations: dict[str, int] = Field(
        default_factory=dict, description="'ambiguous' when undecided"
    )
    urgencies: dict[str, int] = Field(default_factory=dict)
    files_written: list[str] = Field(default_factory=list)
    resumed_after: int | None = Field(
        default=None, description="seq of the last row of an earlier run"
    )
    cache_hits: int = 0

    @property
    def error_count(self) -> int:
        """Total error rows."""
        return sum(self.errors.values())

    @property
    def consistent(self) -> bool:
        """Whether ``read == labelled + errors + duplicates``."""
        return self.read == self.labelled + self.error_count + self.duplicates

    @property
    def unopened(self) -> int:
        """Inputs that could not be opened at all (``not_found`` / ``unreadable`` errors)."""
        return self.errors.get("not_found", 0) + self.errors.get("unreadable", 0)

    def add(self, row: Row) -> None:
        """Count one output row.

        Parameters
        ----------
        row : dict
            A labelled row or an error row from :func:`~icp_notify.batch.label`.

        Examples
        --------
        >>> s = Summary()
        >>> s.add({"seq": 0, "classification": {"situation": None}, "advice": {"urgency": "high"}})
        >>> s.situations, s.urgencies
        ({'ambiguous': 1}, {'high': 1})
        """
        error = row.get("error")
        if error is not None:
            self.read += 1
            code = str(error.get("code", "error"))
            self.errors[code] = self.errors.get(code, 0) + 1
            return
        self.add_labelled(
            row["classification"]["situation"] or "ambiguous", row["advice"]["urgency"]
        )

    def add_labelled(self, situation: str, urgency: str) -> None:
        """Count one labelled row by its situation (``ambiguous`` when undecided) and urgency.

        Parameters
        ----------
        situation : str
            The row's situation, or ``"ambiguous"``.
        urgency : str
            The advice's urgency.

        Examples
        --------
        >>> s = Summary()
        >>> s.add_labelled("new_domain", "normal")
        >>> s.read, s.labelled, s.situations
        (1, 1, {'new_domain': 1})
        """
        self.read += 1
        self.labelled += 1
        self.situations[situation] = self.situations.get(situation, 0) + 1
        self.urgencies[urgency] = self.urgencies.get(urgency, 0) + 1

    def format(self) -> str:
        """A few human-readable lines for stderr.

        Returns
        -------
        str
            Counts, then errors, situations, urgencies and files written when there are any.

        Examples
        --------
        >>> print(Summary(read=3, labelled=2, duplicates=1, situations={"other": 2}).format())
        read 3: labelled 2, errors 0, duplicates 1
        situations: other 2
        """
        lines = [
            f"read {self.read}: labelled {self.labelled}, errors {self.error_count}, duplicates {self.duplicates}"
        ]
        if self.resumed_after is not None:
            lines.append(f"resumed after row seq {self.resumed_after}")
        if self.errors:
            lines.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        if self.situations:
            lines.append(
                "situations: " + ", ".join(f"{k} {v}" for k, v in sorted(self.situations.items()))
            )
        if self.urgencies:
            lines.append(
                "urgencies: " + ", ".join(f"{k} {v}" for k, v in sorted(self.urgencies.items()))
            )
        if self.files_written:
            lines.append("written: " + ", ".join(self.files_written))
        return "\n".join(lines)


def row_source(source: SourceRef | None) -> dict[str, Any] | None:
    """A row's ``source``: the source's JSON form without its ``None`` fields.

    The one way a row writes where its message came from (labelled rows and error rows alike);
    the notice inside a labelled row keeps pydantic's full form, ``None`` fields included.

    Parameters
    ----------
    source : SourceRef or None
        Where the message was read.

    Returns
    -------
    dict or None
        What the row's ``source`` holds (the notice's own ``source`` keeps the ``None`` fields).

    Examples
    --------
    >>> row_source(SourceRef(file="a.csv", line=4, index=0))
    {'file': 'a.csv', 'line': 4, 'index': 0}
    >>> row_source(None) is None
    True
    """
    return source_forms(source)[1]


def source_forms(
    source: SourceRef | None,
) -> tuple[dict[str, Any], dict[str, Any]] | tuple[None, None]:
    """A source's JSON form in the notice (pydantic's, ``None`` fields included) and in the row.

    The row's form is :func:`row_source` (the same dict when no field is ``None``); both come
    from one serialisation, so a labeller writing both pays for one.

    Parameters
    ----------
    source : SourceRef or None
        Where the message was read.

    Returns
    -------
    (dict, dict) or (None, None)
        The notice's ``source`` and the row's ``source``.

    Examples
    --------
    >>> full, own = source_forms(SourceRef(file="a.csv", line=4))
    >>> full["index"], own
    (None, {'file': 'a.csv', 'line': 4})
    >>> full, own = source_forms(SourceRef(file="a", line=1, offset=0, index=0, message_id="m"))
    >>> own is full, source_forms(None)
    (True, (None, None))
    """
    if source is None:
        return None, None
    full: dict[str, Any] = _SOURCE_JSON(source, mode="json")
    if None not in full.values():
        return full, full
    return full, {k: v for k, v in full.items() if v is not None}


_SOURCE_JSON = SourceRef.__pydantic_serializer__.to_python


def error_row(
    seq: int, item: ReadError | RawMessage, code: str, message: str, position: str | None = None
) -> Row:
    """Build an error row.

    Parameters
    ----------
    seq : int
        The message's position in the input stream.
    item : ReadError or RawMessage
        What could not be read or labelled; its ``source`` goes into the row.
    code : str
        Machine-readable error code (``bad_row``, ``empty``, …).
    message : str
        What went wrong, for people.
    position : str, optional
        Where in the message (a field name) when known.

    Returns
    -------
    dict
        ``{"seq", "source", "error": {code, message, source, position}}``.

    Examples
    --------
    >>> e = ReadError(code="bad_row", message="3 columns", source=SourceRef(file="a.csv", line=4))
    >>> error_row(7, e, e.code, e.message)
    {'seq': 7, 'source': {'file': 'a.csv', 'line': 4}, 'error': {'code': 'bad_row', 'message': '3 columns', 'source': {'file': 'a.csv', 'line': 4}, 'position': None}}
    """
    source = row_source(item.source)
    return {
        "seq": seq,
        "source": source,
        "error": {"code": code, "message": message, "source": source, "position": position},
    }


def read_error_row(seq: int, item: ReadError) -> Row:
    """The error row of a record a reader could not read.

    Parameters
    ----------
    seq : int
        The record's position in the input stream.
    item : ReadError
        The reader's error.

    Returns
    -------
    dict
        As :func:`error_row`, with the reader's code, message and position.
    """
    return error_row(seq, item, item.code, item.message, item.position)


class LabelledRow(dict[str, Any]):
    """A labelled row (a plain ``dict``) that also carries its JSON line, built once.

    ``json`` equals ``json.dumps(row, ensure_ascii=False)``; :func:`~icp_notify.batch.write_rows`
    writes it instead of serialising the row again. Each row owns its dicts (parsed from
    ``json``), so changing a row changes nothing else. Change ``json`` too if you change a row
    that ``write_rows`` will write.

    Examples
    --------
    >>> row = LabelledRow({"seq": 0})
    >>> row.json = '{"seq": 0}'
    >>> row["seq"], row.json
    (0, '{"seq": 0}')
    """

    __slots__ = ("json",)

    json: str


class LabelledLine:
    """A labelled row as its :class:`~icp_notify.models.Report` and JSON line (no dicts built).

    :meth:`row` gives the :class:`~icp_notify.batch.rows.LabelledRow` (``json.loads`` of the
    line) that :func:`~icp_notify.batch.label` yields; the CLI writes :attr:`json` and counts
    from :attr:`report`.

    Parameters
    ----------
    seq : int
        The row's ``seq``.
    line : str or bytes
        The row's JSON line, as text or as UTF-8 bytes (then :attr:`raw`, and :attr:`json`
        is decoded when first read).
    report : Report
        The row's report, or the cached report it is a copy of.
    notice : dict, optional
        The row's own notice fields (``received_at``, ``source``); with ``advice``, the row's
        :attr:`report` is the cached report's copy with them, made when first read.
    advice : Advice, optional
        The row's advice.

    Examples
    --------
    >>> from icp_notify.batch import Labeller
    >>> from icp_notify.models import RawMessage
    >>> line = Labeller(lang="en").label_line(
    ...     1, RawMessage(text="【示例云】您的网站 qingmu-demo.cn 已完成取消接入。"))
    >>> line.seq, line.report.classification.situation.value, line.row()["seq"]
    (1, 'access_cancelled', 1)
    """

    __slots__ = ("_advice", "_json", "_notice", "_report", "raw", "seq")

    raw: bytes | None
    """The line as UTF-8 bytes when it was made so (``None`` when made as text): what
    :func:`~icp_notify.batch.write_rows` writes to a UTF-8 file as it is."""

    def __init__(
        self,
        seq: int,
        line: str | bytes,
        report: Report,
        notice: dict[str, Any] | None = None,
        advice: Advice | None = None,
    ) -> None:
        self.seq = seq
        if isinstance(line, bytes):
            self.raw, self._json = line, None
        else:
            self.raw, self._json = None, line
        self._report = report
        self._notice = notice
        self._advice = advice

    @property
    def json(self) -> str:
        """The row's JSON line (``json.dumps(row, ensure_ascii=False)``)."""
        text = self._json
        if text is None:
            text = self._json = self.raw.decode()  # type: ignore[union-attr]
        return text

    @property
    def report(self) -> Report:
        """The row's report: the cached report's ``model_copy`` with the row's own fields."""
        if self._notice is not None:
            notice = self._report.notice.model_copy(update=self._notice)
            self._report = self._report.model_copy(
                update={"notice": notice, "advice": self._advice}
            )
            self._notice = None
        return self._report

    @property
    def source(self) -> dict[str, Any] | None:
        """The row's ``source`` (its fields that are not ``None``; the progress bar reads it)."""
        own = self._notice
        return row_source(self._report.notice.source if own is None else own["source"])

    @property
    def situation(self) -> str:
        """The situation as the summary counts it (``ambiguous`` when undecided)."""
        situation = self._report.classification.situation
        return "ambiguous" if situation is None else situation.value

    @property
    def urgency(self) -> str:
        """The advice's urgency."""
        advice = self._report.advice if self._advice is None else self._advice
        return str(advice.urgency.value)

    def row(self) -> LabelledRow:
        """The row as a fresh dict (nothing shared with the caches), keeping its line."""
        row = LabelledRow(json.loads(self.json))
        row.json = self.json
        return row
