"""The combiner's per-message shortcuts give what the plain formulations give, bit for bit.

* ``combiner_features`` counts a text's ASCII letters from its ASCII bytes (was
  ``len(re.findall("[A-Za-z]", text))``);
* ``Combiner.probabilities`` sums each class's score in one loop over the known features
  (was a new list of every class's score per feature): the same additions in the same order.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Mapping

from _helpers import corpus_texts

from icp_notify.classifier import Classifier
from icp_notify.combiner import Combiner, combiner_features
from icp_notify.models import Situation
from icp_notify.parse import parse

_LATIN = re.compile(r"[A-Za-z]")


def _reference(c: Combiner, features: Mapping[str, float]) -> dict[Situation, float]:
    columns = {name: [row[j] for row in c.coef] for j, name in enumerate(c.features)}
    scores = list(c.intercept)
    for name, value in features.items():
        col = columns.get(name)
        if col is not None and value:
            scores = [score + w * value for score, w in zip(scores, col, strict=True)]
    exps = [math.exp(s - max(scores)) for s in scores]
    out = dict.fromkeys(Situation, 0.0)
    for s, e in zip(c.classes, exps, strict=True):
        out[s] = e / sum(exps)
    return out


def test_the_latin_share_counts_exactly_the_ascii_letters() -> None:
    rng = random.Random(7)
    alphabet = string.printable + "接入备案ＡＢａｂİıſKéßﬁ①😀\u0301"
    texts = corpus_texts() + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60))) for _ in range(3000)
    ]
    for text in texts:
        f = combiner_features([], {}, text=text, subject=None, channel=None)
        letters = len(_LATIN.findall(text))
        assert f.get("latin", 0.0) == (letters / len(text) if letters else 0.0), text


def test_the_probabilities_are_the_row_by_row_sums_on_the_corpus() -> None:
    classifier = Classifier.default()
    combiner = classifier.combiner
    assert combiner is not None
    texts = corpus_texts()[::4]
    for text in texts:
        notice = parse(text)
        probs, _, _ = classifier._model_inputs(notice)
        assert probs is not None
        features = combiner_features(
            classifier.rules.match(notice), probs, text=notice.text, subject=None, channel="sms"
        )
        assert combiner.probabilities(features) == _reference(combiner, features)
    assert len(texts) > 100
