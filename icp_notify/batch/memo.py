"""The text model's answers kept per token sequence for a batch run (:class:`ModelMemo`).

The classifier's text model reads only the tokens of a notice
(``Classifier.classify_notice`` calls ``predict_proba(tokens)`` and
``top_features(tokens, kind, n)``), and the tokenizer has already replaced entities with
placeholders (``⟨CODE⟩``, ``⟨DOMAIN⟩``, ``⟨ICP⟩`` …). Notices that differ only in their entity
values — a fresh verification code in every SMS, one template for many domains — therefore
give the model the same tokens, and its answers are a pure function of them. A batch run keeps
them, keyed on exactly the tokens; the rules, the decision and the calibration still run for
every distinct notice, so entity values keep deciding what they decide (a look-alike domain, a
code pattern, the matched text and spans of the evidence).
``tests/batch/test_memo.py`` checks on the whole corpus that classifications through the memo
equal the plain ones.

Examples
--------
>>> from icp_notify.classifier import Classifier
>>> from icp_notify.parse import parse
>>> plain = Classifier.default()
>>> memo = memo_classifier(plain)
>>> a, b = (parse(f"【工信部】您的短信核验码为{code}，24小时内有效。") for code in ("123456", "654321"))
>>> memo.classify_notice(a) == plain.classify_notice(a), memo.classify_notice(b) == plain.classify_notice(b)
(True, True)
>>> memo.model.hits
1
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from icp_notify.batch.labeller import CACHE_SIZE, LruCache

__all__ = ["ModelMemo", "memo_classifier"]


class ModelMemo:
    """A text model whose ``predict_proba`` and ``top_features`` answers are kept per tokens.

    Every other attribute (``version`` …) is the wrapped model's. Answers are copied out, so a
    caller that changes one changes nothing kept. At most ``size`` token sequences are kept
    (least recently used dropped first).

    Parameters
    ----------
    model : object with ``predict_proba(tokens)`` and ``top_features(tokens, kind, n)``
        The text model (``Classifier.model``).
    size : int
        The most token sequences kept.

    Examples
    --------
    >>> from icp_notify.textmodel import default_model
    >>> memo = ModelMemo(default_model())
    >>> p = memo.predict_proba(["您", "的", "⟨CODE⟩"])
    >>> p == memo.predict_proba(["您", "的", "⟨CODE⟩"]), memo.hits, memo.version == default_model().version
    (True, 1, True)
    """

    def __init__(self, model: Any, size: int = CACHE_SIZE) -> None:
        self.model = model
        self.hits = 0
        self._probs = LruCache(size)
        self._features = LruCache(4 * size)

    def predict_proba(self, tokens: Sequence[str]) -> dict[Any, float]:
        """The model's ``predict_proba(tokens)`` (a new dict each call).

        Parameters
        ----------
        tokens : sequence of str
            The notice's tokens.

        Returns
        -------
        dict
        """
        key = tuple(tokens)
        kept: dict[Any, float] | None = self._probs.get(key)
        if kept is None:
            kept = dict(self.model.predict_proba(tokens))
            self._probs.put(key, kept)
        else:
            self.hits += 1
        return dict(kept)

    def top_features(self, tokens: Sequence[str], kind: Any, n: int = 5) -> list[Any]:
        """The model's ``top_features(tokens, kind, n)`` (a new list each call).

        Parameters
        ----------
        tokens : sequence of str
            The notice's tokens.
        kind : Kind
            The kind to explain.
        n : int
            How many features.

        Returns
        -------
        list
        """
        key = (tuple(tokens), kind, n)
        kept: tuple[Any, ...] | None = self._features.get(key)
        if kept is None:
            kept = tuple(self.model.top_features(tokens, kind, n))
            self._features.put(key, kept)
        return list(kept)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "model":  # (copy and pickle probe for these)
            raise AttributeError(name)
        return getattr(self.model, name)


def memo_classifier(classifier: Any) -> Any:
    """The classifier with its text model behind a :class:`ModelMemo`, or itself.

    A shallow copy whose ``model`` is the memo (everything else shared: rules, tokenizer,
    calibration); ``classifier`` itself when its text model lacks ``predict_proba`` or
    ``top_features``.

    Parameters
    ----------
    classifier : Classifier
        The pipeline's classifier.

    Returns
    -------
    Classifier

    Examples
    --------
    >>> from icp_notify.classifier import Classifier
    >>> plain = Classifier.default()
    >>> memo = memo_classifier(plain)
    >>> type(memo.model).__name__, memo.rules is plain.rules, memo_classifier(Classifier(model=None)).model
    ('ModelMemo', True, None)
    """
    model = getattr(classifier, "model", None)
    if not all(callable(getattr(model, name, None)) for name in ("predict_proba", "top_features")):
        return classifier
    memo = copy.copy(classifier)
    memo.model = ModelMemo(model)
    return memo
