"""A by-hand baseline: ``jieba.lcut`` + scikit-learn ``TfidfVectorizer`` + ``LogisticRegression``.

What a user would write without icp_notify: the global jieba tokenizer with its default
dictionary, word TF-IDF, a logistic regression over the corpus ``kind`` labels, trained on the
same train split, called once per message. Importable (``Baseline.train``, ``Baseline.classify``)
so other benchmarks reuse it. Saved without pickle (``save``/``load`` write an ``.npz``), so a new
process can be timed: ``python bench/baseline.py --model DIR "<notice>"``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# keep jieba's dictionary cache out of the shared temp directory root
jieba.dt.tmp_dir = str(Path(tempfile.gettempdir()) / "icp_notify_bench_jieba")
Path(jieba.dt.tmp_dir).mkdir(exist_ok=True)
jieba.setLogLevel(60)


def _cut(text: str) -> list[str]:
    return jieba.lcut(text)


class Baseline:
    """TF-IDF over ``jieba.lcut`` words into a logistic regression predicting the kind."""

    def __init__(self, vectorizer: Any, classifier: Any) -> None:
        self.vectorizer = vectorizer
        self.classifier = classifier

    @classmethod
    def train(cls, texts: Sequence[str], kinds: Sequence[str]) -> Baseline:
        """Fit on texts and their kind labels."""
        vec = TfidfVectorizer(tokenizer=_cut, token_pattern=None, lowercase=True)
        x = vec.fit_transform(texts)
        clf = LogisticRegression(max_iter=2000)
        clf.fit(x, kinds)
        return cls(vec, clf)

    @classmethod
    def from_corpus(cls) -> Baseline:
        """Train on the train split of the icp_notify corpus."""
        from icp_notify.corpus import load_corpus, split_of

        train = [r for r in load_corpus() if split_of(r.id) == "train"]
        return cls.train([r.text for r in train], [r.kind.value for r in train])

    def classify(self, text: str) -> str:
        """Return the most probable kind of one message."""
        proba = self.classifier.predict_proba(self.vectorizer.transform([text]))[0]
        return str(self.classifier.classes_[int(np.argmax(proba))])

    def save(self, directory: Path) -> None:
        """Write the fitted arrays (no pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        np.savez(
            directory / "baseline.npz",
            vocabulary=np.array(vocab, dtype=str),
            idf=self.vectorizer.idf_,
            coef=self.classifier.coef_,
            intercept=self.classifier.intercept_,
            classes=np.array(self.classifier.classes_, dtype=str),
        )

    @classmethod
    def load(cls, directory: Path) -> Baseline:
        """Rebuild the fitted vectorizer and classifier from :meth:`save`'s arrays."""
        with np.load(directory / "baseline.npz", allow_pickle=False) as z:
            vocab = {w: i for i, w in enumerate(z["vocabulary"].tolist())}
            vec = TfidfVectorizer(
                tokenizer=_cut, token_pattern=None, lowercase=True, vocabulary=vocab
            )
            vec.idf_ = z["idf"]
            clf = LogisticRegression()
            clf.coef_, clf.intercept_, clf.classes_ = z["coef"], z["intercept"], z["classes"]
        return cls(vec, clf)


def main(argv: Sequence[str] | None = None) -> int:
    """Classify one message with a saved baseline (for the cold-start measurement)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("text")
    args = p.parse_args(argv)
    print(Baseline.load(args.model).classify(args.text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
