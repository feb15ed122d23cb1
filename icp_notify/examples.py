"""The built-in example notices: one per situation and kind, with their labels.

The examples (``icp_notify/data/examples.jsonl``) cover every situation and every kind: the
generic MIIT notice with and without context, each provider notice, and each kind of ``other``
notice. They carry fixed receive times and the demo uses a fixed "now" (:data:`DEMO_NOW`), so the
output is the same on every run. ``icp-notify demo`` prints their cards; the tests and
``docs/gen_advice.py`` use them too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icp_notify.errors import DataFileError
from icp_notify.models import SHANGHAI, Context, Kind, Report, Situation

__all__ = [
    "DEMO_NOW",
    "EXAMPLES_PATH",
    "Example",
    "Expectation",
    "load_examples",
    "matches",
    "run_examples",
]

EXAMPLES_PATH = Path(__file__).resolve().parent / "data" / "examples.jsonl"
"""The built-in examples."""

DEMO_NOW = dt.datetime(2025, 3, 4, 22, 30, tzinfo=SHANGHAI)
"""The fixed "now" of the demo: some approvals are still syncing, some deadlines are near."""


class Expectation(BaseModel):
    """What the example is (its label), to show whether the classifier agrees.

    Examples
    --------
    >>> Expectation(situation=None, kind="change_notice_generic", ambiguous=True).ambiguous
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    situation: Situation | None
    kind: Kind
    ambiguous: bool = False


class Example(BaseModel):
    """One built-in example notice.

    Examples
    --------
    >>> ex = load_examples()[0]
    >>> ex.id.islower(), ex.expect.kind.value in {k.value for k in Kind}
    (True, True)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: dict[str, str]
    text: str = Field(min_length=1)
    subject: str | None = None
    channel: str = "sms"
    sender: str | None = None
    received_at: dt.datetime
    context: Context | None = None
    expect: Expectation


@functools.cache
def _load(path: str) -> tuple[Example, ...]:
    examples: list[Example] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataFileError(path, f"cannot read: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            examples.append(Example.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DataFileError(path, f"invalid example: {exc}", item=f"line {number}") from None
    return tuple(examples)


def load_examples(path: Path | None = None) -> tuple[Example, ...]:
    """The examples, validated, loaded once per path.

    Parameters
    ----------
    path : Path, optional
        An examples file (default: the shipped one).

    Returns
    -------
    tuple of Example

    Examples
    --------
    >>> examples = load_examples()
    >>> len(examples) >= 20, examples[0].expect.ambiguous
    (True, True)
    """
    return _load(str(path or EXAMPLES_PATH))


def run_examples(
    *, lang: str = "zh", now: dt.datetime = DEMO_NOW, pipeline: Any = None
) -> list[tuple[Example, Report]]:
    """Analyze every example with ``pipeline`` (default: :meth:`Pipeline.default`).

    Parameters
    ----------
    lang : {"zh", "en"}
        Advice language.
    now : datetime
        The clock for the advice (fixed, so the demo output does not depend on today).
    pipeline : Pipeline, optional
        Any object with ``analyze(...) -> Report``.

    Returns
    -------
    list of (Example, Report)

    Examples
    --------
    >>> results = run_examples(lang="en")
    >>> len(results) == len(load_examples()), all(matches(ex, r) for ex, r in results)
    (True, True)
    """
    from icp_notify.models import RawMessage
    from icp_notify.pipeline import Pipeline

    pipe = pipeline if pipeline is not None else Pipeline.default()
    out: list[tuple[Example, Report]] = []
    for ex in load_examples():
        raw = RawMessage(
            text=ex.text,
            channel=ex.channel,
            sender=ex.sender,
            received_at=ex.received_at,
            subject=ex.subject,
        )
        report = pipe.analyze(raw, context=ex.context, now=now, lang=lang)
        out.append((ex, report))
    return out


def matches(example: Example, report: Report) -> bool:
    """Whether the classification agrees with the example's label.

    Parameters
    ----------
    example : Example
        A demo example with its expected label.
    report : Report
        Its report.

    Returns
    -------
    bool

    Examples
    --------
    >>> from icp_notify.pipeline import analyze
    >>> ex = load_examples()[0]
    >>> matches(ex, analyze(ex.text, sender=ex.sender, context=ex.context))
    True
    """
    cls = report.classification
    exp = example.expect
    if exp.ambiguous:
        return cls.ambiguous
    return cls.situation == exp.situation and cls.kind == exp.kind
