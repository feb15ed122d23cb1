"""Calibrated, selective answers: a decided confidence means the probability of being right.

The decision policy (:func:`icp_notify.classifier.decide`) gives a *raw* confidence: a sure rule's
weight, the model's probability, a cap. How often such an answer is right on notices written by
hands the system never saw is measured by leave-one-writer-out evaluation
(:mod:`icp_notify.crossval`), and differs by the **route** that decided it:

* which deciders agreed (``decided_by``: ``rules``, ``rules+model``, ``model``) — a rule the model
  does not back is much less often right than a rule the model agrees with;
* whether a *caution* was present (a phishing hint or a sure ``other`` rule,
  :func:`icp_notify.classifier.cautions`), marked ``!``.

:func:`fit_table` turns those measurements into a :class:`CalibrationTable`: per route, an
isotonic map from raw to calibrated confidence (scikit-learn at training time; applying it needs
nothing but the table). :func:`apply` replaces a decided answer's confidence by the calibrated one
and, when that falls below the table's ``threshold``, turns the answer into an **ambiguous** one
whose candidates are the plausible labels (``other`` may be one) — "check it" instead of a
confident wrong answer. Generic notices, context decisions and answers that are already
ambiguous are left as they are: their confidence comes from exact rules, not from wording.

The shipped table is ``icp_notify/data/calibration.json`` (``icp-notify calibrate`` writes it); it
names the model version it was fitted for, and :func:`default_table` refuses a table fitted for
another model.

Examples
--------
>>> table = CalibrationTable(model_version="m", threshold=0.6,
...     routes={"rules": ((0.5, 0.4), (1.0, 0.7)), "rules+model": ((0.5, 0.9), (1.0, 0.99))},
...     fallback=((0.0, 0.5), (1.0, 0.8)))
>>> table.value("rules+model", 0.96), table.value("rules", 0.96), table.value("model!", 0.7)
(0.9828, 0.676, 0.71)
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from icp_notify.artefacts import load_pinned
from icp_notify.models import Classification, Decider, Evidence, Kind, Situation

__all__ = [
    "CANDIDATE_MASS",
    "DEFAULT_THRESHOLD",
    "MIN_ROUTE_SAMPLES",
    "SINGLE_SOURCE_CAP",
    "CalibrationTable",
    "applies",
    "apply",
    "default_path",
    "default_table",
    "fit_table",
    "route_of",
]

DEFAULT_THRESHOLD = 0.5
"""Below this calibrated confidence a decided answer becomes ambiguous (the table may override)."""

CANDIDATE_MASS = 0.9
"""An ambiguous answer lists the most probable labels until they hold this much probability."""

SINGLE_SOURCE_CAP = 0.89
"""Highest calibrated confidence of an answer only one source backs (``decided_by`` is the model
alone, or a rule the model does not back). Measured by leave-one-writer-out, such answers were
right 98.5 % of the time but held 7 of the 12 errors at ≥ 0.9 (``docs/model.md``): a confident
answer needs the rules and the model to agree."""

MIN_ROUTE_SAMPLES = 40
"""A route measured on fewer answers is calibrated by the fallback map (all routes pooled)."""

_Points = tuple[tuple[float, float], ...]

_SITUATIONS: tuple[Situation, ...] = tuple(Situation)
"""``Situation`` members in definition order (iterating the Enum class costs a generator)."""


class CalibrationTable(BaseModel):
    """Per-route maps from raw to calibrated confidence, and the selective threshold.

    Attributes
    ----------
    format_version : int
        1.
    model_version : str
        The text model the table was measured with (``TextModel.version``).
    threshold : float
        A decided answer whose calibrated confidence is below this becomes ambiguous.
    routes : dict of str to points
        Route (see :func:`route_of`) → ``((raw, calibrated), …)`` with raw increasing; values
        between points are interpolated linearly, outside them clipped.
    fallback : points
        The map for routes not in ``routes``.
    measured : dict
        What the table was fitted on (answers, writers, per-route counts and accuracy).

    Examples
    --------
    >>> t = CalibrationTable(model_version="1.abc", routes={"model": ((0.5, 0.3), (0.9, 0.7))},
    ...     fallback=((0.0, 0.0), (1.0, 1.0)))
    >>> t.value("model", 0.7), t.value("model", 0.99), t.value("rules", 0.8)
    (0.5, 0.7, 0.8)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = 1
    model_version: str
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    routes: dict[str, _Points]
    fallback: _Points
    measured: dict[str, Any] = Field(default_factory=dict)
    _xs: dict[str, list[float]] = PrivateAttr(default_factory=dict)
    _fallback_xs: list[float] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _points_ok(self) -> CalibrationTable:
        for name, points in (*self.routes.items(), ("fallback", self.fallback)):
            if not points:
                raise ValueError(f"route {name!r} has no points")
            xs = [x for x, _ in points]
            if xs != sorted(xs):
                raise ValueError(f"route {name!r}: raw confidences must increase")
            if any(not (0.0 <= v <= 1.0) for p in points for v in p):
                raise ValueError(f"route {name!r}: values must lie in [0, 1]")
        return self

    def model_post_init(self, __context: Any) -> None:
        """List the raw confidences of each route's points once (``value`` bisects them).

        Parameters
        ----------
        __context : Any
            Pydantic's validation context (unused).
        """
        self._xs = {name: [x for x, _ in points] for name, points in self.routes.items()}
        self._fallback_xs = [x for x, _ in self.fallback]

    def value(self, route: str, raw: float) -> float:
        """The calibrated confidence of a raw confidence on a route.

        Parameters
        ----------
        route : str
            From :func:`route_of`.
        raw : float
            The policy's confidence.

        Returns
        -------
        float
            Rounded to 4 decimals.
        """
        points = self.routes.get(route, self.fallback)
        private = self.__pydantic_private__  # read directly: a private attribute's lookup
        assert private is not None  # goes through BaseModel.__getattr__ (about 1 µs)
        xs = private["_xs"].get(route, private["_fallback_xs"])
        i = bisect.bisect_left(xs, raw)
        if i == 0:
            out = points[0][1]
        elif i == len(points):
            out = points[-1][1]
        else:
            (x0, y0), (x1, y1) = points[i - 1], points[i]
            out = y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
        return round(out, 4)


def _rules(c: Classification) -> list[Evidence]:
    """The rule evidence of an answer (timed-out matches left out)."""
    return [e for e in c.evidence if e.source == "rule" and not e.timed_out]


@functools.cache
def _cautions() -> Callable[[Sequence[Evidence]], tuple[Evidence, ...]]:
    """:func:`icp_notify.classifier.cautions`, imported on first use (the classifier imports us)."""
    from icp_notify.classifier import cautions

    return cautions


@functools.cache
def _capped_confidence() -> float:
    """:data:`icp_notify.classifier.CAPPED_CONFIDENCE`, imported on first use."""
    from icp_notify.classifier import CAPPED_CONFIDENCE

    return CAPPED_CONFIDENCE


def _cautioned(rules: Sequence[Evidence]) -> bool:
    """Whether the policy saw a caution (:func:`icp_notify.classifier.cautions`)."""
    return bool(_cautions()(rules))


def route_of(c: Classification, *, cautioned: bool | None = None) -> str:
    """The route that decided an answer: its deciders, ``!`` when a caution was present.

    Parameters
    ----------
    c : Classification
    cautioned : bool, optional
        Whether a caution was present, when the caller already knows.

    Returns
    -------
    str
        E.g. ``"rules+model"``, ``"model!"``; ``""`` when nothing decided.

    Examples
    --------
    >>> c = Classification(situation="other", ambiguous=False, candidates=["other"],
    ...     confidence=0.7, probabilities={"other": 1.0}, kind="unrelated",
    ...     decided_by=["model"])
    >>> route_of(c)
    'model'
    """
    names = sorted(d.value for d in c.decided_by)
    if cautioned is None:
        cautioned = _cautioned(_rules(c))
    flag = "!" if cautioned else ""
    return "+".join(names) + flag


def applies(c: Classification) -> bool:
    """Whether calibration touches this answer (decided, not generic, not decided by context).

    Parameters
    ----------
    c : Classification

    Returns
    -------
    bool

    Examples
    --------
    >>> c = Classification(situation="other", ambiguous=False, candidates=["other"],
    ...     confidence=0.7, probabilities={"other": 1.0}, kind="unrelated",
    ...     decided_by=["model"])
    >>> applies(c), applies(c.model_copy(update={"decided_by": (Decider.CONTEXT,)}))
    (True, False)
    """
    return (
        not c.ambiguous
        and c.kind is not Kind.CHANGE_NOTICE_GENERIC
        and Decider.CONTEXT not in c.decided_by
        and bool(c.decided_by)
    )


def apply(c: Classification, table: CalibrationTable | None) -> Classification:
    """Calibrate a decided answer's confidence; below the threshold, make it ambiguous.

    Parameters
    ----------
    c : Classification
        The policy's answer.
    table : CalibrationTable or None
        ``None`` returns ``c`` unchanged.

    Returns
    -------
    Classification
        ``c`` itself when nothing applies (generic notice, context decision, already ambiguous);
        else a copy with the calibrated ``confidence`` (never above the policy's own cap for an
        unsupported ``access_cancelled`` or a change situation under a caution, nor above
        :data:`SINGLE_SOURCE_CAP` when one source decided alone) and
        ``probabilities`` rescaled around it;
        below the threshold ``ambiguous=True``, ``situation=None`` and ``candidates`` = the
        decided situation then the next most probable labels until they hold
        :data:`CANDIDATE_MASS` (two or three labels).

    Examples
    --------
    >>> table = CalibrationTable(model_version="m", threshold=0.6, routes={},
    ...     fallback=((0.0, 0.3), (1.0, 0.55)))
    >>> c = Classification(situation="access_domain", ambiguous=False,
    ...     candidates=["access_domain"], confidence=0.8,
    ...     probabilities={"access_domain": 0.8, "other": 0.15, "new_domain": 0.05},
    ...     kind="provider_access_domain", decided_by=["model"])
    >>> out = apply(c, table)
    >>> out.ambiguous, [s.value for s in out.candidates], out.confidence
    (True, ['access_domain', 'other', 'new_domain'], 0.5)
    """
    if table is None or not applies(c):
        return c
    assert c.situation is not None
    rules = _rules(c)
    cautioned = _cautioned(rules)
    conf = table.value(route_of(c, cautioned=cautioned), c.confidence)
    cap = _policy_cap(c, rules, cautioned)
    if cap is not None:
        conf = min(conf, cap)
    probs = _rescaled(c.probabilities, c.situation, conf)
    if conf >= table.threshold:
        return c.model_copy(update={"confidence": conf, "probabilities": probs})
    ranked = sorted(
        (s for s in probs if s is not c.situation and probs[s] > 0),
        key=lambda s: (-probs[s], s.value),
    )
    candidates = [c.situation]
    mass = probs[c.situation]
    for s in ranked:
        if len(candidates) >= 2 and (mass >= CANDIDATE_MASS or len(candidates) == 3):
            break
        candidates.append(s)
        mass += probs[s]
    if len(candidates) < 2:
        candidates.append(Situation.OTHER if c.situation is not Situation.OTHER else ranked[0])
    return Classification.model_validate(
        {
            **c.model_dump(),
            "situation": None,
            "ambiguous": True,
            "candidates": tuple(candidates),
            "confidence": conf,
            "probabilities": probs,
        }
    )


def _rescaled(
    probs: dict[Situation, float], decided: Situation, conf: float
) -> dict[Situation, float]:
    """Put ``conf`` on the decided situation and share the rest as the others were shared."""
    rest = sum(v for s, v in probs.items() if s is not decided)
    others = [s for s in _SITUATIONS if s is not decided]
    out: dict[Situation, float] = {}
    for s in _SITUATIONS:
        if s is decided:
            out[s] = conf
        elif rest > 0:
            out[s] = (1.0 - conf) * probs.get(s, 0.0) / rest
        else:
            out[s] = (1.0 - conf) / len(others)
    return out


def _policy_cap(c: Classification, rules: Sequence[Evidence], cautioned: bool) -> float | None:
    """The cap the decision policy put on this answer, which calibration must keep.

    The policy never lets a change situation be confident (≥ 0.9) under a caution, nor an
    ``access_cancelled`` that no rule supports (:data:`icp_notify.classifier.CAPPED_CONFIDENCE`):
    a measured route may be right often, but these are the answers whose rare errors cost most.
    An answer only one source backs (the model alone, or a rule the model does not back) is
    never confident either (:data:`SINGLE_SOURCE_CAP`).
    """
    single = SINGLE_SOURCE_CAP if len(c.decided_by) == 1 else None
    if c.situation is None or c.situation is Situation.OTHER:
        return single
    if cautioned:
        return _capped_confidence()
    if c.situation is Situation.ACCESS_CANCELLED and not any(
        e.situation is Situation.ACCESS_CANCELLED for e in rules
    ):
        return _capped_confidence()
    return single


def fit_table(
    samples: Sequence[tuple[str, float, bool]],
    *,
    model_version: str,
    threshold: float = DEFAULT_THRESHOLD,
    min_route: int = MIN_ROUTE_SAMPLES,
) -> CalibrationTable:
    """Fit the per-route isotonic maps from measured answers (scikit-learn's ``IsotonicRegression``).

    Parameters
    ----------
    samples : sequence of (route, raw confidence, right)
        Decided answers from leave-one-writer-out evaluation (before calibration).
    model_version : str
        Recorded in the table.
    threshold : float
        The selective threshold.
    min_route : int
        Routes with fewer answers use the pooled fallback map.

    Returns
    -------
    CalibrationTable

    Examples
    --------
    >>> samples = [("model", 0.9, True), ("model", 0.9, False), ("model", 0.5, False),
    ...            ("rules", 0.95, True)]
    >>> t = fit_table(samples, model_version="1.abc", threshold=0.5)
    >>> t.fallback, t.threshold
    (((0.5, 0.3333), (0.9, 0.5), (0.95, 0.6667)), 0.5)

    Raises
    ------
    ValueError
        When ``samples`` is empty.
    """
    if not samples:
        raise ValueError("no samples to calibrate on")
    by_route: dict[str, list[tuple[float, bool]]] = {}
    for route, raw, right in samples:
        by_route.setdefault(route, []).append((raw, right))
    routes = {
        r: _isotonic(points) for r, points in sorted(by_route.items()) if len(points) >= min_route
    }
    measured = {
        "answers": len(samples),
        "routes": {
            r: {
                "n": len(p),
                "accuracy": round(sum(ok for _, ok in p) / len(p), 4),
                "own_map": r in routes,
            }
            for r, p in sorted(by_route.items())
        },
    }
    return CalibrationTable(
        model_version=model_version,
        threshold=threshold,
        routes=routes,
        fallback=_isotonic([(raw, ok) for _, raw, ok in samples]),
        measured=measured,
    )


def _isotonic(points: Sequence[tuple[float, bool]]) -> _Points:
    """Increasing map raw → accuracy, shrunk towards 1/2 by one right and one wrong pseudo-answer
    per step, so a step measured on few answers never claims certainty."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([1.0 if p[1] else 0.0 for p in points], dtype=float)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    xs = [float(v) for v in iso.X_thresholds_]
    ys = [float(v) for v in iso.y_thresholds_]
    # each step's answers: those whose fitted value equals the step's value
    fitted = iso.predict(x)
    out: list[tuple[float, float]] = []
    for xv, yv in zip(xs, ys, strict=True):
        n = int(np.sum(np.isclose(fitted, yv)))
        right = yv * n
        out.append((round(xv, 4), round((right + 1.0) / (n + 2.0), 4)))
    # the shrinkage can break monotony between steps of different sizes: restore it
    best = 0.0
    mono: list[tuple[float, float]] = []
    for xv, yv in out:
        best = max(best, yv)
        mono.append((xv, best))
    return tuple(mono)


def default_path() -> Path:
    """Where the shipped table lives (``icp_notify/data/calibration.json``).

    Returns
    -------
    Path

    Examples
    --------
    >>> default_path().name
    'calibration.json'
    """
    return Path(__file__).resolve().parent / "data" / "calibration.json"


def default_table(model_version: str | None) -> CalibrationTable | None:
    """The shipped calibration table, loaded once and validated; ``None`` when there is none.

    Parameters
    ----------
    model_version : str or None
        The version of the model in use; a table fitted for another model is refused.

    Returns
    -------
    CalibrationTable or None

    Raises
    ------
    ModelArtifactError
        The file is invalid, or was fitted for another model version.

    Examples
    --------
    >>> table = default_table(None)  # None until `icp-notify calibrate` has written one
    >>> table is None or 0.0 <= table.threshold <= 1.0
    True
    """
    return load_pinned(
        CalibrationTable, default_path(), what="calibration table", model_version=model_version
    )
