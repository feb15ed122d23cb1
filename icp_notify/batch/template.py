"""Classifications shared by notices that differ only in their ASCII digits (:class:`DigitTemplates`).

A batch archive holds many notices that are one wording with fresh numbers: a verification
code in every 短信核验 SMS, one approval per filing number. Each is still parsed (its entities
and its advice are its own), but its classification is derived from the first notice of its
*template* — the same text with every ASCII digit replaced by ``0`` — when that provably equals
the full pass, which is then skipped. What ``Classifier.classify_notice(notice, None)`` reads,
and why two notices N and C with the same :meth:`DigitTemplates.key` get the same answer:

* ``subject`` (both ``None``: a notice with a subject always takes the full pass, whose subject
  rules read the subject and the text together), ``channel``, ``sender`` (when a rule reads it;
  its type always), ``signature`` (without an ASCII digit) and whether the text has a link
  (:func:`~icp_notify.rules.has_link`) are key fields;
* the texts are equal once every ASCII digit is ``0``: same length, same character at every
  position but where both hold an ASCII digit. The combiner reads the length and the ASCII
  letters of the text, so its text features are equal;
* the tokens are compared: the tokenizer tells a phone number from a code by its digits, so its
  output is computed, not assumed — except that two texts the shipped tokenizer finds
  :func:`~icp_notify.tokenize.digit_stable` (no phone-number alternative matches in either)
  have the same tokens, which are then not computed. The text model reads only the tokens,
  so its probabilities and top features are equal;
* a pattern is *digit-blind* when it cannot tell one ASCII digit from another
  (:func:`digit_blind`, a static reading of each pattern: no digit literal, no range that
  splits 0-9, no back-reference, nothing it cannot read). A search of a digit-blind pattern
  makes the same decision at every step on both texts — each step tests a character against a
  literal or a class, and every literal and class holds all ASCII digits or none — so it
  matches at the same span, and its literal gates hold alike. The other patterns and vetoes
  (the generic MIIT notice's phone numbers, ``号-1``, ``96110`` …) are searched in both texts
  and their spans compared. A rule's evidence is its first matching pattern's span unless a
  veto matches, per rule and in file order, so N's rule evidence is C's with ``matched``
  (which is ``text[span]``) read from N's text;
* the decision, the combination, the explanation and the calibration read the evidence's
  rule, kind, situation, weight and timeout and never ``matched``.

The key (:meth:`DigitTemplates.key`) is the masked text with those fields; the tokens, spans
and link are compared only when a template of the key is kept. So N's classification is C's,
with every rule evidence whose span covers a differing digit
given N's ``text[span]`` (signature evidence points into the signature, which has no digit, so
it never covers one). Texts longer than :data:`~icp_notify.bounded.PROVEN_CHARS` (searched with
a timeout), a timed-out search and a classifier or rules of another kind take the full pass.
``tests/batch/test_template.py`` checks it on every corpus and hold-out record with its digits
changed in several ways.

Examples
--------
>>> from icp_notify.classifier import Classifier
>>> from icp_notify.parse import parse
>>> templates = DigitTemplates(Classifier.default())
>>> a, b = (parse(f"【工信部】您的短信核验码为{c}，24小时内有效。") for c in ("123456", "654321"))
>>> key = templates.key(a)
>>> key == templates.key(b), templates.derive(key, a)
(True, None)
>>> templates.put(key, a, Classifier.default().classify_notice(a))
>>> derived = templates.derive(key, b)
>>> derived == Classifier.default().classify_notice(b), templates.hits
(True, 1)
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

import regex

from icp_notify.batch.jsontext import dumps
from icp_notify.batch.labeller import CACHE_SIZE, LruCache
from icp_notify.bounded import PROVEN_CHARS
from icp_notify.gates import digit_blind, lowered
from icp_notify.models import Classification, Notice
from icp_notify.rules import DEFAULT_TIMEOUT, has_link
from icp_notify.textmodel import model_text

__all__ = ["DigitTemplates", "digit_blind", "masked_text"]

_NONZERO = re.compile("[1-9]")
"""An ASCII digit other than ``0``: replacing each by ``0`` is ``str.translate`` with the table
``1-9 → 0``, several times faster on Chinese text (which ``translate`` maps character by
character through the table)."""


def masked_text(text: str) -> str:
    """``text`` with every ASCII digit replaced by ``0`` (other digits are left).

    Parameters
    ----------
    text : str
        A notice's text.

    Returns
    -------
    str
        Of the same length.

    Examples
    --------
    >>> masked_text("核验码为123456，24小时")
    '核验码为000000，00小时'
    """
    return _NONZERO.sub("0", text)


_Parts = tuple[tuple[str, ...], tuple[Any, ...], bool]
"""What a notice's key leaves to be compared: its tokens (:data:`_STABLE` for a
:func:`~icp_notify.tokenize.digit_stable` text), the spans of the digit-sensitive patterns and
whether it has a link."""

_STABLE: tuple[str, ...] = ("\x00digit-stable",)
"""The tokens part of a digit-stable text: two such texts with the same key have the same
tokens (:func:`~icp_notify.tokenize.digit_stable`), so they are not computed. No token list
equals it (the tokenizer yields no control character)."""

_Sensitive = tuple[tuple[regex.Pattern[str], tuple[tuple[str, ...], ...], float | None], ...]
"""A rule set's digit-sensitive patterns, each once: ``(pattern, gate, timeout or None)``, the
gate as :func:`~icp_notify.gates.pattern_gates` gives it, each option a tuple of strings."""

_SENSITIVE: weakref.WeakKeyDictionary[Any, _Sensitive] = weakref.WeakKeyDictionary()
"""A rule set's digit-sensitive patterns (:class:`DigitTemplates`), read once per rule set."""


def _sensitive_patterns(rules: Any) -> _Sensitive:
    """The patterns and vetoes of ``rules`` that a digit can change (not :func:`digit_blind`),
    each once: two rules that share a pattern (same source and flags, hence the same matches)
    and timeout have it searched once; with the strings of its literal gates as tuples."""
    from icp_notify.gates import pattern_gates

    found: dict[tuple[str, int, float | None], Any] = {}
    for rule in rules.rules:
        timeout = None if rule.bounded else rule.timeout
        for p in (*rule.patterns, *rule.unless):
            key = (p.pattern, p.flags, timeout)
            if key not in found and not digit_blind(p):
                gate = tuple(tuple(sorted(option)) for option in pattern_gates(p.pattern))
                found[key] = (p, gate, timeout)
    return tuple(found.values())


def _gate_holds(low: str, gate: tuple[tuple[str, ...], ...]) -> bool:
    """Whether every option of ``gate`` has a string in ``low`` (else the pattern cannot match)."""
    for option in gate:
        for string in option:
            if string in low:
                break
        else:
            return False
    return True


_MAX_PER_KEY = 4
"""Templates kept for one masked text (its notices' tokens or phone numbers may differ)."""


class _Template:
    """A notice classified by the full pass: its classification, JSON text and, once another
    notice of its masked text needs them, its :data:`_Parts`."""

    __slots__ = ("classified", "notice", "parts")

    def __init__(
        self, notice: Notice, classified: tuple[Classification, str], parts: _Parts | None
    ) -> None:
        self.notice = notice
        self.classified = classified
        self.parts = parts


class DigitTemplates:
    """Classifications of notices that differ only in ASCII digits, derived from the first one.

    See the module's docstring for the key and why a derived classification equals the full
    pass. :meth:`key` is cheap (the masked text and a few fields); the tokens and the
    digit-sensitive patterns' spans are computed only for a notice whose key is kept already
    (and, once, for the kept notice). At most ``size`` keys are kept (least recently used
    dropped first), each with up to four templates.

    Parameters
    ----------
    classifier : Classifier
        The pipeline's classifier (its rules, tokenizer and whether a rule reads the sender);
        any other object, or rules of another kind, turns the templates off (:attr:`enabled`).
    size : int
        The most keys kept.

    Attributes
    ----------
    enabled : bool
        Whether keys are made at all.
    hits : int
        Classifications derived from a template.

    Examples
    --------
    >>> from icp_notify.classifier import Classifier
    >>> from icp_notify.parse import parse
    >>> templates = DigitTemplates(Classifier.default())
    >>> a = parse("【某云】您的备案订单 BA1234567890 已通过初审，已提交管局审核。")
    >>> b = parse("【某云】您的备案订单 BA9876543210 已通过初审，已提交管局审核。")
    >>> templates.key(a) == templates.key(b), templates.key(parse("您的备案已通过")) is None
    (True, True)
    """

    def __init__(self, classifier: Any, size: int = CACHE_SIZE) -> None:
        from icp_notify.classifier import Classifier, default_tokenizer
        from icp_notify.rules import RuleSet

        rules = getattr(classifier, "rules", None)
        self.enabled = (
            type(classifier) is Classifier  # a subclass may classify otherwise
            and type(rules) is RuleSet
            and classifier.model is not None
        )
        self.hits = 0
        self._cache = LruCache(size)
        self._tokenize = getattr(classifier, "tokenizer", None)
        # the shipped tokenizer's digit-stable texts need no tokens (another tokenizer: computed)
        self._stable: Callable[[str], bool] | None = None
        self._sender_read = True
        self._timeout = DEFAULT_TIMEOUT
        # the patterns and vetoes a digit can change: (pattern, gate, timeout or None)
        self._sensitive: _Sensitive = ()
        self._last: tuple[Notice, _Parts | None] | None = None
        if self.enabled:
            assert isinstance(rules, RuleSet)
            from icp_notify.tokenize import digit_stable, tokenize

            if self._tokenize is default_tokenizer or self._tokenize is tokenize:
                self._stable = digit_stable
            self._sender_read = any(rule.senders for rule in rules.rules)
            self._timeout = max((r.timeout for r in rules.rules), default=DEFAULT_TIMEOUT)
            sensitive = _SENSITIVE.get(rules)
            if sensitive is None:  # read once per rule set (workers inherit it when forked)
                sensitive = _SENSITIVE[rules] = _sensitive_patterns(rules)
            self._sensitive = sensitive

    def key(self, notice: Notice) -> tuple[Any, ...] | None:
        """The template key of a notice, or ``None`` when it takes the full pass.

        Parameters
        ----------
        notice : Notice
            A parsed notice (classified without context).

        Returns
        -------
        tuple or None
            The masked text, channel, sender (when a rule reads it), sender type and
            signature; ``None`` for a text without an ASCII digit (the exact caches serve it),
            with a subject, a signature holding a digit or longer than
            :data:`~icp_notify.bounded.PROVEN_CHARS`.
        """
        if not self.enabled:
            return None
        text = notice.text
        masked = masked_text(text)
        signature = notice.signature
        if (
            masked == text
            or notice.subject
            or len(text) > PROVEN_CHARS
            or (signature is not None and _NONZERO.search(signature) is not None)
        ):
            return None
        return (
            masked,
            notice.channel,
            notice.sender if self._sender_read else None,
            notice.sender_type,
            signature,
        )

    def _parts(self, notice: Notice) -> _Parts | None:
        """A notice's tokens, digit-sensitive spans and link; ``None`` when a search timed out."""
        assert self._tokenize is not None
        text = notice.text
        low = lowered(text)
        spans: list[Any] = []
        try:
            for pattern, gate, timeout in self._sensitive:
                if low is not None and not _gate_holds(low, gate):
                    spans.append(None)  # its gate fails: it cannot match
                elif timeout is None:
                    found = pattern.search(text)
                    spans.append(None if found is None else found.span())
                else:
                    found = pattern.search(text, timeout=timeout)
                    spans.append(None if found is None else found.span())
            link = has_link(notice, self._timeout)
        except TimeoutError:
            return None
        text = model_text(notice)
        if self._stable is not None and self._stable(text):
            return _STABLE, tuple(spans), link  # the tokens of every stable text of the key
        return tuple(self._tokenize(text)), tuple(spans), link

    def put(
        self, key: tuple[Any, ...], notice: Notice, classification: Classification, text: str = ""
    ) -> None:
        """Keep a notice's classification (from the full pass) as a template of its key.

        Parameters
        ----------
        key : tuple
            :meth:`key` of ``notice``.
        notice : Notice
            The notice.
        classification : Classification
            Its classification by the full pass.
        text : str, optional
            The classification's JSON text, returned with it by :meth:`derive_text`.
        """
        if any(e.timed_out for e in classification.evidence):
            return
        last = self._last
        parts = last[1] if last is not None and last[0] is notice else None
        self._last = None
        if parts is None and last is not None and last[0] is notice:
            return  # a search timed out: nothing is proven for this notice
        kept: list[_Template] | None = self._cache.get(key)
        if kept is None:
            kept = []
            self._cache.put(key, kept)
        elif len(kept) >= _MAX_PER_KEY:
            del kept[0]
        kept.append(_Template(notice, (classification, text), parts))

    def derive(self, key: tuple[Any, ...], notice: Notice) -> Classification | None:
        """The classification of ``notice`` from a template of its key, or ``None``.

        Parameters
        ----------
        key : tuple
            :meth:`key` of ``notice``.
        notice : Notice
            The notice.

        Returns
        -------
        Classification or None
            ``None`` when no template of ``key`` has the notice's tokens, digit-sensitive
            spans and link (then classify it and :meth:`put` it).
        """
        found = self.derive_text(key, notice)
        return None if found is None else found[0]

    def derive_text(
        self, key: tuple[Any, ...], notice: Notice
    ) -> tuple[Classification, str | None] | None:
        """:meth:`derive`, with the classification's JSON text when it is the template's own.

        Parameters
        ----------
        key : tuple
            :meth:`key` of ``notice``.
        notice : Notice
            The notice.

        Returns
        -------
        tuple or None
            ``(classification, text)``: ``text`` is what :meth:`put` was given, with the
            changed ``matched`` values rewritten (``None`` when it was not given).
        """
        self._last = None
        kept: list[_Template] | None = self._cache.get(key)
        if not kept:
            return None
        parts = self._parts(notice)
        self._last = (notice, parts)
        if parts is None:
            return None
        for template in kept:
            if template.parts is None:
                template.parts = self._parts(template.notice)
            if template.parts == parts:
                derived = self._derived(template, notice)
                if derived is not None:
                    return derived
        return None

    def _derived(
        self, template: _Template, notice: Notice
    ) -> tuple[Classification, str | None] | None:
        """The template's classification with ``matched`` read from the notice's text."""
        was, text = template.notice.text, notice.text
        classification, json_text = template.classified
        evidence = classification.evidence
        changed: dict[int, str] = {}
        for i, e in enumerate(evidence):
            span = e.span
            if span is None:
                continue
            start, end = span
            old, new = was[start:end], text[start:end]
            if old != new:
                if e.source != "rule" or e.matched != old:
                    return None  # not a match in the text: not proven, full pass
                changed[i] = new
        self.hits += 1
        if not changed:
            return classification, json_text or None
        renewed = tuple(
            e.model_copy(update={"matched": changed[i]}) if i in changed else e
            for i, e in enumerate(evidence)
        )
        derived = classification.model_copy(update={"evidence": renewed})
        return derived, _spliced(json_text, evidence, changed)


_MATCHED = '"matched": '
"""How ``matched`` is written in a classification's JSON text (:func:`~icp_notify.batch.jsontext.dumps`)."""


def _spliced(json_text: str, evidence: tuple[Any, ...], changed: dict[int, str]) -> str | None:
    """The template's classification text with the changed evidence's ``matched`` rewritten.

    ``json_text`` is :func:`~icp_notify.batch.jsontext.dumps` of the classification's
    ``model_dump(mode="json")``: every evidence object has a ``matched`` key, in evidence
    order, and the key's text cannot occur elsewhere (inside a JSON string a quote is escaped),
    so the ``i``-th occurrence is evidence ``i``'s. ``None`` (then the caller dumps the
    classification) when the text is not that.
    """
    if not json_text:
        return None
    pieces = json_text.split(_MATCHED)
    if len(pieces) != len(evidence) + 1:
        return None
    for i, new in changed.items():
        old = dumps(evidence[i].matched)
        piece = pieces[i + 1]
        if not piece.startswith(old):
            return None
        pieces[i + 1] = dumps(new) + piece[len(old) :]
    return _MATCHED.join(pieces)
