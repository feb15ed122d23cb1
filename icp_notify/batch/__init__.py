"""Streaming batch labelling of archived notices, shared by the CLI, pandas and Dask.

:func:`label` reads every input (see :mod:`icp_notify.readers.walk`), parses, classifies and
advises each message with one :class:`~icp_notify.pipeline.Pipeline`, and yields one row per
message in input order:

* a labelled row: ``Report.model_dump(mode="json")`` (``notice``, ``classification``,
  ``advice``, ``version``) plus ``seq`` (the message's 0-based position in the input stream,
  which ``--resume`` continues after) and ``source`` (file, line, index …);
* an error row: ``seq``, ``source`` and ``error`` = ``{code, message, source, position}``.

Messages with the same sender, time and text as an earlier one are duplicates: they get no
row and are counted in :class:`Summary` (``read = labelled + errors + duplicates``).

The package, by job:

* :mod:`~icp_notify.batch.driver` — :func:`label` / :func:`label_lines`: read, number,
  de-duplicate, label in order (one process or :mod:`~icp_notify.batch.workers`);
* :mod:`~icp_notify.batch.labeller` — :class:`Labeller`: one message at a time through the
  public path (parse, ``classify_notice``, ``Advisor.timing`` + ``Advisor.compose``), with
  bounded caches; a repeat reuses its cached ``Report`` via ``model_copy(update=...)``;
* :mod:`~icp_notify.batch.jsontext` — a model's JSON kept per field, so a repeat is serialised
  by pydantic for the fields it changes only;
* :mod:`~icp_notify.batch.dedupe` — :class:`SeenSet` and the duplicate key (and why it is
  not the server store's);
* :mod:`~icp_notify.batch.rows`, :mod:`~icp_notify.batch.writers` — rows, :class:`Summary`,
  JSONL/CSV writing and ``--resume``;
* :mod:`~icp_notify.batch.frame` — :func:`label_frame` for pandas and Dask.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "n.txt"
>>> _ = p.write_text("【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。\\n", encoding="utf-8")
>>> summary = Summary()
>>> rows = list(label([p], summary=summary))
>>> rows[0]["classification"]["ambiguous"], rows[0]["seq"], summary.read == summary.labelled == 1
(True, 0, True)
"""

from icp_notify.batch.dedupe import SEEN_MEMORY_KEYS, SeenSet, dedupe_key
from icp_notify.batch.driver import label, label_lines
from icp_notify.batch.frame import FRAME_COLUMNS, frame_meta, label_frame
from icp_notify.batch.labeller import CACHE_SIZE, LabelledLine, Labeller, classification_inputs
from icp_notify.batch.rows import LabelledRow, Row, Summary, error_row
from icp_notify.batch.workers import CHUNK_SIZE
from icp_notify.batch.writers import CSV_COLUMNS, csv_record, last_seq, write_rows

__all__ = [
    "CACHE_SIZE",
    "CHUNK_SIZE",
    "CSV_COLUMNS",
    "FRAME_COLUMNS",
    "SEEN_MEMORY_KEYS",
    "LabelledLine",
    "LabelledRow",
    "Labeller",
    "Row",
    "SeenSet",
    "Summary",
    "classification_inputs",
    "csv_record",
    "dedupe_key",
    "error_row",
    "frame_meta",
    "label",
    "label_frame",
    "label_lines",
    "last_seq",
    "write_rows",
]
