"""Label pandas DataFrames (and Dask ones, partition by partition).

Examples
--------
>>> import pandas as pd
>>> out = label_frame(pd.DataFrame({"text": ["您的备案信息已被变更，详情请咨询您的接入服务提供商。"]}))
>>> out.columns.tolist()[1:], bool(out["ambiguous"][0])
(['situation', 'ambiguous', 'candidates', 'confidence', 'kind', 'urgency', 'action', 'error'], True)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from icp_notify.batch.labeller import Labeller
from icp_notify.batch.rows import Row, read_error_row
from icp_notify.errors import InputError
from icp_notify.models import ReadError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FRAME_COLUMNS", "frame_meta", "label_frame"]

FRAME_COLUMNS: tuple[str, ...] = (
    "situation",
    "ambiguous",
    "candidates",
    "confidence",
    "kind",
    "urgency",
    "action",
    "error",
)
"""Columns :func:`label_frame` adds."""


def _frame_values(row: Row) -> list[Any]:
    if "error" in row:
        return [None, None, None, None, None, None, None, row["error"]["code"]]
    c = row["classification"]
    a = row["advice"]
    return [
        c["situation"],
        c["ambiguous"],
        list(c["candidates"]),
        c["confidence"],
        c["kind"],
        a["urgency"],
        a["action"],
        None,
    ]


def frame_meta(df: pd.DataFrame) -> pd.DataFrame:
    """The empty frame :func:`label_frame` returns for ``df``'s columns (Dask's ``meta``).

    Parameters
    ----------
    df : pandas.DataFrame
        The input frame (or Dask's ``_meta`` of it).

    Returns
    -------
    pandas.DataFrame
        No rows; ``df``'s columns plus the label columns with their dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> list(frame_meta(pd.DataFrame({"text": pd.Series([], dtype=object)})).columns)
    ['text', 'situation', 'ambiguous', 'candidates', 'confidence', 'kind', 'urgency', 'action', 'error']
    """
    import pandas as pd

    out = df.iloc[:0].copy()
    dtypes = {
        "situation": object,
        "ambiguous": "boolean",
        "candidates": object,
        "confidence": "float64",
        "kind": object,
        "urgency": object,
        "action": object,
        "error": object,
    }
    for name, dtype in dtypes.items():
        out[name] = pd.Series([], dtype=dtype, index=out.index)
    return out


def label_frame(
    df: pd.DataFrame,
    text_col: str = "text",
    *,
    sender_col: str | None = "sender",
    channel_col: str | None = "channel",
    received_at_col: str | None = "received_at",
    subject_col: str | None = "subject",
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
) -> pd.DataFrame:
    """Label a pandas DataFrame of notices; return a copy with the label columns added.

    Parameters
    ----------
    df : pandas.DataFrame
        One notice per row.
    text_col : str
        The column with the text.
    sender_col, channel_col, received_at_col, subject_col : str, optional
        Optional columns, used when present.
    lang, now, pipeline
        As for :func:`label`; the pipeline defaults to ``Pipeline.default()``, loaded once
        per process — in a Dask worker, once per worker.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``situation`` (``None`` when ambiguous), ``ambiguous``, ``candidates``
        (list), ``confidence``, ``kind``, ``urgency``, ``action`` and ``error`` (the error code
        of a row that could not be labelled, else ``None``). Rows are not de-duplicated.

    Raises
    ------
    InputError
        When ``text_col`` is not a column of ``df``, or for an unknown ``lang`` or a malformed
        ``now``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": [
    ...     "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    ...     "",
    ...     "【工业和信息化部】尊敬的用户，您的网站备案（京ICP备12345678号）已被注销，如有疑问请联系接入服务提供商。",
    ... ]})
    >>> out = label_frame(df)
    >>> out["kind"].tolist(), out["error"].tolist()
    (['change_notice_generic', None, 'filing_cancelled'], [None, 'missing_text', None])
    >>> bool(out["ambiguous"][0]), bool(out["ambiguous"][2])
    (True, False)

    Labelling a Dask DataFrame partition by partition (the pipeline loads once per worker)::

        import dask.dataframe as dd
        from icp_notify.batch import frame_meta, label_frame

        ddf = dd.read_csv("archive-*.csv", dtype=str)
        labelled = ddf.map_partitions(label_frame, text_col="body", meta=frame_meta(ddf._meta))
        labelled.to_parquet("labelled/")
    """
    import pandas as pd

    from icp_notify.readers.common import message_from_record

    labeller = _frame_labeller(pipeline, lang, now)
    columns = {
        "text": text_col,
        "sender": sender_col,
        "channel": channel_col,
        "received_at": received_at_col,
        "subject": subject_col,
    }
    present = {k: v for k, v in columns.items() if v is not None and v in df.columns}
    if "text" not in present:
        raise InputError("invalid_field", f"no column {text_col!r} in the frame", where="text_col")
    values: list[list[Any]] = []
    for position, record in enumerate(
        df[list(present.values())].itertuples(index=False, name=None)
    ):
        fields = {k: (None if _is_missing(v) else v) for k, v in zip(present, record, strict=True)}
        stamp = fields.get("received_at")
        if isinstance(stamp, pd.Timestamp):
            fields["received_at"] = stamp.isoformat()
        item = message_from_record(
            fields,
            path=None,
            text_field="text",
            where={"index": position},
            position=f"row {position}",
        )
        if isinstance(item, ReadError):
            row = read_error_row(position, item)
        else:
            row = labeller.label_message(position, item)
        values.append(_frame_values(row))
    out = df.copy()
    meta = frame_meta(df)
    for i, name in enumerate(FRAME_COLUMNS):
        column = [v[i] for v in values]
        out[name] = pd.Series(column, index=df.index, dtype=meta[name].dtype)
    return out


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_FRAME_LABELLERS: dict[tuple[int, str, str | None], Labeller] = {}


def _frame_labeller(pipeline: Any, lang: str, now: dt.datetime | str | None) -> Labeller:
    """One labeller (and so one pipeline and its caches) per process, pipeline, lang and now."""
    if pipeline is None:
        # key on the pipeline itself: Pipeline.default() may change (a test stands in a fake),
        # and a cached labeller keeps its pipeline alive, so its id cannot be reused
        from icp_notify.pipeline import Pipeline

        pipeline = Pipeline.default()
    now_key = now.isoformat() if isinstance(now, dt.datetime) else now
    key = (id(pipeline), lang, now_key)
    labeller = _FRAME_LABELLERS.get(key)
    if labeller is None:
        labeller = _FRAME_LABELLERS[key] = Labeller(pipeline, lang=lang, now=now)
    return labeller
