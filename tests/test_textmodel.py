"""The shipped text model: artefact validation, numpy-only inference, explanations, the subject
first; its fast paths give bit-identical floats."""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify.errors import ModelArtifactError
from icp_notify.models import Kind, Notice, RawMessage
from icp_notify.parse import parse
from icp_notify.textmodel import (
    _SUBLINEAR,
    FeatureSettings,
    TextModel,
    _coded_indices,
    _codes,
    _feature_indices,
    _split_vocabulary,
    _Vocabulary,
    default_model,
    default_model_dir,
    display_feature,
    features,
    model_text,
    notice_tokens,
)
from icp_notify.tokenize import PLACEHOLDERS, tokenize

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


@pytest.fixture
def artefact(tmp_path: Path) -> Path:
    out = tmp_path / "model"
    shutil.copytree(default_model_dir(), out)
    return out


def _meta(d: Path) -> dict[str, object]:
    return json.loads((d / "model.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _write_meta(d: Path, meta: dict[str, object]) -> None:
    (d / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _save(d: Path, arrays: dict[str, Any]) -> None:
    np.savez(d / "model.npz", allow_pickle=True, **arrays)


def _arrays(d: Path) -> dict[str, np.ndarray]:
    with np.load(d / "model.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_shipped_model_loads_and_scores_the_generic_notice() -> None:
    m = default_model()
    p = m.predict_proba(tokenize(GENERIC))
    assert set(p) == set(Kind)
    assert sum(p.values()) == pytest.approx(1.0, abs=1e-12)
    assert max(p, key=p.__getitem__) is Kind.CHANGE_NOTICE_GENERIC
    assert all(p[k] == 0.0 for k in Kind if k not in m.labels)


def test_top_features_explain_the_prediction() -> None:
    m = default_model()
    tokens = tokenize(GENERIC)
    feats = m.top_features(tokens, Kind.CHANGE_NOTICE_GENERIC, n=4)
    assert 1 <= len(feats) <= 4
    weights = [w for _, w in feats]
    assert weights == sorted(weights, reverse=True)
    assert all(w > 0 for w in weights)
    assert all(name.startswith(("w:", "c:")) for name, _ in feats)
    assert m.top_features(tokens, Kind.CHANGE_NOTICE_GENERIC, n=0) == []
    assert m.top_features([], Kind.CHANGE_NOTICE_GENERIC) == []


def test_empty_tokens_give_a_distribution() -> None:
    p = default_model().predict_proba([])
    assert sum(p.values()) == pytest.approx(1.0)


def test_default_model_is_cached() -> None:
    assert default_model() is default_model()


def test_inference_never_imports_sklearn() -> None:
    code = (
        "import sys\n"
        "from icp_notify.textmodel import default_model\n"
        "from icp_notify.tokenize import tokenize\n"
        f"default_model().predict_proba(tokenize({GENERIC!r}))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_copy_loads(artefact: Path) -> None:
    m = TextModel.load(artefact)
    assert m.version == default_model().version
    assert m.labels == default_model().labels


def test_missing_files(artefact: Path) -> None:
    (artefact / "model.npz").unlink()
    with pytest.raises(ModelArtifactError, match=r"model\.npz: missing"):
        TextModel.load(artefact)
    (artefact / "model.json").unlink()
    with pytest.raises(ModelArtifactError, match=r"model\.json: missing"):
        TextModel.load(artefact)


def test_corrupt_json(artefact: Path) -> None:
    (artefact / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelArtifactError, match="not valid JSON"):
        TextModel.load(artefact)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("format_version", 99, "format_version"),
        ("labels", ["no_such_kind", "unrelated"], "invalid metadata"),
        ("labels", ["unrelated"], "labels"),
        ("features", {"word_ngrams": [2, 1], "char_ngrams": [0, 0]}, "invalid metadata"),
    ],
)
def test_invalid_metadata(artefact: Path, key: str, value: object, message: str) -> None:
    meta = _meta(artefact)
    meta[key] = value
    _write_meta(artefact, meta)
    with pytest.raises(ModelArtifactError, match=message):
        TextModel.load(artefact)


def test_dictionary_mismatch_is_refused(artefact: Path) -> None:
    meta = _meta(artefact)
    tok = dict(meta["tokenizer"])  # type: ignore[call-overload]
    tok["dictionary_sha256"] = "0" * 64
    meta["tokenizer"] = tok
    _write_meta(artefact, meta)
    with pytest.raises(ModelArtifactError, match="different tokenizer dictionary"):
        TextModel.load(artefact)


def test_corrupt_npz(artefact: Path) -> None:
    (artefact / "model.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(ModelArtifactError, match="corrupt"):
        TextModel.load(artefact)


def test_pickle_in_npz_is_refused(artefact: Path) -> None:
    arrays = _arrays(artefact)
    arrays["vocabulary_utf8"] = np.array(list(arrays["vocabulary_utf8"]), dtype=object)
    _save(artefact, arrays)
    with pytest.raises(ModelArtifactError, match="pickled"):
        TextModel.load(artefact)


def test_shape_mismatch_and_non_finite(artefact: Path) -> None:
    arrays = _arrays(artefact)
    good = dict(arrays)
    arrays["coef_t"] = arrays["coef_t"][:-1]
    _save(artefact, arrays)
    with pytest.raises(ModelArtifactError, match="coef has shape"):
        TextModel.load(artefact)
    good["idf"] = good["idf"].copy()
    good["idf"][0] = np.nan
    _save(artefact, good)
    with pytest.raises(ModelArtifactError, match="finite"):
        TextModel.load(artefact)


def test_missing_array(artefact: Path) -> None:
    arrays = _arrays(artefact)
    del arrays["intercept"]
    _save(artefact, arrays)
    with pytest.raises(ModelArtifactError, match="missing array"):
        TextModel.load(artefact)


def test_vocabulary_that_is_not_utf8_is_refused(artefact: Path) -> None:
    arrays = _arrays(artefact)
    arrays["vocabulary_utf8"] = np.concatenate(
        [arrays["vocabulary_utf8"], np.array([0xFF, 0xFE], dtype=np.uint8)]
    )
    _save(artefact, arrays)
    with pytest.raises(ModelArtifactError, match="not UTF-8"):
        TextModel.load(artefact)


def test_layout_1_artefacts_still_load_with_the_same_answers(artefact: Path) -> None:
    """A model trained before layout 2 (unicode vocabulary, coef per class, compressed) loads
    and gives exactly the shipped model's probabilities: the version names the weights."""
    arrays = _arrays(artefact)
    names = bytes(arrays["vocabulary_utf8"]).decode("utf-8").split("\n")
    np.savez_compressed(
        artefact / "model.npz",
        vocabulary=np.array(names, dtype=str),
        idf=arrays["idf"],
        coef=arrays["coef_t"].T,
        intercept=arrays["intercept"],
    )
    meta = _meta(artefact)
    meta["format_version"] = 1
    _write_meta(artefact, meta)
    old, shipped = TextModel.load(artefact), default_model()
    assert old.version == shipped.version
    for text in (GENERIC, "您的网站已取消接入", "【某云】您的新增网站备案已通过管局审核"):
        tokens = tokenize(text)
        assert old.predict_proba(tokens) == shipped.predict_proba(tokens)
        kind = max(shipped.predict_proba(tokens).items(), key=lambda kv: kv[1])[0]
        assert old.top_features(tokens, kind) == shipped.top_features(tokens, kind)


# --------------------------------------------------------------------------- fast paths
# The scoring's shortcuts give bit-identical floats to the straightforward computation.


@functools.cache
def _names_of(m: TextModel) -> list[str]:
    """Every column's feature name (built once per model: the model keeps no such list)."""
    return m._feature_names()


@functools.cache
def _vocabulary_of(m: TextModel) -> dict[str, int]:
    """Feature name → column (the model keeps no such dict)."""
    return {name: j for j, name in enumerate(_names_of(m))}


def _reference_vector(m: TextModel, tokens: Sequence[str]) -> tuple[list[int], np.ndarray]:
    """TF-IDF as the model computed it before the fast paths: strings, Counter, numpy."""
    get = _vocabulary_of(m).get
    counts: Counter[int | None] = Counter([get(f) for f in features(tokens, m.settings)])
    counts.pop(None, None)
    idx = [j for j in counts if j is not None]
    tf = [_SUBLINEAR[c] if c < len(_SUBLINEAR) else 1.0 + math.log(c) for c in counts.values()]
    values = np.asarray(tf, dtype=np.float64) * m._idf[idx]
    norm = float(np.sqrt(values @ values))
    if norm > 0.0:
        values /= norm
    return idx, values


def _reference_proba(m: TextModel, tokens: Sequence[str]) -> dict[Kind, float]:
    idx, values = _reference_vector(m, tokens)
    scores = values @ m._coef_t[idx] + m._intercept
    scores = scores - scores.max()
    probs = np.exp(scores)
    probs /= probs.sum()
    out = dict.fromkeys(Kind, 0.0)
    for label, p in zip(m.labels, probs.tolist(), strict=True):
        out[label] = p
    return out


def _reference_top(
    m: TextModel, tokens: Sequence[str], kind: Kind, n: int
) -> list[tuple[str, float]]:
    idx, values = _reference_vector(m, tokens)
    if not idx:
        return []
    contrib = values * m._coef_t[idx, m.labels.index(kind)]
    order = np.lexsort((np.asarray(idx), -contrib))[:n].tolist()
    names = _names_of(m)
    top = contrib.tolist()
    return [(display_feature(names[idx[i]]), round(top[i], 6)) for i in order if top[i] > 0]


def _fresh(m: TextModel) -> None:
    m._last = threading.local()


def test_indices_follow_the_feature_strings() -> None:
    m = default_model()
    s = FeatureSettings((1, 3), (1, 4))
    vocabulary = _vocabulary_of(m)
    words, chars = _split_vocabulary(vocabulary)
    tokens = ["您", "的", "网站", PLACEHOLDERS["ICP"], "已", "取消接入", "a b", ""]
    expected = [vocabulary.get(f) for f in features(tokens, s)]
    assert list(_feature_indices(tokens, s, words, chars)) == expected
    s2 = FeatureSettings((0, 0), (2, 3))
    expected = [vocabulary.get(f) for f in features(tokens, s2)]
    assert list(_feature_indices(tokens, s2, words, chars)) == expected


CODED_TOKENS = [
    ["您", "的", "网站", PLACEHOLDERS["ICP"], "已", "取消接入", "a b", ""],
    ["\x00", "\x00a", "𠀀𠀁", "\ud800", "x"],  # NUL, astral and lone-surrogate code points
    ["备"],
    [],
]


@pytest.mark.parametrize("chars", [(1, 1), (1, 2), (1, 3), (2, 3), (3, 3), (0, 0)])
def test_coded_char_lookups_give_the_string_lookups_indices(chars: tuple[int, int]) -> None:
    """Character n-grams looked up by their code point codes: the same indices in the same
    order as the strings, for every range the coding covers, on the corpus and odd characters."""
    m = default_model()
    names = _names_of(m)
    strings = _Vocabulary.from_names(names)
    coded = _Vocabulary.from_names(names)
    coded.code_chars()
    assert coded.char_codes is not None
    assert coded.chars is None
    assert [coded.name(j) for j in range(len(names))] == names
    assert strings.chars is not None
    s = FeatureSettings((1, 2), chars)
    words_only = FeatureSettings((1, 2), (0, 0))
    for tokens in [*CODED_TOKENS, *(tokenize(t) for t in corpus_texts()[::7])]:
        want = list(_feature_indices(tokens, s, strings.words, strings.chars, _codes()))
        got = list(
            _coded_indices(tokens, words_only, chars, coded.words, coded.char_codes, _codes())
        )
        assert got == want, tokens


def test_a_vocabulary_with_longer_character_names_keeps_the_strings() -> None:
    v = _Vocabulary.from_names(["c:a", "c:abcd", "w:x"])
    v.code_chars()
    assert v.char_codes is None
    assert v.chars == {"a": 0, "abcd": 1}


def test_top_features_break_ties_by_column_for_every_n() -> None:
    """The first n by contribution (ties by column, as numpy's lexsort) for every n, on a
    notice whose features include equal contributions."""
    m = default_model()
    tokens = tokenize(GENERIC)
    kind = Kind.CHANGE_NOTICE_GENERIC
    full = m.top_features(tokens, kind, 1000)
    weights = [w for _, w in full]
    assert len(set(weights)) < len(weights)  # ties present
    for n in (*range(12), 1000):
        assert m.top_features(tokens, kind, n) == _reference_top(m, tokens, kind, n)


def test_bit_identical_on_the_corpus() -> None:
    m = default_model()
    for text in corpus_texts():
        tokens = tokenize(text)
        _fresh(m)
        got = m.predict_proba(tokens)
        want = _reference_proba(m, tokens)
        assert list(got) == list(want)
        assert [repr(p) for p in got.values()] == [repr(p) for p in want.values()], text
        for kind in m.labels[:: 3 if len(text) % 2 else 4]:
            assert m.top_features(tokens, kind, 5) == _reference_top(m, tokens, kind, 5), text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["备案", "取消接入", "您", "的", "a", "a b", *PLACEHOLDERS.values()]),
        max_size=80,
    )
)
def test_bit_identical_on_repetitive_tokens(tokens: list[str]) -> None:
    m = default_model()
    _fresh(m)
    got = m.predict_proba(tokens)
    assert [repr(p) for p in got.values()] == [
        repr(p) for p in _reference_proba(m, tokens).values()
    ]
    assert m.top_features(tokens, Kind.MARKETING, 3) == _reference_top(m, tokens, Kind.MARKETING, 3)


@pytest.mark.parametrize("count", [1, 63, 64, 200])
def test_large_term_counts(count: int) -> None:
    m = default_model()
    tokens = ["备案"] * count
    _fresh(m)
    assert m.predict_proba(tokens) == _reference_proba(m, tokens)


# --------------------------------------------------------------------------- the e-mail subject


def test_model_text_puts_the_subject_first() -> None:
    notice = Notice(raw_text="x", text="我们已处理完毕。", subject="取消接入处理完成")
    assert model_text(notice) == "取消接入处理完成\n我们已处理完毕。"
    assert notice_tokens(notice)[0] == "取消接入"
    assert model_text(Notice(raw_text="x", text="已处理")) == "已处理"


def test_parsed_subject_reaches_the_model() -> None:
    notice = parse(
        RawMessage(
            text="您好，处理结果见标题。",
            subject="Fwd: 取消接入处理完成",
            channel="email",
            sender="noreply@yunshan-demo.cn",
        )
    )
    assert "取消接入" in notice_tokens(notice)
