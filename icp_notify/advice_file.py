"""The schema of the advice file (``data/advice.toml``): its tables as pydantic models, and checks.

:class:`~icp_notify.advisor.Advisor` reads the TOML, validates it into an :class:`AdviceFile`
and then runs :func:`check_structure` on every entry; a problem becomes an
:class:`~icp_notify.errors.AdviceFileError` naming the file, the entry and the field
(:func:`error_from_validation`). What the texts mean and how they are filled in is the
advisor's business; this module only says what a valid file holds (documented in
``docs/advice.md``).

Examples
--------
>>> Timing(sync_hours=7).sync_hours
7.0
>>> sorted(PLACEHOLDERS)
['deadline', 'domain', 'number', 'provider', 'reachable_after']
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from icp_notify.errors import AdviceFileError
from icp_notify.models import KIND_SITUATION, Action, Kind, Situation, Urgency

__all__ = [
    "AMBIGUOUS",
    "CHAIN_PLACEHOLDERS",
    "KNOWN_KEYS",
    "LANGS",
    "MOVED_CANCELLATION",
    "PLACEHOLDERS",
    "REQUIRED_KEYS",
    "UNSURE",
    "AdviceFile",
]
# The tables' models (AdviceEntry, LangEntry, …) and the checks are the advisor's, not API.

LANGS: tuple[Literal["zh", "en"], ...] = ("zh", "en")
"""The languages every entry must provide."""

PLACEHOLDERS: frozenset[str] = frozenset(
    {"provider", "domain", "number", "reachable_after", "deadline"}
)
"""The placeholders advice texts may use."""

AMBIGUOUS = "ambiguous"
"""Entry key of the generic notice that the text and context cannot settle."""

MOVED_CANCELLATION = "access_cancelled_after_move"
"""Entry key of a cancellation that context ties to a move of provider (decided by context)."""

UNSURE = "unsure"
"""Entry key of an explicit notice the classifier is not sure enough to decide (calibrated
confidence below the threshold, :mod:`icp_notify.calibration`); the generic notice's
``ambiguous`` entry serves when a file has none."""

_OTHER_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if KIND_SITUATION[k] is Situation.OTHER)
REQUIRED_KEYS: tuple[str, ...] = (
    *(s.value for s in Situation),
    *(k.value for k in _OTHER_KINDS),
    AMBIGUOUS,
)
"""The entries every advice file must have: each situation, each kind of ``other``, ambiguous."""
KNOWN_KEYS: frozenset[str] = frozenset({*REQUIRED_KEYS, MOVED_CANCELLATION, UNSURE})
"""Every entry key an advice file may have."""


# --------------------------------------------------------------------------- file schema


class _Strict(BaseModel):
    """Base of the file's tables: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_placeholders(value: str) -> str:
    """Raise ``ValueError`` unless every ``{field}`` in ``value`` is a known placeholder."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"malformed placeholder in {value!r}: {exc}") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise ValueError(f"unknown placeholder {{{field}}} (known: {known})")
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} takes no format spec or conversion")
    return value


class Texts(_Strict):
    """Summary and steps for one phase (before or after the sync window)."""

    summary: str = Field(min_length=1)
    steps: tuple[str, ...] = Field(min_length=1)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return _check_placeholders(value)

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for step in value:
            if not step.strip():
                raise ValueError("a step is empty")
            _check_placeholders(step)
        return value


class LangEntry(Texts):
    """One language of an entry."""

    why: str = Field(min_length=1)
    after_sync: Texts | None = None
    if_candidate: str | None = Field(
        default=None, description="the line used when this situation is one candidate of several"
    )

    @field_validator("why", "if_candidate")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return None if value is None else _check_placeholders(value)


class AdviceEntry(_Strict):
    """One advice entry (a situation, a kind, or one of the special keys)."""

    action: Action
    urgency: Urgency
    wait_for_sync: bool = False
    deadline_from_notice: bool = False
    references: tuple[Literal["miit", "miit_query", "provider"], ...] = ("miit", "provider")
    zh: LangEntry
    en: LangEntry


class ProviderNames(_Strict):
    """A provider's English name and console address."""

    en: str = Field(min_length=1, description="the provider's English name")
    console: str | None = Field(default=None, pattern=r"^https://[^\s]+$")


class ReferenceText(_Strict):
    """A reference link with its zh and en titles."""

    url: str = Field(pattern=r"^https://[^\s]+$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Phrases(_Strict):
    """How the placeholders read in one language, known or not, and the fixed phrases."""

    provider_unknown: str = Field(min_length=1)
    domain_known: str
    domain_unknown: str = Field(min_length=1)
    number_known: str
    number_unknown: str = Field(min_length=1)
    reachable_after_known: str
    reachable_after_unknown: str = Field(min_length=1)
    deadline_known: str
    deadline_unknown: str = Field(min_length=1)
    deadline_passed: str = Field(min_length=1)
    console_title: str

    @field_validator("domain_known", "number_known", "reachable_after_known", "deadline_known")
    @classmethod
    def _known(cls, value: str) -> str:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        if fields != {"value"}:
            raise ValueError("must contain {value} and no other placeholder")
        return value

    @field_validator("console_title")
    @classmethod
    def _title(cls, value: str) -> str:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        if fields != {"provider"}:
            raise ValueError("must contain {provider} and no other placeholder")
        return value

    @field_validator("deadline_passed")
    @classmethod
    def _passed(cls, value: str) -> str:
        return _check_placeholders(value)


CHAIN_PLACEHOLDERS: frozenset[str] = frozenset(
    {"submitted", "provider", "operation", "completed", "move_submitted", "move_provider"}
)
"""The placeholders of the ``[chain]`` sentences (the context's chain of events)."""


class Chain(_Strict):
    """One language of the sentences that name the chain behind a context decision."""

    operation: str = Field(min_length=1)
    approval: str = Field(min_length=1)
    cancellation: str = Field(min_length=1)
    late_cancellation: str = Field(min_length=1)
    rectification: str = Field(min_length=1)
    cancellation_due: str = Field(min_length=1)
    provider_unknown: str = Field(min_length=1)
    new_domain: str = Field(min_length=1)
    modify_domain: str = Field(min_length=1)
    access_domain: str = Field(min_length=1)
    access_cancelled: str = Field(min_length=1)
    date_format: str = Field(min_length=1, description="strftime-free: {y} {m} {d} {mon}")

    @field_validator(
        "operation",
        "approval",
        "cancellation",
        "late_cancellation",
        "rectification",
        "cancellation_due",
    )
    @classmethod
    def _sentence(cls, value: str) -> str:
        for _literal, field, _spec, _conv in string.Formatter().parse(value):
            if field is not None and field not in CHAIN_PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in sorted(CHAIN_PLACEHOLDERS))
                raise ValueError(f"unknown placeholder {{{field}}} (known: {known})")
        return value


class Timing(_Strict):
    """The ``[timing]`` table: hours for filing data to travel from MIIT to the providers."""

    sync_hours: float = Field(gt=0, le=72)


class AdviceFile(_Strict):
    """The whole advice file.

    Examples
    --------
    >>> import tomllib
    >>> from icp_notify.advisor import DEFAULT_PATH
    >>> data = AdviceFile.model_validate(tomllib.loads(DEFAULT_PATH.read_text("utf-8")))
    >>> data.timing.sync_hours, set(REQUIRED_KEYS) <= set(data.entry)
    (7.0, True)
    """

    timing: Timing
    references: dict[Literal["miit", "miit_query"], ReferenceText]
    phrases: dict[Literal["zh", "en"], Phrases]
    providers: dict[str, ProviderNames] = {}
    entry: dict[str, AdviceEntry]
    chain: dict[Literal["zh", "en"], Chain] = {}


# --------------------------------------------------------------------------- checks


def error_from_validation(path: str, exc: ValidationError) -> AdviceFileError:
    """The first pydantic error as an AdviceFileError naming the entry and the field.

    Parameters
    ----------
    path : str
        The advice file, named in the error.
    exc : pydantic.ValidationError
        What :meth:`AdviceFile.model_validate` raised.

    Returns
    -------
    AdviceFileError

    Examples
    --------
    >>> try:
    ...     Timing(sync_hours=0)
    ... except ValidationError as exc:
    ...     print(error_from_validation("advice.toml", exc))
    advice.toml [sync_hours]: Input should be greater than 0
    """
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    item: str | None = None
    if len(loc) >= 2 and loc[0] in {"entry", "providers", "references", "phrases"}:
        item = f"{loc[0]}.{loc[1]}"
        loc = loc[2:]
    elif loc:
        item = loc[0]
        loc = loc[1:]
    field = ".".join(loc) if loc else None
    message = err["msg"]
    if err["type"] == "missing":
        message = "required field is missing"
        if field in LANGS:
            message = f"the {field!r} text is missing (every entry needs zh and en)"
    elif err["type"] == "enum" and "expected" in err.get("ctx", {}):
        message = f"{err['input']!r} is not one of {err['ctx']['expected']}"
    elif err["type"] == "extra_forbidden":
        message = "unknown field"
    return AdviceFileError(path, message, item=item, field=field)


def check_structure(path: str, key: str, entry: AdviceEntry) -> None:
    """Check what the schema cannot: zh and en have the same shape (same number of steps, same
    optional parts), ``after_sync`` goes with ``wait_for_sync``, a situation has ``if_candidate``.

    Parameters
    ----------
    path : str
        The advice file, named in the error.
    key : str
        The entry's key.
    entry : AdviceEntry
        The validated entry.

    Raises
    ------
    AdviceFileError
        Naming the entry and the field.
    """
    zh, en = entry.zh, entry.en
    pairs: list[tuple[str, object, object]] = [
        ("steps", len(zh.steps), len(en.steps)),
        ("after_sync", zh.after_sync is None, en.after_sync is None),
        ("if_candidate", zh.if_candidate is None, en.if_candidate is None),
    ]
    if zh.after_sync is not None and en.after_sync is not None:
        pairs.append(("after_sync.steps", len(zh.after_sync.steps), len(en.after_sync.steps)))
    for field, a, b in pairs:
        if a != b:
            raise AdviceFileError(
                path,
                f"zh and en differ in structure ({a} vs {b})",
                item=f"entry.{key}",
                field=field,
            )
    if entry.wait_for_sync and zh.after_sync is None:
        raise AdviceFileError(
            path,
            "an entry with wait_for_sync needs after_sync steps (what to check once the wait is over)",
            item=f"entry.{key}",
            field="zh.after_sync",
        )
    if not entry.wait_for_sync and zh.after_sync is not None:
        raise AdviceFileError(
            path,
            "after_sync is only used with wait_for_sync = true",
            item=f"entry.{key}",
            field="zh.after_sync",
        )
    situation_keys = {s.value for s in Situation}
    if key in situation_keys and zh.if_candidate is None:
        raise AdviceFileError(
            path,
            "a situation entry needs if_candidate (its line in the ambiguous card)",
            item=f"entry.{key}",
            field="zh.if_candidate",
        )
