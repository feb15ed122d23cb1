"""The text model's fast paths give bit-identical floats to the straightforward computation."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify.models import Kind
from icp_notify.textmodel import (
    _SUBLINEAR,
    FeatureSettings,
    TextModel,
    _feature_indices,
    _split_vocabulary,
    default_model,
    display_feature,
    features,
)
from icp_notify.tokenize import PLACEHOLDERS, tokenize


def _reference_vector(m: TextModel, tokens: Sequence[str]) -> tuple[list[int], np.ndarray]:
    """TF-IDF as the model computed it before the fast paths: strings, Counter, numpy."""
    get = m._vocabulary.get
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
    names = m._feature_names()
    top = contrib.tolist()
    return [(display_feature(names[idx[i]]), round(top[i], 6)) for i in order if top[i] > 0]


def _fresh(m: TextModel) -> None:
    m._last = threading.local()


def test_indices_follow_the_feature_strings() -> None:
    m = default_model()
    s = FeatureSettings((1, 3), (1, 4))
    words, chars = _split_vocabulary(m._vocabulary)
    tokens = ["您", "的", "网站", PLACEHOLDERS["ICP"], "已", "取消接入", "a b", ""]
    expected = [m._vocabulary.get(f) for f in features(tokens, s)]
    assert list(_feature_indices(tokens, s, words, chars)) == expected
    s2 = FeatureSettings((0, 0), (2, 3))
    expected = [m._vocabulary.get(f) for f in features(tokens, s2)]
    assert list(_feature_indices(tokens, s2, words, chars)) == expected


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
