"""Leave-one-writer-out evaluation: how the classifier reads notices written by hands it never saw.

Every corpus record names its ``writer`` (one person with one brief). For each writer, the text
model is trained on every *other* writer's records (all splits), exported, loaded through the same
numpy inference path as the shipped model (:class:`icp_notify.textmodel.TextModel`) and the full
classifier (shipped rules + that model + context) labels the left-out writer's records. The pooled
predictions give the headline figures of ``docs/model.md``; the random split says little, because
records of one writer share wording across splits.

The rules are not re-fitted per fold (they are hand-written): a rule fitted to one writer's wording
flatters that writer's figure, which is why every rule change must be confirmed by writers it was
not written for.

Calibration (:mod:`icp_notify.calibration`) is nested the same way: each writer's answers are
calibrated by a table fitted on the *other* writers' raw answers, so the calibrated figures are
what a writer nobody measured would see. Only independent writers' answers are calibrated on:
a template is not a hand, and the rules were written from the team's own notices.

The headline figures pool the **independent** writers only — those who saw neither the corpus
nor the rules (every writer but ``generator`` and the team's own ``team-*`` files).

Examples
--------
>>> folds = writer_groups([{"writer": "w01"}, {"writer": "w02"}, {"writer": "w01"}])
>>> folds
{'w01': [0, 2], 'w02': [1]}
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from icp_notify.calibration import CalibrationTable
    from icp_notify.combiner import Combiner
    from icp_notify.corpus import CorpusRecord
    from icp_notify.models import Classification, Kind, Situation
    from icp_notify.rules import RuleSet
    from icp_notify.training import Candidate, Example, Gold, Prediction

__all__ = [
    "WriterFold",
    "combine_folds",
    "combiner_samples",
    "fold_key",
    "gold_of",
    "independent",
    "leave_one_writer_out",
    "predict_record",
    "to_prediction",
    "writer_groups",
]


def independent(writer: str) -> bool:
    """Whether a writer wrote without seeing the corpus or the rules.

    Parameters
    ----------
    writer : str

    Returns
    -------
    bool

    Examples
    --------
    >>> independent("w03"), independent("team-hw"), independent("generator")
    (True, False, False)
    """
    return writer != "generator" and not writer.startswith("team-")


@dataclass
class WriterFold:
    """One left-out writer: its records' gold labels, the predictions and the metrics.

    Attributes
    ----------
    writer : str
        The writer left out of training.
    n_train : int
        Records the fold's model was trained on.
    golds, preds : list
        Aligned :class:`~icp_notify.training.Gold` / :class:`~icp_notify.training.Prediction`.
        ``preds`` are calibrated by a table fitted without this writer.
    raw : list of Classification
        The classifier's answers before calibration (with the nested combiner when one is used).
    records : list of CorpusRecord
        The fold's records, aligned with ``golds``.
    kinds : list of dict
        The fold model's kind probabilities of each record (out of fold).
    policy : list of Classification
        The hand-written policy's answers (no combiner), before calibration.
    metrics : dict
        :func:`icp_notify.training.evaluate` of this writer's records (calibrated).
    seconds : float
        Time to train and predict the fold.
    """

    writer: str
    n_train: int
    golds: list[Gold] = field(default_factory=list)
    preds: list[Prediction] = field(default_factory=list)
    raw: list[Classification] = field(default_factory=list)
    records: list[CorpusRecord] = field(default_factory=list)
    kinds: list[dict[Kind, float]] = field(default_factory=list)
    policy: list[Classification] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def writer_groups(records: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """Indices of the records of each writer, writers in name order.

    Parameters
    ----------
    records : iterable of mapping
        Records with a ``writer`` key (``None`` groups as ``"unknown"``).

    Returns
    -------
    dict of str to list of int

    Examples
    --------
    >>> writer_groups([{"writer": "w02"}, {"writer": "w01"}, {"writer": None}, {"writer": "w01"}])
    {'unknown': [2], 'w01': [1, 3], 'w02': [0]}
    """
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.get("writer") or "unknown", []).append(i)
    return dict(sorted(groups.items()))


def gold_of(record: CorpusRecord) -> Gold:
    """The evaluation label of a corpus record.

    Parameters
    ----------
    record : CorpusRecord

    Returns
    -------
    Gold

    Examples
    --------
    >>> from icp_notify.corpus import CorpusRecord
    >>> r = CorpusRecord(id="hw-9001", writer="w01", text="您的备案信息已被变更。", channel="sms",
    ...     situation=None, kind="change_notice_generic", ambiguous=True,
    ...     candidates=["access_domain", "modify_domain", "new_domain", "access_cancelled"])
    >>> g = gold_of(r)
    >>> g.situation, g.kind, g.candidates[0], g.has_context
    (None, 'change_notice_generic', 'access_domain', False)
    """
    from icp_notify.training import Gold

    return Gold(
        record.id,
        record.situation.value if record.situation is not None else None,
        record.ambiguous,
        tuple(s.value for s in record.candidates),
        record.kind.value,
        record.context is not None,
        record.text,
    )


def predict_record(classifier: Any, record: CorpusRecord) -> Classification:
    """Run the full classifier on one corpus record (text, channel, sender, time, subject, context).

    Parameters
    ----------
    classifier : icp_notify.classifier.Classifier
    record : CorpusRecord

    Returns
    -------
    Classification
    """
    from icp_notify.models import RawMessage
    from icp_notify.parse import parse

    raw = RawMessage(
        text=record.text,
        channel=record.channel,
        sender=record.sender,
        received_at=record.received_at,
        subject=record.subject,
    )
    result: Classification = classifier.classify_notice(parse(raw), record.context)
    return result


def to_prediction(c: Classification) -> Prediction:
    """The fields evaluation needs from a Classification.

    Parameters
    ----------
    c : Classification

    Returns
    -------
    Prediction

    Examples
    --------
    >>> from icp_notify import classify
    >>> p = to_prediction(classify("【某云】尊敬的用户，您的网站 example-shop.cn 已完成取消接入。"))
    >>> p.situation, p.kind, p.decided_by
    ('access_cancelled', 'provider_access_cancelled', ('rules', 'model'))
    """
    from icp_notify.training import Prediction

    return Prediction(
        c.situation.value if c.situation is not None else None,
        c.ambiguous,
        tuple(s.value for s in c.candidates),
        float(c.confidence),
        c.kind.value,
        tuple(d.value for d in c.decided_by),
    )


def leave_one_writer_out(
    paths: Sequence[Path] | None = None,
    *,
    candidate: Candidate | None = None,
    writers: Sequence[str] | None = None,
    threshold: float | None = None,
    combine: bool = True,
    fold_cache: Path | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[list[WriterFold], dict[str, Any]]:
    """Train without each writer, classify that writer's records, and pool the predictions.

    Parameters
    ----------
    paths : sequence of Path, optional
        The corpus files that form the pool (default: :func:`icp_notify.training.corpus_files`).
        Every record must name its writer.
    candidate : Candidate, optional
        Model settings (default: those of the shipped model, :func:`shipped_candidate`).
    writers : sequence of str, optional
        Leave out only these writers (each is still trained without); default: every writer.
        Calibration is then fitted on the chosen writers' answers only.
    threshold : float, optional
        The selective threshold of the nested calibration.
    combine : bool
        Decide with a combiner (:mod:`icp_notify.combiner`) fitted, for each writer, on the
        other independent writers' out-of-fold answers (:func:`combine_folds`); ``False``
        keeps the hand-written policy.
    fold_cache : Path, optional
        A directory that keeps each fold's exported model under :func:`fold_key` (the fold's
        training examples, the settings and the training code): a rule or combiner experiment
        then re-uses the models instead of re-fitting them. Default: no cache.
    log : callable
        Receives a progress line per fold.

    Returns
    -------
    folds : list of WriterFold
        One per left-out writer.
    pooled : dict
        :func:`icp_notify.training.evaluate` over the calibrated predictions of the independent
        writers' folds (of every fold when none is independent), with ``before_calibration``
        (the same figures before calibration) and ``writers_pooled``.

    Raises
    ------
    CorpusError
        A file is invalid, a record names no writer, a requested writer has no records, or
        fewer than two writers remain.
    InputError
        ``fold_cache`` cannot be made a directory (a file is in the way, no permission).
    """
    from icp_notify.classifier import Classifier
    from icp_notify.corpus import load_corpus
    from icp_notify.errors import CorpusError, InputError
    from icp_notify.rules import default_rules
    from icp_notify.textmodel import TextModel
    from icp_notify.training import corpus_files, evaluate, examples_from_records, export, fit

    files = list(paths) if paths is not None else corpus_files()
    records = load_corpus(files)
    nameless = [r.id for r in records if r.writer is None]
    if nameless:
        raise CorpusError(
            ", ".join(str(f) for f in files),
            f"{len(nameless)} record(s) name no writer (first: {nameless[0]});"
            " leave-one-writer-out groups by it",
        )
    dumped = [r.model_dump(mode="json") for r in records]
    groups = writer_groups(dumped)
    if len(groups) < 2:
        raise CorpusError(str(files[0]) if files else "corpus/", "needs at least two writers")
    chosen = list(writers) if writers is not None else list(groups)
    unknown = [w for w in chosen if w not in groups]
    if unknown:
        raise CorpusError(
            "--writer", f"no records by {', '.join(unknown)} (writers: {', '.join(groups)})"
        )
    if fold_cache is not None:
        try:
            fold_cache.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(
                "unreadable",
                f"cannot keep fold models in {fold_cache}: {e.strerror}",
                where="--fold-cache",
            ) from e
    examples = examples_from_records(dumped, "pool")
    cand = candidate if candidate is not None else shipped_candidate()
    rules = default_rules()
    folds: list[WriterFold] = []
    with tempfile.TemporaryDirectory(prefix="icp-lowo-") as tmp:
        for writer in chosen:
            t0 = time.perf_counter()
            held = set(groups[writer])
            train = [e for i, e in enumerate(examples) if i not in held]
            if fold_cache is None:
                model_dir = export(fit(train, cand), Path(tmp) / writer, {"fold": writer})
            else:
                model_dir = fold_cache / f"{writer}-{fold_key(train, cand)}"
                if not (model_dir / "model.json").is_file():
                    export(fit(train, cand), model_dir, {"fold": writer})
            recording = _Recording(TextModel.load(model_dir))
            classifier = Classifier(rules, recording)
            fold = WriterFold(writer, len(train))
            for i in groups[writer]:
                fold.records.append(records[i])
                fold.golds.append(gold_of(records[i]))
                fold.policy.append(predict_record(classifier, records[i]))
                fold.kinds.append(recording.last)
            fold.raw = list(fold.policy)
            fold.seconds = round(time.perf_counter() - t0, 1)
            raw_metrics = evaluate(fold.golds, [to_prediction(c) for c in fold.raw])
            log(
                f"  {writer:12s} n={len(held):4d} macro-F1 {raw_metrics['macro_f1']:.4f}"
                f" (policy, before calibration; {fold.seconds} s)"
            )
            folds.append(fold)
    if combine:
        combine_folds(folds, rules)
    calibrate_folds(folds, threshold=threshold)
    kept = [f for f in folds if independent(f.writer)] or folds
    pooled = evaluate([g for f in kept for g in f.golds], [p for f in kept for p in f.preds])
    raw = evaluate(
        [g for f in kept for g in f.golds], [to_prediction(c) for f in kept for c in f.raw]
    )
    pooled["writers_pooled"] = [f.writer for f in kept]
    pooled["before_calibration"] = {
        k: raw[k]
        for k in ("macro_f1", "explicit_change_recall", "ece", "coverage", "confident_errors")
    }
    return folds, pooled


def fold_key(train: Sequence[Example], candidate: Candidate) -> str:
    """The name under which a fold's model is cached: what the fit depends on, hashed.

    Parameters
    ----------
    train : sequence of Example
        The fold's training examples, in order (their ids, tokens and kinds count).
    candidate : Candidate
        The model settings.

    Returns
    -------
    str
        16 hex digits over the examples, the settings, the scikit-learn version and the source of
        :mod:`icp_notify.training` (a change to how models are fitted or exported is a new key).

    Examples
    --------
    >>> from icp_notify.training import GRID, Example
    >>> from icp_notify.models import Kind
    >>> ex = Example("w01-0001", ("已", "取消", "接入"), Kind.PROVIDER_ACCESS_CANCELLED, "train", "x")
    >>> len(fold_key([ex], GRID[0])), fold_key([ex], GRID[0]) == fold_key([ex, ex], GRID[0])
    (16, False)
    """
    import hashlib

    digest = hashlib.sha256()
    digest.update(candidate.label().encode())
    digest.update(_fit_code_digest())
    for e in train:
        digest.update(json.dumps([e.id, e.kind.value, e.tokens], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


@functools.cache
def _fit_code_digest() -> bytes:
    """The scikit-learn version and the source of :mod:`icp_notify.training`, hashed (read once)."""
    import hashlib

    import sklearn

    from icp_notify import training

    return hashlib.sha256(
        sklearn.__version__.encode() + Path(training.__file__).read_bytes()
    ).digest()


class _Recording:
    """A text model that remembers the kind probabilities of its last call."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.version = model.version
        self.last: dict[Kind, float] = {}

    def predict_proba(self, tokens: Sequence[str]) -> Mapping[Kind, float]:
        self.last = dict(self.model.predict_proba(tokens))
        return self.last

    def top_features(self, tokens: Sequence[str], kind: Kind, n: int) -> Any:
        return self.model.top_features(tokens, kind, n)


class _Replay:
    """A text model answering with recorded probabilities (set :attr:`kinds` before each call)."""

    version = "leave-one-writer-out"

    def __init__(self) -> None:
        self.kinds: dict[Kind, float] = {}

    def predict_proba(self, tokens: Sequence[str]) -> Mapping[Kind, float]:
        del tokens
        return self.kinds


def combiner_samples(folds: Sequence[WriterFold]) -> list[tuple[dict[str, float], Situation]]:
    """The combiner's training answers: ``(features, gold situation)`` of the records of the
    independent writers' folds that the combiner decides (not the generic notice, not a context
    decision, not a hard veto), computed from the out-of-fold model probabilities.

    Parameters
    ----------
    folds : sequence of WriterFold
        Folds with ``records``, ``kinds`` and ``policy``.

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> combiner_samples([WriterFold("generator", 0)])  # not a hand: never fitted on
    []
    """
    from icp_notify.classifier import sure_rule
    from icp_notify.combiner import HARD_KINDS, combiner_features
    from icp_notify.models import Decider, Kind, Situation

    out: list[tuple[dict[str, float], Situation]] = []
    for f in folds:
        if not independent(f.writer):
            continue
        for record, kinds, answer in zip(f.records, f.kinds, f.policy, strict=True):
            if record.ambiguous or record.situation is None or not kinds:
                continue
            rules = [e for e in answer.evidence if e.source == "rule"]
            best = sure_rule(rules)
            if (
                answer.kind is Kind.CHANGE_NOTICE_GENERIC
                or Decider.CONTEXT in answer.decided_by
                or (best is not None and best.kind in HARD_KINDS)
            ):
                continue
            channel = record.channel.value if record.channel is not None else None
            feats = combiner_features(
                rules, kinds, text=_answer_text(record), subject=record.subject, channel=channel
            )
            out.append((feats, Situation(record.situation)))
    return out


def _answer_text(record: CorpusRecord) -> str:
    """``Notice.text`` of a corpus record, as the classifier sees it (parsed)."""
    from icp_notify.models import RawMessage
    from icp_notify.parse import parse

    raw = RawMessage(
        text=record.text,
        channel=record.channel,
        sender=record.sender,
        received_at=record.received_at,
        subject=record.subject,
    )
    return parse(raw).text


def combine_folds(
    folds: Sequence[WriterFold], rules: RuleSet, *, c: float | None = None
) -> dict[str, Combiner]:
    """Answer each fold with a combiner fitted on the *other* independent writers (in place).

    Each fold's ``raw`` becomes the classifier's answers with that combiner and the fold's
    recorded model probabilities (``policy`` keeps the hand-written policy's answers).

    Parameters
    ----------
    folds : sequence of WriterFold
        Folds with ``records``, ``kinds`` and ``policy``.
    rules : RuleSet
        The rules the folds were classified with.
    c : float, optional
        The combiner's regularisation (default :data:`icp_notify.combiner.COMBINER_C`).

    Returns
    -------
    dict of str to Combiner
        The combiner each writer was answered with (none when the others' answers hold fewer
        than two situations; that fold keeps its ``policy`` answers).

    Examples
    --------
    >>> from icp_notify.rules import default_rules
    >>> combine_folds([WriterFold("w01", 0), WriterFold("w02", 0)], default_rules())
    {}
    """
    from icp_notify.classifier import Classifier
    from icp_notify.combiner import COMBINER_C, fit_combiner

    per_fold = {f.writer: combiner_samples([f]) for f in folds}
    combiners: dict[str, Combiner] = {}
    replay = _Replay()
    for f in folds:
        samples = [s for w, ss in per_fold.items() if w != f.writer for s in ss]
        if len({s for _, s in samples}) < 2:
            continue
        combiner = fit_combiner(
            samples, model_version=replay.version, c=COMBINER_C if c is None else c
        )
        combiners[f.writer] = combiner
        classifier = Classifier(rules, replay, combiner=combiner)
        f.raw = []
        for record, kinds in zip(f.records, f.kinds, strict=True):
            replay.kinds = kinds
            f.raw.append(predict_record(classifier, record))
    return combiners


def shipped_candidate() -> Candidate:
    """The settings the shipped model was trained with (read from its ``model.json``).

    Returns
    -------
    Candidate
        Word and character n-gram ranges, ``C`` and class weighting; the first of
        :data:`icp_notify.training.GRID` when the artefact records none.

    Examples
    --------
    >>> shipped_candidate().label().startswith("w")
    True
    """
    from icp_notify.textmodel import default_model_dir
    from icp_notify.training import GRID, Candidate

    try:
        meta = json.loads((default_model_dir() / "model.json").read_text(encoding="utf-8"))
        features, clf = meta["features"], meta["classifier"]
        return Candidate(
            tuple(features["word_ngrams"]),
            tuple(features["char_ngrams"]),
            float(clf["C"]),
            clf.get("class_weight"),
        )
    except (OSError, KeyError, TypeError, ValueError):
        return GRID[0]


def calibration_samples(folds: Sequence[WriterFold]) -> list[tuple[str, float, bool]]:
    """``(route, raw confidence, right)`` of the calibratable answers of these folds.

    Parameters
    ----------
    folds : sequence of WriterFold
        Folds with raw answers; only independent writers' folds count (:func:`independent`:
        the template generator is not a hand, and the team's own notices are where the rules
        were written from, so their answers are right more often than a new hand's).

    Returns
    -------
    list of tuple
    """
    from icp_notify.calibration import applies, route_of

    out: list[tuple[str, float, bool]] = []
    for f in folds:
        if not independent(f.writer):
            continue
        for g, c in zip(f.golds, f.raw, strict=True):
            if applies(c):
                right = c.situation is not None and c.situation.value == g.situation
                out.append((route_of(c), c.confidence, right))
    return out


def calibrate_folds(
    folds: Sequence[WriterFold], *, threshold: float | None = None
) -> dict[str, CalibrationTable]:
    """Calibrate each fold's raw answers with a table fitted on the other folds (in place).

    Parameters
    ----------
    folds : sequence of WriterFold
        Folds with ``golds`` and ``raw``; ``preds`` and ``metrics`` are (re)written.
    threshold : float, optional
        The selective threshold (default :data:`icp_notify.calibration.DEFAULT_THRESHOLD`).

    Returns
    -------
    dict of str to CalibrationTable
        The table each writer was calibrated with.
    """
    from icp_notify.calibration import DEFAULT_THRESHOLD, apply, fit_table
    from icp_notify.training import evaluate

    tables: dict[str, CalibrationTable] = {}
    for f in folds:
        samples = calibration_samples([o for o in folds if o is not f])
        table = (
            fit_table(
                samples,
                model_version="leave-one-writer-out",
                threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            )
            if samples
            else None
        )
        f.preds = [to_prediction(apply(c, table)) for c in f.raw]
        f.metrics = evaluate(f.golds, f.preds)
        if table is not None:
            tables[f.writer] = table
    return tables
