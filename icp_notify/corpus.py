"""The labelled corpus: its record type, loader, stable split and checker.

The corpus is JSON Lines under ``corpus/`` at the root of the source tree (one notice per line,
see ``corpus/README.md`` for the labelling guide). Every record is a :class:`CorpusRecord`;
:func:`load_corpus` reads and validates the files, :func:`split_of` assigns each record to
``train``, ``dev`` or ``test`` from a hash of its id, and :func:`check_corpus` collects every
problem (bad lines, duplicate ids, duplicate texts) instead of stopping at the first.

Examples
--------
>>> rec = CorpusRecord.model_validate({
...     "id": "doc-0001", "text": "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
...     "channel": "sms", "sender": "12381", "kind": "change_notice_generic",
...     "situation": None, "ambiguous": True,
...     "candidates": ["new_domain", "modify_domain", "access_domain", "access_cancelled"]})
>>> rec.ambiguous, len(rec.candidates), split_of(rec.id) in {"train", "dev", "test"}
(True, 4, True)
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from icp_notify.errors import CorpusError
from icp_notify.models import (
    CHANGE_SITUATIONS,
    KIND_SITUATION,
    AwareDatetime,
    Channel,
    Context,
    Kind,
    Situation,
)

Split = Literal["train", "dev", "test"]
"""The three parts of the corpus."""

SPLITS: tuple[Split, ...] = ("train", "dev", "test")
"""The splits, in a fixed order."""

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$"
_WRITER = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class CorpusRecord(BaseModel):
    """One labelled notice of the corpus (one JSON object per line).

    ``situation`` is ``None`` exactly when ``ambiguous`` is true; ``candidates`` then lists the
    change situations still possible (at least two; all four for the generic notice without
    context). A decided record has ``candidates == (situation,)``. ``kind`` must agree with
    ``situation`` through :data:`icp_notify.models.KIND_SITUATION`; the generic change notice
    (``change_notice_generic``) names no situation, so its situation comes from context or
    stays ``None``.

    Examples
    --------
    >>> r = CorpusRecord(id="x-1", text="【某云】您的网站已完成取消接入。", channel="sms",
    ...                  situation="access_cancelled", kind="provider_access_cancelled",
    ...                  candidates=["access_cancelled"])
    >>> r.situation.value, r.kind.value
    ('access_cancelled', 'provider_access_cancelled')
    >>> CorpusRecord(id="x-2", text="t", channel="sms", situation="other",
    ...              kind="provider_new_domain", candidates=["other"])
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for CorpusRecord
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID, description="unique, stable; decides the split")
    text: str = Field(min_length=1, description="the notice as received (SMS body or email body)")
    subject: str | None = Field(default=None, description="email subject, if any")
    channel: Literal[Channel.SMS, Channel.EMAIL]
    sender: str | None = None
    received_at: AwareDatetime | None = None
    context: Context | None = None
    situation: Situation | None
    kind: Kind
    ambiguous: bool = False
    candidates: tuple[Situation, ...]
    note: str = ""
    writer: str | None = Field(
        default=None,
        pattern=_WRITER,
        description="who wrote the record (one hand, one brief); groups leave-one-writer-out",
    )

    @model_validator(mode="after")
    def _consistent(self) -> CorpusRecord:
        if (self.situation is None) != self.ambiguous:
            raise ValueError("situation must be null exactly when ambiguous is true")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidates must not repeat")
        if self.situation is not None and self.candidates != (self.situation,):
            raise ValueError("a decided record needs candidates == [situation]")
        if self.ambiguous:
            if len(self.candidates) < 2:
                raise ValueError("an ambiguous record needs at least two candidates")
            if not set(self.candidates) <= set(CHANGE_SITUATIONS):
                raise ValueError("candidates of an ambiguous record must be change situations")
        implied = KIND_SITUATION[self.kind]
        if implied is not None and self.situation != implied:
            raise ValueError(
                f"kind {self.kind.value} implies situation {implied.value},"
                f" not {self.situation.value if self.situation else 'null'}"
            )
        return self


class CorpusCheck(BaseModel):
    """The result of :func:`check_corpus`: problems found and counts.

    ``problems`` name ``file:line``. The ``by_*`` counts cover the valid records;
    ``by_situation`` counts ambiguous records under ``"ambiguous"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    problems: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    total: int = 0
    ambiguous: int = 0
    with_context: int = 0
    by_split: dict[str, int] = Field(default_factory=dict)
    by_situation: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_channel: dict[str, int] = Field(default_factory=dict)
    by_file: dict[str, int] = Field(default_factory=dict)
    by_split_situation: dict[str, dict[str, int]] = Field(default_factory=dict)


def split_of(record_id: str) -> Split:
    """Return the stable split of a record: a hash of its id, never of its content.

    The first 8 hex digits of ``sha256(id)`` as an integer, modulo 100: below 70 is ``train``,
    below 85 ``dev``, the rest ``test``.

    Parameters
    ----------
    record_id : str
        The record id.

    Returns
    -------
    {"train", "dev", "test"}

    Examples
    --------
    >>> [split_of(i) for i in ("hw-0001", "gen-00008", "gen-00001")]
    ['train', 'dev', 'test']
    """
    bucket = int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < 70:
        return "train"
    if bucket < 85:
        return "dev"
    return "test"


@functools.cache
def _normalizer() -> Callable[[str], str] | None:
    try:
        module = importlib.import_module("icp_notify.normalize")
    except ImportError:
        return None
    func = getattr(module, "normalize_text", None)
    return func if callable(func) else None


def text_key(text: str) -> str:
    """Return the key two texts share when they count as duplicates.

    The text goes through :func:`icp_notify.normalize.normalize_text` when that module is
    available, then whitespace is removed, so spacing and line breaks never make a new text.

    Parameters
    ----------
    text : str
        A notice text.

    Returns
    -------
    str

    Examples
    --------
    >>> text_key("您的备案信息 已被变更") == text_key("您的备案信息\\n已被变更")
    True
    """
    normalize = _normalizer()
    if normalize is not None:
        text = normalize(text)
    return "".join(text.split())


def default_corpus_dir() -> Path:
    """Return ``corpus/`` of the source tree (the parent directory of the package).

    Returns
    -------
    Path
        It may not exist in an installed wheel.

    Examples
    --------
    >>> default_corpus_dir().name
    'corpus'
    """
    return Path(__file__).resolve().parent.parent / "corpus"


def _default_paths() -> list[Path]:
    directory = default_corpus_dir()
    if not directory.is_dir():
        raise CorpusError(
            str(directory), "no corpus directory (it ships with the source tree, not the wheel)"
        )
    return sorted(directory.glob("*.jsonl"))


def _describe(exc: ValidationError) -> tuple[str | None, str]:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return field, f"{err['msg']}{more}"


def _read(path: Path) -> Iterator[tuple[int, CorpusRecord | tuple[str | None, str]]]:
    """Yield ``(line number, record or (field, error))`` for every non-blank line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield lineno, (None, f"invalid JSON: {exc.msg} at column {exc.colno}")
                    continue
                if not isinstance(data, dict):
                    yield lineno, (None, "a line must be a JSON object")
                    continue
                try:
                    yield lineno, CorpusRecord.model_validate(data)
                except ValidationError as exc:
                    yield lineno, _describe(exc)
        except UnicodeDecodeError as exc:
            raise CorpusError(str(path), f"not UTF-8: {exc.reason}") from exc


def load_corpus(paths: Sequence[Path | str] | None = None) -> list[CorpusRecord]:
    """Read and validate corpus files.

    Parameters
    ----------
    paths : sequence of path, optional
        JSONL files; by default every ``corpus/*.jsonl`` of the source tree, in name order.

    Returns
    -------
    list of CorpusRecord
        In file order, then line order.

    Raises
    ------
    CorpusError
        On the first bad line, naming the file, the line and the field.

    Examples
    --------
    >>> records = load_corpus()
    >>> len(records) > 1000
    True
    """
    files = _default_paths() if paths is None else [Path(p) for p in paths]
    records: list[CorpusRecord] = []
    for path in files:
        for lineno, item in _read(path):
            if isinstance(item, CorpusRecord):
                records.append(item)
            else:
                field, message = item
                raise CorpusError(f"{path}:{lineno}", message, field=field)
    return records


def check_corpus(paths: Sequence[Path | str] | None = None) -> CorpusCheck:
    """Validate corpus files and count what they hold.

    Checks every line (valid JSON, a valid :class:`CorpusRecord`), ids unique across all files,
    no text twice (compared by :func:`text_key`, within a split and across splits), and that
    an ambiguous record without context lists all four change situations, a record with
    context has ``received_at``, and every record names its ``writer``.

    Parameters
    ----------
    paths : sequence of path, optional
        JSONL files; by default every ``corpus/*.jsonl`` of the source tree.

    Returns
    -------
    CorpusCheck
        ``ok`` is true when ``problems`` is empty; each problem names ``file:line``.

    Examples
    --------
    >>> result = check_corpus()
    >>> result.ok, sorted(result.by_split)
    (True, ['dev', 'test', 'train'])
    """
    files = _default_paths() if paths is None else [Path(p) for p in paths]
    problems: list[str] = []
    first_id: dict[str, str] = {}
    first_text: dict[str, tuple[str, Split]] = {}
    records: list[tuple[str, CorpusRecord]] = []
    for path in files:
        try:
            rows = list(_read(path))
        except CorpusError as exc:
            problems.append(str(exc))
            continue
        for lineno, item in rows:
            where = f"{path}:{lineno}"
            if not isinstance(item, CorpusRecord):
                field, message = item
                problems.append(f"{where}: {field + ': ' if field else ''}{message}")
                continue
            if item.id in first_id:
                problems.append(f"{where}: duplicate id {item.id!r} (first at {first_id[item.id]})")
                continue
            first_id[item.id] = where
            split = split_of(item.id)
            key = text_key(item.text)
            if key in first_text:
                other, other_split = first_text[key]
                scope = "within" if other_split == split else "across"
                problems.append(
                    f"{where}: duplicate text of {other} ({scope} splits: {other_split}/{split})"
                )
            else:
                first_text[key] = (where, split)
            if (
                item.ambiguous
                and item.context is None
                and set(item.candidates) != set(CHANGE_SITUATIONS)
            ):
                problems.append(
                    f"{where}: an ambiguous record without context must list all four candidates"
                )
            if item.context is not None and item.received_at is None:
                problems.append(f"{where}: a record with context needs received_at")
            if item.writer is None:
                problems.append(f"{where}: no writer (leave-one-writer-out groups by it)")
            records.append((path.name, item))

    by_split_situation: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    for _, rec in records:
        label = rec.situation.value if rec.situation is not None else "ambiguous"
        by_split_situation[split_of(rec.id)][label] += 1
    return CorpusCheck(
        ok=not problems,
        problems=problems,
        files=[str(p) for p in files],
        total=len(records),
        ambiguous=sum(r.ambiguous for _, r in records),
        with_context=sum(r.context is not None for _, r in records),
        by_split=dict(Counter(split_of(r.id) for _, r in records)),
        by_situation=dict(
            Counter(r.situation.value if r.situation else "ambiguous" for _, r in records)
        ),
        by_kind=dict(Counter(r.kind.value for _, r in records)),
        by_channel=dict(Counter(r.channel.value for _, r in records)),
        by_file=dict(Counter(name for name, _ in records)),
        by_split_situation={s: dict(c) for s, c in by_split_situation.items()},
    )
