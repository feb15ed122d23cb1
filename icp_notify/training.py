"""Train, evaluate and export the text model (scikit-learn; never imported at inference).

The model predicts the :class:`~icp_notify.models.Kind` of a notice from the tokens of
:func:`icp_notify.textmodel.notice_tokens`. Features are those of :func:`icp_notify.textmodel.features`
(word and character n-grams) weighted by scikit-learn's ``TfidfVectorizer`` (sublinear tf, smooth idf,
l2 norm, ``min_df=2``) and fed to a multinomial ``LogisticRegression``. The hyper-parameters are chosen by
macro-F1 on the dev split (see :data:`GRID`), the model is refitted on the train split with the winner,
and :func:`export` writes ``model.json`` + ``model.npz`` that :class:`icp_notify.textmodel.TextModel`
loads with numpy only. Everything is deterministic (lbfgs, sorted inputs, no random state used).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from icp_notify import tokenize as tk
from icp_notify.models import CHANGE_SITUATIONS, KIND_SITUATION, Kind, Situation
from icp_notify.textmodel import FORMAT_VERSION, FeatureSettings, features

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "FILING_VOCABULARY",
    "GRID",
    "Candidate",
    "Example",
    "FittedModel",
    "TrainResult",
    "build_dictionary",
    "corpus_files",
    "examples_from_records",
    "export",
    "fit",
    "load_examples",
    "macro_f1",
    "situation_of_kind",
    "train",
]

Split = Literal["train", "dev", "test"]

FILING_VOCABULARY: tuple[str, ...] = (
    "备案",
    "备案号",
    "备案信息",
    "备案系统",
    "备案管理系统",
    "备案主体",
    "备案类型",
    "备案密码",
    "备案成功",
    "备案审核",
    "备案订单",
    "备案流程",
    "备案服务",
    "工信部",
    "工业和信息化部",
    "管局",
    "通信管理局",
    "接入商",
    "接入服务",
    "接入服务商",
    "接入服务提供商",
    "服务提供商",
    "接入备案",
    "新增接入",
    "取消接入",
    "接入成功",
    "成功接入",
    "转入",
    "转出",
    "接入信息",
    "接入商变更",
    "新增网站",
    "新增域名",
    "修改域名",
    "接入域名",
    "变更备案",
    "变更主体",
    "变更网站",
    "变更接入",
    "首次备案",
    "备案变更",
    "网站信息",
    "主体信息",
    "审核通过",
    "初审",
    "初审通过",
    "提交管局",
    "管局审核",
    "审核中",
    "审核结果",
    "退回",
    "驳回",
    "注销",
    "注销主体",
    "注销网站",
    "注销备案",
    "空壳",
    "空壳网站",
    "空壳主体",
    "核查",
    "整改",
    "逾期",
    "限期",
    "悬挂",
    "网站底部",
    "备案编号",
    "负责人",
    "网站负责人",
    "主体负责人",
    "幕布",
    "核验",
    "短信核验",
    "验证码",
    "核验码",
    "有效期",
    "短信",
    "邮件",
    "通知",
    "尊敬",
    "用户",
    "详情",
    "咨询",
    "登录",
    "控制台",
    "工单",
    "云服务器",
    "服务器",
    "域名",
    "网站",
    "网址",
    "链接",
    "点击",
    "公安",
    "公安备案",
    "公网安备",
    "网安备案",
    "经营性",
    "非经营性",
    "增值电信",
    "许可证",
    "阿里云",
    "腾讯云",
    "华为云",
    "百度智能云",
    "京东云",
    "西部数码",
    "新网",
    "美橙互联",
    "景安",
    "天翼云",
    "移动云",
    "火山引擎",
    "万网",
    "七牛云",
    "又拍云",
    "安全防护",
    "加速",
    "回源",
    "域名注册",
    "注册商",
    "过户",
    "续费",
    "到期",
    "优惠",
    "活动",
    "折扣",
    "代金券",
    "退订",
    "诈骗",
    "反诈",
    "冒充",
    "钓鱼",
    "提醒",
    "警惕",
    "已被",
    "已完成",
    "已通过",
)
"""Filing words kept whole by the tokenizer (added to :func:`build_dictionary`'s output)."""

VOCABULARY_FREQUENCY = 50_000
"""Dictionary frequency given to :data:`FILING_VOCABULARY` words, enough to win jieba's DAG path."""

DICTIONARY_TOP_N = 20_000
"""How many of jieba's most frequent words the bundled dictionary keeps."""


@dataclass(frozen=True)
class Candidate:
    """One hyper-parameter setting tried on the dev split.

    Examples
    --------
    >>> Candidate((1, 2), (1, 3), 10.0).label()
    'w1-2 c1-3 C=10 cw=None'
    """

    word_ngrams: tuple[int, int]
    char_ngrams: tuple[int, int]
    c: float
    class_weight: str | None = None

    def label(self) -> str:
        """A short name for tables.

        Returns
        -------
        str
            E.g. ``"w1-2 c1-3 C=10 cw=balanced"``.
        """
        return (
            f"w{self.word_ngrams[0]}-{self.word_ngrams[1]} c{self.char_ngrams[0]}-{self.char_ngrams[1]}"
            f" C={self.c:g} cw={self.class_weight}"
        )


GRID: tuple[Candidate, ...] = (
    Candidate((1, 2), (1, 3), 10.0),
    Candidate((1, 2), (0, 0), 10.0),
    Candidate((0, 0), (1, 3), 10.0),
    Candidate((1, 2), (1, 3), 3.0),
    Candidate((1, 2), (1, 3), 30.0),
    Candidate((1, 2), (1, 3), 10.0, "balanced"),
    Candidate((1, 2), (2, 4), 10.0),
)
"""The settings compared on the dev split (word/char n-gram ranges, inverse regularisation C).

The first is the default; on a tie the earlier candidate wins."""


@dataclass(frozen=True)
class Example:
    """A corpus record reduced to what training needs (see :func:`examples_from_records`).

    Examples
    --------
    >>> ex = Example("hw-9001", ("您", "的", "网站"), Kind.PROVIDER_ACCESS_CANCELLED, "train", "x.jsonl")
    >>> ex.kind.value, ex.writer
    ('provider_access_cancelled', None)
    """

    id: str
    tokens: tuple[str, ...]
    kind: Kind
    split: Split
    source: str
    writer: str | None = None


def situation_of_kind(kind: Kind) -> str:
    """The label scored by macro-F1: the kind's situation, or ``"ambiguous"`` for the generic notice.

    Parameters
    ----------
    kind : Kind
        A kind (or its value).

    Returns
    -------
    str

    Examples
    --------
    >>> situation_of_kind(Kind.PROVIDER_ACCESS_CANCELLED), situation_of_kind(Kind.CHANGE_NOTICE_GENERIC)
    ('access_cancelled', 'ambiguous')
    """
    sit = KIND_SITUATION[Kind(kind)]
    return "ambiguous" if sit is None else sit.value


def corpus_files(root: Path | None = None) -> list[Path]:
    """Return the corpus JSONL files (``corpus/*.jsonl`` of the source tree), sorted.

    Parameters
    ----------
    root : Path, optional
        The corpus directory (default: ``corpus/`` of the source tree).

    Returns
    -------
    list of Path

    Examples
    --------
    >>> all(p.suffix == ".jsonl" for p in corpus_files())
    True
    """
    root = root if root is not None else Path(__file__).resolve().parent.parent / "corpus"
    return sorted(root.glob("*.jsonl"))


def _text_tokens() -> Callable[[str, str | None, str | None, str | None], list[str]]:
    """Return ``f(text, channel, sender, subject) -> tokens`` exactly as inference derives them."""
    from icp_notify.models import RawMessage
    from icp_notify.textmodel import notice_tokens

    try:
        from icp_notify.parse import parse
    except ImportError:  # pragma: no cover - only before the parser exists
        from icp_notify.models import Notice

        def fallback(
            text: str, channel: str | None, sender: str | None, subject: str | None
        ) -> list[str]:
            return notice_tokens(Notice(raw_text=text, text=text, subject=subject))

        return fallback

    def via_parse(
        text: str, channel: str | None, sender: str | None, subject: str | None
    ) -> list[str]:
        raw = RawMessage(text=text, channel=channel, sender=sender, subject=subject)
        return notice_tokens(parse(raw))

    return via_parse


def _split_of(record_id: str) -> Split:
    try:
        from icp_notify.corpus import split_of
    except ImportError:  # pragma: no cover - only before the corpus module exists
        n = int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:8], 16) % 100
        return "train" if n < 70 else "dev" if n < 85 else "test"
    return split_of(record_id)


def _read_records(path: Path) -> list[dict[str, Any]]:
    """Read one corpus file (through :func:`icp_notify.corpus.load_corpus` when available)."""
    try:
        from icp_notify.corpus import load_corpus
    except ImportError:  # pragma: no cover - only before the corpus module exists
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    return [r.model_dump(mode="json") for r in load_corpus([path])]


def examples_from_records(records: Iterable[dict[str, Any]], source: str) -> list[Example]:
    """Tokenize corpus records (dicts in the corpus record format) into :class:`Example` s.

    Parameters
    ----------
    records : iterable of dict
        Corpus records (``id``, ``text``, ``kind``, optional ``channel``/``sender``/``subject``).
    source : str
        The file they came from, kept on each example.

    Returns
    -------
    list of Example
        In input order; the split comes from each record's id.

    Examples
    --------
    >>> [ex] = examples_from_records([{"id": "hw-0001", "text": "【某云】您的网站已取消接入。",
    ...     "kind": "provider_access_cancelled", "channel": "sms", "writer": "w01"}], "x.jsonl")
    >>> ex.kind.value, ex.split, ex.tokens[:6], ex.writer
    ('provider_access_cancelled', 'train', ('您', '的', '网站', '已', '取消接入', '。'), 'w01')
    """
    to_tokens = _text_tokens()
    out = []
    for r in records:
        tokens = to_tokens(r["text"], r.get("channel"), r.get("sender"), r.get("subject"))
        out.append(
            Example(
                r["id"],
                tuple(tokens),
                Kind(r["kind"]),
                _split_of(r["id"]),
                source,
                r.get("writer"),
            )
        )
    return out


def load_examples(paths: Sequence[Path] | None = None) -> list[Example]:
    """Load and tokenize the corpus files (default: :func:`corpus_files`), in id order.

    Parameters
    ----------
    paths : sequence of Path, optional
        Corpus JSONL files.

    Returns
    -------
    list of Example
        Sorted by record id.
    """
    paths = list(paths) if paths is not None else corpus_files()
    examples: list[Example] = []
    for path in paths:
        examples.extend(examples_from_records(_read_records(path), path.name))
    return sorted(examples, key=lambda e: e.id)


@dataclass
class FittedModel:
    """A fitted scikit-learn vectorizer + classifier and the settings that built them."""

    candidate: Candidate
    vectorizer: Any
    classifier: Any
    labels: tuple[Kind, ...]

    def predict_proba(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray[Any, Any]:
        """scikit-learn's probabilities, columns in :attr:`labels` order.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            One token list per notice.

        Returns
        -------
        ndarray
            Shape ``(len(token_lists), len(labels))``.
        """
        x = self.vectorizer.transform([list(t) for t in token_lists])
        return np.asarray(self.classifier.predict_proba(x))

    def predict(self, token_lists: Sequence[Sequence[str]]) -> list[Kind]:
        """The most probable kind of each token list.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            One token list per notice.

        Returns
        -------
        list of Kind
        """
        proba = self.predict_proba(token_lists)
        return [self.labels[i] for i in proba.argmax(axis=1)]


def fit(examples: Sequence[Example], candidate: Candidate) -> FittedModel:
    """Fit TF-IDF + logistic regression on ``examples`` with the given settings.

    Parameters
    ----------
    examples : sequence of Example
        The training examples (at least two kinds).
    candidate : Candidate
        N-gram ranges, ``C`` and class weighting.

    Returns
    -------
    FittedModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    settings = FeatureSettings(candidate.word_ngrams, candidate.char_ngrams)

    def analyzer(tokens: Sequence[str]) -> list[str]:
        return features(tokens, settings)

    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        lowercase=False,
        min_df=2,
        sublinear_tf=True,
        smooth_idf=True,
        norm="l2",
        dtype=np.float64,
    )
    x = vectorizer.fit_transform([list(e.tokens) for e in examples])
    y = [e.kind.value for e in examples]
    clf = LogisticRegression(
        C=candidate.c, max_iter=5000, tol=1e-6, class_weight=candidate.class_weight
    )
    clf.fit(x, y)
    labels = tuple(Kind(c) for c in clf.classes_)
    return FittedModel(candidate, vectorizer, clf, labels)


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-F1 over ``labels`` (a label absent from both gold and pred is skipped).

    Parameters
    ----------
    gold, pred : sequence of str
        Aligned gold and predicted labels.
    labels : sequence of str
        The labels to average over.

    Returns
    -------
    float
        0.0 when no label counts.

    Examples
    --------
    >>> macro_f1(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])
    0.6666666666666666
    """
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


SITUATION_LABELS: tuple[str, ...] = (*(s.value for s in CHANGE_SITUATIONS), Situation.OTHER.value)


def score(model: FittedModel, examples: Sequence[Example]) -> dict[str, float]:
    """Model-only metrics: kind accuracy, kind macro-F1, and situation macro-F1 (five labels, decided).

    Parameters
    ----------
    model : FittedModel
        The model to score.
    examples : sequence of Example
        The examples to score it on.

    Returns
    -------
    dict of str to float
        ``n``, ``kind_accuracy``, ``kind_macro_f1``, ``situation_macro_f1``,
        ``generic_recall`` (only ``n`` for no examples).
    """
    if not examples:
        return {"n": 0}
    pred = model.predict([e.tokens for e in examples])
    gold_k = [e.kind.value for e in examples]
    pred_k = [p.value for p in pred]
    decided = [i for i, e in enumerate(examples) if KIND_SITUATION[e.kind] is not None]
    gold_s = [situation_of_kind(examples[i].kind) for i in decided]
    pred_s = [situation_of_kind(pred[i]) for i in decided]
    generic = [i for i, e in enumerate(examples) if e.kind is Kind.CHANGE_NOTICE_GENERIC]
    return {
        "n": len(examples),
        "kind_accuracy": round(
            sum(g == p for g, p in zip(gold_k, pred_k, strict=True)) / len(gold_k), 4
        ),
        "kind_macro_f1": round(macro_f1(gold_k, pred_k, sorted(set(gold_k) | set(pred_k))), 4),
        "situation_macro_f1": round(macro_f1(gold_s, pred_s, SITUATION_LABELS), 4),
        "generic_recall": round(
            sum(pred[i] is Kind.CHANGE_NOTICE_GENERIC for i in generic) / len(generic), 4
        )
        if generic
        else 1.0,
    }


def export(model: FittedModel, out_dir: Path, metadata: dict[str, Any]) -> Path:
    """Write ``model.json`` + ``model.npz`` for :class:`icp_notify.textmodel.TextModel`.

    Parameters
    ----------
    model : FittedModel
        What :func:`fit` returned.
    out_dir : pathlib.Path
        Created if missing; existing model files are replaced.
    metadata : dict
        Extra keys for ``model.json`` (corpus hashes, metrics, …).

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    import sklearn

    vec, clf = model.vectorizer, model.classifier
    names = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    vocabulary = np.array(names, dtype=str)
    idf = np.asarray(vec.idf_, dtype=np.float64)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    # the version names the weights (layout 1's arrays), whatever the layout they are stored in
    digest = hashlib.sha256()
    for arr in (vocabulary, idf, coef, intercept):
        digest.update(np.ascontiguousarray(arr).tobytes())
    c = model.candidate
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "version": f"1.{digest.hexdigest()[:12]}",
        "labels": [k.value for k in model.labels],
        "features": FeatureSettings(c.word_ngrams, c.char_ngrams).to_dict(),
        "tfidf": {"sublinear_tf": True, "smooth_idf": True, "norm": "l2", "min_df": 2},
        "classifier": {
            "type": "LogisticRegression",
            "multi_class": "multinomial",
            "C": c.c,
            "class_weight": c.class_weight,
            "solver": "lbfgs",
        },
        "tokenizer": tk.settings(),
        "n_features": len(names),
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        **metadata,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp_npz = out_dir / "model.npz.tmp.npz"
    _write_arrays(tmp_npz, names, idf=idf, coef=coef, intercept=intercept)
    tmp_npz.replace(out_dir / "model.npz")
    tmp_json = out_dir / "model.json.tmp"
    tmp_json.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp_json.replace(out_dir / "model.json")
    return out_dir


def _write_arrays(
    path: Path,
    names: Sequence[str],
    *,
    idf: npt.NDArray[np.float64],
    coef: npt.NDArray[np.float64],
    intercept: npt.NDArray[np.float64],
) -> None:
    """Write ``model.npz`` in layout 2: the vocabulary as one UTF-8 text (names joined by
    newlines), the weights transposed (one row per feature), uncompressed — loading is a read."""
    if any("\n" in name for name in names):
        raise ValueError("a feature name holds a newline")
    utf8 = np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8)
    np.savez(
        path,
        vocabulary_utf8=utf8,
        idf=np.asarray(idf, dtype=np.float64),
        coef_t=np.ascontiguousarray(np.asarray(coef, dtype=np.float64).T),
        intercept=np.asarray(intercept, dtype=np.float64),
    )


def file_sha256(path: Path) -> str:
    """Return the sha256 (hex) of a file.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class TrainResult:
    """What :func:`train` did: the chosen model, the grid results and the metrics."""

    model: FittedModel
    out_dir: Path
    grid: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _select(
    train_ex: Sequence[Example],
    dev_ex: Sequence[Example],
    grid: Sequence[Candidate],
    log: Callable[[str], None],
) -> tuple[FittedModel, list[dict[str, Any]]]:
    rows = []
    best: tuple[tuple[float, float], int, FittedModel] | None = None
    for i, cand in enumerate(grid):
        t0 = time.perf_counter()
        m = fit(train_ex, cand)
        s = score(m, dev_ex)
        rows.append({"candidate": cand.label(), **s, "seconds": round(time.perf_counter() - t0, 2)})
        log(
            f"  {cand.label():40s} dev situation-F1 {s.get('situation_macro_f1')} kind-F1 {s.get('kind_macro_f1')}"
        )
        key = (float(s.get("situation_macro_f1", 0.0)), float(s.get("kind_macro_f1", 0.0)))
        if best is None or key > best[0]:  # ties keep the earlier (simpler) candidate
            best = (key, i, m)
    assert best is not None
    return best[2], rows


def train(
    out_dir: Path,
    *,
    paths: Sequence[Path] | None = None,
    grid: Sequence[Candidate] = GRID,
    generalisation: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> TrainResult:
    """Train on the train split, select on dev, report test, and export the artefact.

    Parameters
    ----------
    out_dir : pathlib.Path
        Where ``model.json`` and ``model.npz`` go.
    paths : sequence of pathlib.Path, optional
        Corpus files (default: :func:`corpus_files`).
    grid : sequence of Candidate
        Settings compared on the dev split; one candidate skips the selection.
    generalisation : bool
        Also train on everything *but* the generated file and score the hand-written dev+test
        records (recorded under ``metrics.generalisation``).
    log : callable
        Receives progress lines.

    Returns
    -------
    TrainResult

    Raises
    ------
    CorpusError
        When there are no corpus files, a record is invalid, or the train split has fewer than
        two kinds.
    """
    from icp_notify.errors import CorpusError

    t0 = time.perf_counter()
    paths = list(paths) if paths is not None else corpus_files()
    if not paths:
        raise CorpusError("corpus/", "no corpus/*.jsonl files found")
    examples = load_examples(paths)
    by_split: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for e in examples:
        by_split[e.split].append(e)
    log(
        f"corpus: {len(examples)} records "
        + ", ".join(f"{k} {len(v)}" for k, v in by_split.items())
    )
    if len({e.kind for e in by_split["train"]}) < 2:
        raise CorpusError(str(paths[0]), "the train split needs at least two kinds")
    dev = by_split["dev"] or by_split["train"]
    model, rows = (
        _select(by_split["train"], dev, grid, log)
        if len(grid) > 1
        else (
            fit(by_split["train"], grid[0]),
            [],
        )
    )
    log(f"chosen: {model.candidate.label()}")
    metrics: dict[str, Any] = {
        "train": score(model, by_split["train"]),
        "dev": score(model, by_split["dev"]),
        "test": score(model, by_split["test"]),
        "by_kind_counts": dict(sorted(Counter(e.kind.value for e in examples).items())),
    }
    if generalisation:
        metrics["generalisation"] = _generalisation(examples, model.candidate, log)
    meta = {
        "corpus": {p.name: file_sha256(p) for p in paths},
        "corpus_counts": {k: len(v) for k, v in by_split.items()},
        "selection": {"metric": "dev situation macro-F1, then dev kind macro-F1", "grid": rows},
        "metrics": metrics,
    }
    export(model, out_dir, meta)
    return TrainResult(model, out_dir, rows, metrics, time.perf_counter() - t0)


def _generalisation(
    examples: Sequence[Example], cand: Candidate, log: Callable[[str], None]
) -> dict[str, Any]:
    """Train without generated records; score hand-written held-out records (and the reverse)."""
    generated = [e for e in examples if "generated" in e.source]
    written = [e for e in examples if "generated" not in e.source]
    if not generated or not written:
        return {"skipped": "needs both generated and hand-written corpus files"}
    held_out = [e for e in written if e.split != "train"]
    out: dict[str, Any] = {}
    for name, train_set in (
        ("handwritten_train_only", [e for e in written if e.split == "train"]),
        ("generated_only", generated),
        ("all_train", [e for e in examples if e.split == "train"]),
    ):
        if len({e.kind for e in train_set}) < 2:
            continue
        m = fit(train_set, cand)
        out[name] = score(m, held_out)
        log(f"  generalisation {name:24s} on hand-written dev+test: {out[name]}")
    return out


def build_dictionary(out: Path | None = None, *, top_n: int = DICTIONARY_TOP_N) -> Path:
    """Write the bundled tokenizer dictionary (jieba format ``word frequency [tag]``) and its
    derived prefix dictionary beside it (``userdict_prefix.json``).

    It keeps the ``top_n`` most frequent words of jieba's own dictionary (MIT licence) plus
    :data:`FILING_VOCABULARY` at :data:`VOCABULARY_FREQUENCY`, sorted by word so the file is
    deterministic. A model trained before the dictionary changed must be retrained (the model
    records the dictionary's sha256).

    Parameters
    ----------
    out : pathlib.Path, optional
        Default: ``icp_notify/data/userdict.txt``.
    top_n : int
        How many common words to keep.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import jieba

    out = out if out is not None else tk.dictionary_path()
    source = Path(jieba.__file__).parent / "dict.txt"
    rows: list[tuple[str, int, str]] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            rows.append((parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""))
    rows.sort(key=lambda r: (-r[1], r[0]))
    words: dict[str, tuple[int, str]] = {w: (f, t) for w, f, t in rows[:top_n]}
    for word in FILING_VOCABULARY:
        freq, tag = words.get(word, (0, "n"))
        words[word.casefold()] = (max(freq, VOCABULARY_FREQUENCY), tag or "n")
    lines = [
        "# icp_notify tokenizer dictionary: jieba's most frequent words + the filing vocabulary.",
        "# Generated by icp_notify.training.build_dictionary(); retrain the model after changing it.",
    ]
    lines += [f"{w} {f} {t}".rstrip() for w, (f, t) in sorted(words.items())]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tk._write_prefix_dictionary(out)  # its derived copy, read at start-up (tokenize._dictionary)
    return out


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Prediction:
    """What a classifier said about one record (the fields evaluation needs)."""

    situation: str | None
    ambiguous: bool
    candidates: tuple[str, ...]
    confidence: float
    kind: str
    decided_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gold:
    """The label of one record (the fields evaluation needs)."""

    id: str
    situation: str | None
    ambiguous: bool
    candidates: tuple[str, ...]
    kind: str
    has_context: bool
    text: str = ""


EVAL_LABELS: tuple[str, ...] = SITUATION_LABELS
"""The five labels macro-F1 is computed over."""

AMBIGUOUS = "ambiguous"


def _label(situation: str | None) -> str:
    return AMBIGUOUS if situation is None else situation


def evaluate(golds: Sequence[Gold], preds: Sequence[Prediction]) -> dict[str, Any]:
    """Compute the evaluation metrics of ``icp-notify eval``.

    Parameters
    ----------
    golds, preds : sequences of Gold and Prediction
        Aligned one to one.

    Returns
    -------
    dict
        ``n``, ``per_label`` (precision/recall/F1/support for the five labels, over decided
        records), ``macro_f1``, ``confusion`` (gold row → predicted column, with ``ambiguous``),
        ``ambiguity_accuracy`` (flagged exactly the ambiguous ones, with the right candidate set),
        ``generic_flagged`` (generic notices without context flagged with all four candidates),
        ``context_accuracy`` (records with context decided exactly as labelled),
        ``other_as_change``, ``other_as_cancelled_confident`` (≥ 0.9), ``kind_accuracy`` and
        ``errors`` (the records got wrong).

    Raises
    ------
    ValueError
        When ``golds`` and ``preds`` are not aligned.

    Examples
    --------
    >>> g = [Gold("a", "other", False, ("other",), "unrelated", False),
    ...      Gold("b", None, True, ("new_domain", "modify_domain"), "change_notice_generic", True)]
    >>> p = [Prediction("other", False, ("other",), 0.9, "unrelated"),
    ...      Prediction(None, True, ("modify_domain", "new_domain"), 0.5, "change_notice_generic")]
    >>> m = evaluate(g, p)
    >>> m["ambiguity_accuracy"], m["context_accuracy"], m["other_as_change"]
    (1.0, 1.0, 0)
    """
    if len(golds) != len(preds):
        raise ValueError("golds and preds must be aligned")
    decided = [(g, p) for g, p in zip(golds, preds, strict=True) if not g.ambiguous]
    per_label: dict[str, dict[str, float]] = {}
    f1s = []
    for label in EVAL_LABELS:
        tp = sum(1 for g, p in decided if g.situation == label and p.situation == label)
        fp = sum(1 for g, p in decided if g.situation != label and p.situation == label)
        fn = sum(1 for g, p in decided if g.situation == label and p.situation != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        per_label[label] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
        if tp + fp + fn:
            f1s.append(f1)
    rows = [*EVAL_LABELS, AMBIGUOUS]
    confusion = {r: dict.fromkeys(rows, 0) for r in rows}
    for g, p in zip(golds, preds, strict=True):
        confusion[_label(g.situation)][_label(p.situation)] += 1

    def same(g: Gold, p: Prediction) -> bool:
        if g.ambiguous != p.ambiguous:
            return False
        return set(g.candidates) == set(p.candidates) if g.ambiguous else g.situation == p.situation

    flag_ok = [
        g.ambiguous == p.ambiguous and (not g.ambiguous or set(g.candidates) == set(p.candidates))
        for g, p in zip(golds, preds, strict=True)
    ]
    generic = [
        (g, p)
        for g, p in zip(golds, preds, strict=True)
        if g.kind == Kind.CHANGE_NOTICE_GENERIC.value and not g.has_context
    ]
    ctx = [(g, p) for g, p in zip(golds, preds, strict=True) if g.has_context]
    others = [(g, p) for g, p in zip(golds, preds, strict=True) if g.situation == "other"]
    change = {s.value for s in CHANGE_SITUATIONS}
    errors = [
        {
            "id": g.id,
            "gold": _label(g.situation),
            "gold_candidates": list(g.candidates),
            "pred": _label(p.situation),
            "pred_candidates": list(p.candidates),
            "confidence": round(p.confidence, 4),
            "gold_kind": g.kind,
            "pred_kind": p.kind,
            "text": g.text[:200],
        }
        for g, p in zip(golds, preds, strict=True)
        if not same(g, p)
    ]
    explicit = [
        (g, p)
        for g, p in decided
        if g.situation in change and g.kind != Kind.CHANGE_NOTICE_GENERIC.value
    ]
    return {
        **calibration(golds, preds),
        "explicit_change_recall": round(
            sum(p.situation == g.situation for g, p in explicit) / len(explicit), 4
        )
        if explicit
        else 1.0,
        "n_explicit_change": len(explicit),
        "n": len(golds),
        "n_decided": len(decided),
        "per_label": per_label,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "confusion_labels": rows,
        "confusion": confusion,
        "ambiguity_accuracy": round(sum(flag_ok) / len(flag_ok), 4) if flag_ok else 1.0,
        "generic_flagged": round(
            sum(1 for g, p in generic if p.ambiguous and set(p.candidates) == change)
            / len(generic),
            4,
        )
        if generic
        else 1.0,
        "n_generic_without_context": len(generic),
        "context_accuracy": round(sum(same(g, p) for g, p in ctx) / len(ctx), 4) if ctx else 1.0,
        "n_context": len(ctx),
        "other_as_change": sum(1 for _, p in others if p.situation in change),
        "other_as_cancelled_confident": sum(
            1 for _, p in others if p.situation == "access_cancelled" and p.confidence >= 0.9
        ),
        "kind_accuracy": round(
            sum(g.kind == p.kind for g, p in zip(golds, preds, strict=True)) / len(golds), 4
        )
        if golds
        else 1.0,
        "errors": errors,
    }


CONFIDENT = 0.9
"""A decided answer at or above this confidence is "confident": it must never be wrong."""


def calibration(
    golds: Sequence[Gold], preds: Sequence[Prediction], *, bins: int = 10
) -> dict[str, Any]:
    """How far the confidence of decided answers is from their accuracy.

    Only decided predictions count (an ambiguous answer claims no single label); a decided
    answer is right when its situation is the gold one, and wrong for a gold record that is
    ambiguous.

    Parameters
    ----------
    golds, preds : sequences of Gold and Prediction
        Aligned one to one.
    bins : int
        Equal-width confidence bins over [0, 1].

    Returns
    -------
    dict
        ``ece`` (expected calibration error: the count-weighted mean of |accuracy − mean
        confidence| over the bins), ``reliability`` (per non-empty bin: ``low``, ``high``,
        ``n``, ``confidence``, ``accuracy``), ``coverage`` (share of records decided),
        ``decided_accuracy``, and ``confident_errors`` (ids of decided answers with confidence
        ≥ :data:`CONFIDENT` that are wrong).

    Examples
    --------
    >>> g = [Gold("a", "other", False, ("other",), "unrelated", False),
    ...      Gold("b", "new_domain", False, ("new_domain",), "provider_new_domain", False)]
    >>> p = [Prediction("other", False, ("other",), 0.95, "unrelated"),
    ...      Prediction("other", False, ("other",), 0.92, "unrelated")]
    >>> m = calibration(g, p)
    >>> m["ece"], m["confident_errors"], m["coverage"]
    (0.435, ['b'], 1.0)
    """
    pairs = [(g, p) for g, p in zip(golds, preds, strict=True) if not p.ambiguous]
    table: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            (g, p)
            for g, p in pairs
            if low <= p.confidence < high or (b == bins - 1 and p.confidence >= high)
        ]
        if not inside:
            continue
        conf = sum(p.confidence for _, p in inside) / len(inside)
        acc = sum(p.situation == g.situation for g, p in inside) / len(inside)
        ece += abs(acc - conf) * len(inside)
        table.append(
            {
                "low": round(low, 2),
                "high": round(high, 2),
                "n": len(inside),
                "confidence": round(conf, 4),
                "accuracy": round(acc, 4),
            }
        )
    right = sum(p.situation == g.situation for g, p in pairs)
    return {
        "ece": round(ece / len(pairs), 4) if pairs else 0.0,
        "reliability": table,
        "coverage": round(len(pairs) / len(golds), 4) if golds else 1.0,
        "decided_accuracy": round(right / len(pairs), 4) if pairs else 1.0,
        "confident_errors": [
            g.id for g, p in pairs if p.confidence >= CONFIDENT and p.situation != g.situation
        ],
    }


def model_only_prediction(proba: dict[Kind, float]) -> Prediction:
    """Turn text-model probabilities into a :class:`Prediction` (no rules, no context).

    The most probable kind decides; the generic notice becomes ambiguous over the four situations.

    Parameters
    ----------
    proba : dict of Kind to float
        The text model's probabilities.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> p = model_only_prediction({Kind.CHANGE_NOTICE_GENERIC: 0.8, Kind.UNRELATED: 0.2})
    >>> p.ambiguous, len(p.candidates)
    (True, 4)
    """
    kind = max(proba, key=lambda k: (proba[k], k.value))
    sit = KIND_SITUATION[kind]
    if sit is None:
        return Prediction(
            None, True, tuple(s.value for s in CHANGE_SITUATIONS), proba[kind], kind.value
        )
    return Prediction(sit.value, False, (sit.value,), proba[kind], kind.value)
