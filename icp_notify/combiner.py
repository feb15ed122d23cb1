"""The learned combination of rule evidence and the text model's probabilities ("stacking").

The hand-written rules were written from the team's own wording; on notices by other hands a
sure rule that overrides the model is wrong more often than the model (``docs/model.md``). The
:class:`Combiner` weighs them instead: a small multinomial logistic regression over five
situations whose inputs (:func:`combiner_features`) are

* the text model's probability of each situation (and of the generic notice), and their logs;
* which situations a sure rule (``s:``) or a hint (``h:``) points to, the situation of the
  deciding sure rule (``best:``), whether it agrees with the model's top situation, and whether a
  caution (phishing signal, sure ``other`` rule) is present. Rule ids are not inputs: measured,
  they added nothing and cost confident errors (``docs/model.md``), and a new rule needs no refit;
* cheap structure: the text's length, its share of Latin letters, an e-mail subject, the channel.

It is fitted (:func:`fit_combiner`, scikit-learn, the ``train`` extra) on **out-of-fold** answers:
every record's model probabilities come from a model trained without that record's writer
(:mod:`icp_notify.crossval`), so the weights learn how far each input can be trusted on a hand
the model never saw. The shipped weights are ``icp_notify/data/combiner.json`` (written by
``icp-notify calibrate``); scoring is a dot product over the few non-zero inputs, in pure Python.

The classifier (:mod:`icp_notify.classifier`) uses the combination for every answer except the
generic notice, context decisions and the **hard vetoes** (:data:`HARD_KINDS`: verification
codes, phishing, 公安, 注销), where a sure rule is certain and keeps deciding.

Examples
--------
>>> from icp_notify.models import Evidence, Kind, Situation
>>> rule = Evidence(source="rule", id="provider.access_cancelled", kind=Kind.PROVIDER_ACCESS_CANCELLED,
...     situation=Situation.ACCESS_CANCELLED, weight=0.96)
>>> f = combiner_features([rule], {Kind.PROVIDER_ACCESS_CANCELLED: 0.9, Kind.PROGRESS: 0.1},
...     text="已取消接入", subject=None, channel="sms")
>>> f["s:access_cancelled"], f["best:access_cancelled"], f["agree"], round(f["m:other"], 2)
(1.0, 1.0, 1.0, 0.1)
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from icp_notify.artefacts import load_pinned
from icp_notify.models import KIND_SITUATION, Evidence, Kind, Situation

__all__ = [
    "COMBINER_C",
    "FEATURE_VERSION",
    "HARD_KINDS",
    "Combiner",
    "combiner_features",
    "default_combiner",
    "default_path",
    "fit_combiner",
]

FEATURE_VERSION = 1
"""Version of :func:`combiner_features`; a combiner fitted on another version is refused."""

HARD_KINDS = frozenset(
    {Kind.VERIFICATION_CODE, Kind.PHISHING, Kind.PUBLIC_SECURITY, Kind.FILING_CANCELLED}
)
"""Kinds whose sure rule keeps deciding (a hard veto): the rule is certain, the wording is fixed."""

COMBINER_C = 0.3
"""Inverse L2 regularisation of the combiner (chosen by nested leave-one-writer-out)."""

STRONG = 0.9
"""A rule of at least this weight is sure (``rules.STRONG_WEIGHT``)."""

_SITUATIONS: tuple[Situation, ...] = tuple(Situation)
_ASCII_LETTERS = string.ascii_letters.encode("ascii")
_FLOOR = 1e-3

# the feature names, built once (an enum's ``.value`` is a property lookup)
_MODEL_NAMES = tuple(("m:" + s.value, "lm:" + s.value) for s in _SITUATIONS)
_SURE_NAMES = {s: "s:" + s.value for s in _SITUATIONS}
_HINT_NAMES = {s: "h:" + s.value for s in _SITUATIONS}
_BEST_NAMES = {s: "best:" + s.value for s in _SITUATIONS}


def combiner_features(
    rule_evidence: Sequence[Evidence],
    kinds: Mapping[Kind, float],
    *,
    text: str,
    subject: str | None,
    channel: str | None,
) -> dict[str, float]:
    """The combiner's inputs for one notice (only the non-zero ones).

    Parameters
    ----------
    rule_evidence : sequence of Evidence
        The rules' matches (text, signature and subject), timed-out matches are skipped.
    kinds : mapping of Kind to float
        The text model's probabilities (summing to 1).
    text : str
        ``Notice.text``.
    subject : str or None
        The e-mail subject.
    channel : str or None
        The channel's value (``"sms"``, ``"email"`` …).

    Returns
    -------
    dict of str to float
        Feature name → value.

    Examples
    --------
    >>> f = combiner_features([], {Kind.PROGRESS: 0.8, Kind.PROVIDER_NEW_DOMAIN: 0.2},
    ...     text="Your filing is under review", subject=None, channel="email")
    >>> round(f["m:other"], 2), round(f["lm:new_domain"], 2), "agree" in f, f["ch:email"]
    (0.8, -1.6, False, 1.0)
    """
    sit = dict.fromkeys(_SITUATIONS, 0.0)
    generic = 0.0
    for kind, p in kinds.items():
        s = KIND_SITUATION[kind]
        if s is None:
            generic += p
        else:
            sit[s] += p
    f: dict[str, float] = {}
    for (m_name, lm_name), p in zip(_MODEL_NAMES, sit.values(), strict=True):
        f[m_name] = p
        f[lm_name] = math.log(p + _FLOOR)
    f["m:generic"] = generic
    top = max(_SITUATIONS, key=sit.__getitem__)
    best: Evidence | None = None
    tie = False
    caution = False
    for e in rule_evidence:
        if e.timed_out or e.source != "rule":
            continue
        w = e.weight or 0.0
        if e.kind is Kind.PHISHING or (e.situation is Situation.OTHER and w >= STRONG):
            caution = True
        if e.situation is None:
            continue
        f[(_SURE_NAMES if w >= STRONG else _HINT_NAMES)[e.situation]] = 1.0
        if w >= STRONG and e.kind is not None:
            if best is None or w > (best.weight or 0.0):
                best, tie = e, False
            elif w == best.weight and e.kind is not best.kind:
                tie = True
    if best is not None and not tie and best.situation is not None:
        f[_BEST_NAMES[best.situation]] = 1.0
        if best.situation is top:
            f["agree"] = 1.0
    if caution:
        f["caution"] = 1.0
    f["len"] = math.log1p(len(text)) / 8.0
    if text:
        # the ASCII letters ([A-Za-z]) of the text: its ASCII bytes less those without a letter
        ascii_bytes = text.encode("ascii", "ignore")
        latin = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTERS))
        if latin:
            f["latin"] = latin / len(text)
    if subject:
        f["subject"] = 1.0
    if channel:
        f["ch:" + channel] = 1.0
    return f


class Combiner(BaseModel):
    """Fitted weights of the combination: a multinomial logistic regression over situations.

    Attributes
    ----------
    format_version : int
        1.
    feature_version : int
        The :data:`FEATURE_VERSION` it was fitted with.
    model_version : str
        The text model whose out-of-fold answers it was fitted on (``TextModel.version``).
    classes : tuple of Situation
        One per row of ``coef``.
    features : tuple of str
        One per column of ``coef``.
    coef : tuple of tuple of float
        Weights, ``len(classes)`` rows of ``len(features)``.
    intercept : tuple of float
        One per class.
    measured : dict
        What it was fitted on (answers, writers, regularisation).

    Examples
    --------
    >>> c = Combiner(model_version="m", classes=("other", "new_domain"), features=("x",),
    ...     coef=((0.0,), (2.0,)), intercept=(0.0, 0.0))
    >>> {s.value: round(p, 3) for s, p in c.probabilities({"x": 1.0, "unknown": 5.0}).items() if p}
    {'new_domain': 0.881, 'other': 0.119}
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = 1
    feature_version: int = FEATURE_VERSION
    model_version: str
    classes: tuple[Situation, ...]
    features: tuple[str, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    measured: dict[str, Any] = Field(default_factory=dict)
    _columns: dict[str, tuple[float, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _shapes_ok(self) -> Combiner:
        if self.format_version != 1:
            raise ValueError(f"format_version {self.format_version} is not 1")
        if self.feature_version != FEATURE_VERSION:
            raise ValueError(
                f"fitted on feature version {self.feature_version}, not {FEATURE_VERSION}"
            )
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError("classes must be at least two distinct situations")
        if len(set(self.features)) != len(self.features):
            raise ValueError("feature names must be distinct")
        if len(self.coef) != len(self.classes) or len(self.intercept) != len(self.classes):
            raise ValueError("coef and intercept need one row per class")
        if any(len(row) != len(self.features) for row in self.coef):
            raise ValueError("every coef row needs one weight per feature")
        if not all(math.isfinite(v) for row in (*self.coef, self.intercept) for v in row):
            raise ValueError("weights must be finite")
        return self

    def model_post_init(self, __context: Any) -> None:
        """Index the weights by feature (one tuple of per-class weights per name).

        Parameters
        ----------
        __context : Any
            Pydantic's validation context (unused).
        """
        self._columns = {
            name: tuple(row[j] for row in self.coef) for j, name in enumerate(self.features)
        }

    def probabilities(self, features: Mapping[str, float]) -> dict[Situation, float]:
        """The combination's probability of each situation (situations not in ``classes``: 0).

        Parameters
        ----------
        features : mapping of str to float
            From :func:`combiner_features`; names the combiner does not know are ignored.

        Returns
        -------
        dict of Situation to float
            Over every situation, summing to 1.
        """
        private = self.__pydantic_private__  # read directly: a private attribute's lookup
        assert private is not None  # goes through BaseModel.__getattr__ (about 1 µs)
        columns: dict[str, tuple[float, ...]] = private["_columns"]
        # each class's score gains col[i] * value feature by feature, in the features' order
        # (one float sum per class, the same additions in the same order as row by row)
        pairs = [
            (col, value)
            for name, value in features.items()
            if (col := columns.get(name)) is not None and value
        ]
        scores = []
        for i, intercept in enumerate(self.intercept):
            score = intercept
            for col, value in pairs:
                score += col[i] * value
            scores.append(score)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        out = dict.fromkeys(_SITUATIONS, 0.0)
        for s, e in zip(self.classes, exps, strict=True):
            out[s] = e / total
        return out


def fit_combiner(
    samples: Sequence[tuple[Mapping[str, float], Situation]],
    *,
    model_version: str,
    c: float = 1.0,
    measured: Mapping[str, Any] | None = None,
) -> Combiner:
    """Fit the combination on out-of-fold answers (scikit-learn's ``LogisticRegression``).

    Parameters
    ----------
    samples : sequence of (features, gold situation)
        :func:`combiner_features` of records whose model probabilities were computed without
        their writer, with the records' situations.
    model_version : str
        Recorded in the result.
    c : float
        Inverse L2 regularisation.
    measured : mapping, optional
        Extra provenance kept in ``measured``.

    Returns
    -------
    Combiner

    Raises
    ------
    ValueError
        Fewer than two situations among the samples.

    Examples
    --------
    >>> s = [({"a": 1.0}, Situation.OTHER), ({"b": 1.0}, Situation.NEW_DOMAIN)] * 5
    >>> fitted = fit_combiner(s, model_version="m")
    >>> p = fitted.probabilities({"b": 1.0})
    >>> p[Situation.NEW_DOMAIN] > 0.5 > p[Situation.OTHER]
    True
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    labels = sorted({s for _, s in samples}, key=_SITUATIONS.index)
    if len(labels) < 2:
        raise ValueError("need samples of at least two situations")
    names = sorted({k for f, _ in samples for k in f})
    index = {n: j for j, n in enumerate(names)}
    x = np.zeros((len(samples), len(names)))
    for i, (f, _) in enumerate(samples):
        for k, v in f.items():
            x[i, index[k]] = v
    y = [labels.index(s) for _, s in samples]
    lr = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(x, y)
    coef = np.asarray(lr.coef_)
    intercept = np.asarray(lr.intercept_)
    if len(labels) == 2:  # binary: scikit-learn keeps one row; spread it as softmax logits
        coef = np.vstack([-coef[0] / 2.0, coef[0] / 2.0])
        intercept = np.array([-intercept[0] / 2.0, intercept[0] / 2.0])
    return Combiner(
        model_version=model_version,
        classes=tuple(labels),
        features=tuple(names),
        coef=tuple(tuple(round(float(v), 6) for v in row) for row in coef),
        intercept=tuple(round(float(v), 6) for v in intercept),
        measured={"answers": len(samples), "C": c, **(measured or {})},
    )


def default_path() -> Path:
    """Where the shipped combiner lives (``icp_notify/data/combiner.json``).

    Returns
    -------
    Path

    Examples
    --------
    >>> default_path().name
    'combiner.json'
    """
    return Path(__file__).resolve().parent / "data" / "combiner.json"


def default_combiner(model_version: str | None) -> Combiner | None:
    """The shipped combiner, loaded once and validated; ``None`` when there is none.

    Parameters
    ----------
    model_version : str or None
        The version of the text model in use; a combiner fitted for another model is refused.

    Returns
    -------
    Combiner or None

    Raises
    ------
    ModelArtifactError
        The file is invalid, or was fitted for another model version.

    Examples
    --------
    >>> c = default_combiner(None)
    >>> c is None or len(c.classes) == 5
    True
    """
    return load_pinned(Combiner, default_path(), what="combiner", model_version=model_version)
