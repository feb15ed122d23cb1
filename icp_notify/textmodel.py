"""The shipped text model: load the artefact and score tokens with numpy only.

The artefact in ``icp_notify/data/model/`` is ``model.json`` (labels, feature settings, tokenizer
settings, hashes of the corpus and dictionary it was trained on, metrics) plus ``model.npz``
(``vocabulary``, ``idf``, ``coef``, ``intercept``), loaded with ``allow_pickle=False``. This module
never imports scikit-learn; :mod:`icp_notify.training` fits the same computation with it, and a
parity test checks both give the same probabilities.

Features (:func:`features`) are computed from the tokens of :func:`icp_notify.tokenize.tokenize`:
word n-grams (``w:`` prefix, words joined by a space) and character n-grams of the joined tokens
(``c:`` prefix; each entity placeholder counts as one character). They are weighted by TF-IDF
(sublinear tf, l2 norm) and scored by a multinomial logistic regression over :class:`~icp_notify.models.Kind`.

Examples
--------
>>> from icp_notify.tokenize import tokenize
>>> m = default_model()
>>> p = m.predict_proba(tokenize("尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"))
>>> max(p, key=p.__getitem__).value
'change_notice_generic'
>>> round(sum(p.values()), 6)
1.0
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from itertools import chain, pairwise
from operator import add, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from icp_notify.errors import ModelArtifactError
from icp_notify.models import Kind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from icp_notify.models import Notice

__all__ = [
    "FORMAT_VERSION",
    "FeatureSettings",
    "TextModel",
    "default_model",
    "default_model_dir",
    "features",
    "notice_tokens",
]

FORMAT_VERSION: Final = 2
"""Version of the artefact layout written by ``icp-notify train``.

Layout 2 stores the vocabulary as one UTF-8 text (names joined by newlines) and the weights
transposed (``coef_t``, one row per feature), uncompressed: loading is a read, not a decompression
and a copy. :meth:`TextModel.load` also reads layout 1 (``vocabulary`` as a unicode array, ``coef``
one row per class, compressed); other versions are refused. The model's ``version`` names its
weights, not the layout: the same weights give the same ``version`` in either layout.
"""

_READABLE_FORMATS: Final = (1, 2)

_PUA_BASE: Final = 0xE000


class FeatureSettings:
    """How tokens become features (recorded in ``model.json`` under ``features``).

    Parameters
    ----------
    word_ngrams : tuple of int
        Inclusive (min, max) word n-gram lengths; ``(0, 0)`` disables word features.
    char_ngrams : tuple of int
        Inclusive (min, max) character n-gram lengths; ``(0, 0)`` disables character features.

    Examples
    --------
    >>> FeatureSettings((1, 2), (1, 3)).to_dict()
    {'word_ngrams': [1, 2], 'char_ngrams': [1, 3]}
    """

    __slots__ = ("char_ngrams", "word_ngrams")

    def __init__(self, word_ngrams: tuple[int, int], char_ngrams: tuple[int, int]) -> None:
        for name, rng in (("word_ngrams", word_ngrams), ("char_ngrams", char_ngrams)):
            if len(rng) != 2 or rng[0] < 0 or rng[1] < rng[0] or (rng[0] == 0) != (rng[1] == 0):
                raise ValueError(f"{name} must be (min, max) with 1 <= min <= max, or (0, 0)")
        self.word_ngrams = (int(word_ngrams[0]), int(word_ngrams[1]))
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))

    def to_dict(self) -> dict[str, list[int]]:
        """Return the JSON form.

        Returns
        -------
        dict
            ``{"word_ngrams": [lo, hi], "char_ngrams": [lo, hi]}``.
        """
        return {"word_ngrams": list(self.word_ngrams), "char_ngrams": list(self.char_ngrams)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSettings:
        """Build from the JSON form.

        Parameters
        ----------
        data : Mapping
            ``{"word_ngrams": [lo, hi], "char_ngrams": [lo, hi]}``.

        Returns
        -------
        FeatureSettings

        Raises
        ------
        ValueError, KeyError, TypeError
            When ``data`` is not in that form.
        """
        w, c = data["word_ngrams"], data["char_ngrams"]
        return cls((int(w[0]), int(w[1])), (int(c[0]), int(c[1])))

    def __repr__(self) -> str:
        return f"FeatureSettings(word_ngrams={self.word_ngrams}, char_ngrams={self.char_ngrams})"


def _char_stream(tokens: Sequence[str], codes: Mapping[str, str] | None = None) -> str:
    """Join tokens; each placeholder token becomes one private-use character.

    ``codes`` is :func:`_codes` (looked up when not given).
    """
    if codes is None:
        codes = _codes()
    return "".join(map(codes.get, tokens, tokens))


def _codes() -> dict[str, str]:
    """Placeholder token → its private-use character."""
    from icp_notify.tokenize import PLACEHOLDERS

    return _placeholder_chars(tuple(PLACEHOLDERS.values()))


@functools.cache
def _placeholder_chars(placeholders: tuple[str, ...]) -> dict[str, str]:
    return {p: chr(_PUA_BASE + i) for i, p in enumerate(placeholders)}


def display_feature(name: str) -> str:
    """Render a feature name for people: private-use characters back to their placeholders.

    Parameters
    ----------
    name : str
        A feature name (``w:`` word or ``c:`` character n-gram).

    Returns
    -------
    str

    Examples
    --------
    >>> display_feature("c:" + chr(0xE000) + "已")
    'c:⟨URL⟩已'
    """
    back = _display_map()
    if back.keys().isdisjoint(name):
        return name
    return "".join(back.get(ch, ch) for ch in name)


@functools.cache
def _display_map() -> dict[str, str]:
    from icp_notify.tokenize import PLACEHOLDERS

    return {v: k for k, v in _placeholder_chars(tuple(PLACEHOLDERS.values())).items()}


def features(tokens: Sequence[str], settings: FeatureSettings) -> list[str]:
    """Return the feature strings of a token list (with repeats; counts are term frequencies).

    Parameters
    ----------
    tokens : sequence of str
        Output of :func:`icp_notify.tokenize.tokenize`.
    settings : FeatureSettings
        The n-gram ranges.

    Returns
    -------
    list of str
        ``w:``-prefixed word n-grams and ``c:``-prefixed character n-grams.

    Examples
    --------
    >>> features(["取消", "接入"], FeatureSettings((1, 2), (2, 2)))
    ['w:取消', 'w:接入', 'w:取消 接入', 'c:取消', 'c:消接', 'c:接入']
    """
    out: list[str] = []
    lo, hi = settings.word_ngrams
    if lo:
        n_tok = len(tokens)
        for n in range(lo, hi + 1):
            if n == 1:
                out += ["w:" + t for t in tokens]
            elif n == 2:  # the common case, without a join per n-gram
                out += ["w:" + a + " " + b for a, b in pairwise(tokens)]
            else:
                out += ["w:" + " ".join(tokens[i : i + n]) for i in range(n_tok - n + 1)]
    lo, hi = settings.char_ngrams
    if lo:
        text = _char_stream(tokens)
        n_chr = len(text)
        for n in range(lo, hi + 1):
            out += ["c:" + text[i : i + n] for i in range(n_chr - n + 1)]
    return out


_SUBLINEAR: Final = tuple(1.0 + math.log(c) if c else 0.0 for c in range(64))


def _sublinear(count: int) -> float:
    """``1 + log(count)``, the sublinear term frequency (small counts from a table)."""
    return _SUBLINEAR[count] if count < len(_SUBLINEAR) else 1.0 + math.log(count)


def _split_vocabulary(vocabulary: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Split the vocabulary by prefix: ``{"w:a b": 7}`` → ``{"a b": 7}`` and likewise for ``c:``.

    Looking up ``x`` in the first is looking up ``"w:" + x`` in the vocabulary (and the same for
    ``c:``), without building the prefixed string.
    """
    items = vocabulary.items()
    words = {name[2:]: j for name, j in items if name[:2] == "w:"}
    chars = {name[2:]: j for name, j in items if name[:2] == "c:"}
    return words, chars


_CODE_BITS: Final = 21
"""Bits of one code point (every one is below ``0x110000``) in a character n-gram's code."""

_CODE_MASK: Final = (1 << _CODE_BITS) - 1

_MAX_CODED_NGRAM: Final = 3
"""Longest character n-gram looked up by its code (three code points fit in an int64)."""


def _word_names(  # noqa: PLR0917
    text: str,
    points: npt.NDArray[np.uint32],
    starts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    is_word: npt.NDArray[np.bool_],
    word_columns: npt.NDArray[np.int64],
) -> list[str]:
    """The names of the ``w:`` lines of ``text`` (names joined by newlines), without their
    ``w:``, in order; ``points`` are the code points of ``text``, ``starts`` and ``sizes`` each
    name's, ``is_word`` marks the ``w:`` names and ``word_columns`` are their indices."""
    import numpy as np

    if not len(word_columns):
        return []
    first = int(word_columns[0])
    if first + len(word_columns) == len(starts):  # the words are the last names (sorted names)
        # no name holds a newline, so "\nw:" is where each word after the first starts
        return text[int(starts[first]) + 2 :].split("\nw:")
    # the code points of the words without their "w:", each followed by its newline (one
    # added after the last name), decoded and split in one pass each
    in_word = np.repeat(is_word, sizes + 1)
    offset = np.arange(len(in_word)) - np.repeat(starts, sizes + 1)
    kept = np.append(points, np.uint32(ord("\n")))[in_word & (offset >= 2)]
    return kept.tobytes().decode("utf-32-le", "surrogatepass").split("\n")[:-1]


class _Vocabulary:
    """The vocabulary as scoring uses it: the split lookups and each column's name on demand.

    ``words`` and ``chars`` are :func:`_split_vocabulary`'s dicts; ``keys[j]`` is column ``j``'s
    name without its prefix (the same string objects as the dicts' keys) and ``prefixes[j]`` is
    0 for ``c:``, 1 for ``w:``, 2 for a name without either (kept whole; no feature string can
    reach it). One copy of the 45k names instead of three dicts of them.

    After :meth:`code_chars`, character n-grams are looked up by their *code* instead: the code
    points of an n-gram ``c1 … cn`` packed as ``c1 << 21(n-1) | … | cn`` (one int; a dict per
    ``n`` in ``char_codes``), which a notice's n-grams get from numpy shifts of its code points
    without building, hashing and comparing a string per n-gram; ``chars`` is then ``None``,
    ``keys[j]`` is the code and ``prefixes[j]`` is ``2 + n``.
    """

    __slots__ = ("char_codes", "chars", "keys", "prefixes", "words")

    _PREFIX = ("c:", "w:", "")

    def __init__(self, keys: list[str], prefixes: bytes | bytearray) -> None:
        self.keys: list[str | int] = list(keys)
        self.prefixes = bytearray(prefixes)
        self.char_codes: tuple[dict[int, int], ...] | None = None
        words: dict[str, int] = {}
        chars: dict[str, int] = {}
        other: set[str] = set()
        for j, (key, prefix) in enumerate(zip(keys, prefixes, strict=True)):
            if prefix == 1:
                words[key] = j
            elif prefix == 0:
                chars[key] = j
            else:
                other.add(key)
        if len(words) + len(chars) + len(other) != len(keys):
            raise ValueError("vocabulary has duplicate entries")
        self.words = words
        self.chars: dict[str, int] | None = chars

    def code_chars(self) -> None:
        """Switch the character n-grams to lookups by code (see the class docstring).

        Only when every character name is 1 to :data:`_MAX_CODED_NGRAM` characters long
        (otherwise the vocabulary stays as it is).
        """
        import numpy as np

        chars = self.chars
        if chars is None or any(not 1 <= len(k) <= _MAX_CODED_NGRAM for k in chars):
            return
        by_n: list[dict[int, int]] = []
        for n in range(1, _MAX_CODED_NGRAM + 1):
            grams = [k for k in chars if len(k) == n]
            points = np.frombuffer(
                "".join(grams).encode("utf-32-le", "surrogatepass"), dtype="<u4"
            ).astype(np.int64)
            codes = points[::n]
            for i in range(1, n):
                codes = (codes << _CODE_BITS) | points[i::n]
            columns = [chars[k] for k in grams]
            coded = codes.tolist()
            by_n.append(dict(zip(coded, columns, strict=True)))
            for code, j in zip(coded, columns, strict=True):
                self.keys[j] = code
                self.prefixes[j] = 2 + n
        self.char_codes = tuple(by_n)
        self.chars = None

    @classmethod
    def from_names(cls, names: Sequence[str]) -> _Vocabulary:
        """From the feature names in column order."""
        prefixes = bytearray(2 if n[:2] not in {"c:", "w:"} else (n[0] == "w") for n in names)
        return cls([n if p == 2 else n[2:] for n, p in zip(names, prefixes, strict=True)], prefixes)

    @classmethod
    def from_text(
        cls, text: str, *, coded: bool = False, hot: npt.NDArray[Any] | None = None
    ) -> _Vocabulary:
        """From the names joined by newlines (layout 2), without building each whole name;
        ``coded``: as :meth:`code_chars` leaves it, built in one pass (the same mappings).

        ``hot`` (the idf, one float per name) orders the coded lookups' insertion: the names
        most documents hold (lowest idf) first, their keys, column ints and dict entries created
        one after another, so the lookups a notice makes touch fewer cache lines (cachegrind
        with a 2 MB last-level cache, a classification of the bench's messages: 17 % fewer
        data-read misses, 2,130 → 1,761 a message, for the same instructions). The mappings,
        the keys and every lookup are the same in any order; a ``hot`` of another shape or
        type is ignored.
        """
        import numpy as np

        # each name's start and size, and its first two characters, from the code points
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        ends = np.flatnonzero(points == ord("\n"))
        starts = np.concatenate(([0], ends + 1))
        sizes = np.concatenate((ends, [len(points)])) - starts
        n_names = len(starts)
        is_word = np.zeros(n_names, dtype=bool)
        prefixed = not (sizes < 2).any()
        if prefixed:
            first, second = points[starts], points[starts + 1]
            is_word = first == ord("w")
            prefixed = bool(((is_word | (first == ord("c"))) & (second == ord(":"))).all())
        lengths = sizes - 2
        is_char = ~is_word
        char_lengths = lengths[is_char]
        if (
            not prefixed
            or not coded
            or not ((char_lengths >= 1) & (char_lengths <= _MAX_CODED_NGRAM)).all()
        ):  # the plain way (for a name without a prefix, and a model without codes)
            names = text.split("\n")
            if prefixed:
                vocabulary = cls([name[2:] for name in names], bytearray(is_word.tolist()))
            else:
                vocabulary = cls.from_names(names)
            if coded:
                vocabulary.code_chars()
            return vocabulary
        # coded: a character n-gram's key is its code (see the class docstring), built here
        # with the same shifts of the same code points as ``code_chars``; only the words become
        # strings
        vocabulary = cls.__new__(cls)
        # the columns in the order their lookups are made (see the docstring)
        ranked = None
        if hot is not None and hot.shape == (n_names,) and hot.dtype.kind == "f":
            ranked = np.argsort(hot)  # ties in any (repeatable) order: only memory differs
        by_n: list[dict[int, int]] = []
        codes = np.zeros(n_names, dtype=np.int64)
        for n in range(1, _MAX_CODED_NGRAM + 1):
            wanted = is_char & (lengths == n)
            columns = np.flatnonzero(wanted) if ranked is None else ranked[wanted[ranked]]
            at = starts[columns] + 2
            code = points[at].astype(np.int64)
            for i in range(1, n):
                code = (code << _CODE_BITS) | points[at + i]
            codes[columns] = code
            by_n.append(dict(zip(code.tolist(), columns.tolist(), strict=True)))
        word_columns = np.flatnonzero(is_word)
        word_names = _word_names(text, points, starts, sizes, is_word, word_columns)
        word_list = word_columns.tolist()
        keys = cast("list[str | int]", codes.tolist())
        if ranked is not None and len(word_list) > 1:
            # new string objects made in lookup order (no name holds a newline), and the keys
            # the same objects (one copy of each name), put back in column order
            hot_at = np.searchsorted(word_columns, ranked[is_word[ranked]])
            hot_names = "\n".join(itemgetter(*hot_at.tolist())(word_names)).split("\n")
            back = np.empty_like(hot_at)
            back[hot_at] = np.arange(len(hot_at))
            word_names = list(itemgetter(*back.tolist())(hot_names))
            words = dict(zip(hot_names, word_columns[hot_at].tolist(), strict=True))
        else:
            words = dict(zip(word_names, word_list, strict=True))
        if len(words) + sum(map(len, by_n)) != n_names:
            raise ValueError("vocabulary has duplicate entries")
        if word_list and word_list[0] + len(word_list) == n_names:  # the words are the last names
            keys[word_list[0] :] = word_names
        else:
            for j, word in zip(word_list, word_names, strict=True):
                keys[j] = word
        vocabulary.keys = keys
        vocabulary.prefixes = bytearray(np.where(is_word, 1, 2 + lengths).astype(np.uint8))
        vocabulary.words = words
        vocabulary.chars = None
        vocabulary.char_codes = tuple(by_n)
        return vocabulary

    @classmethod
    def from_mapping(cls, vocabulary: Mapping[str, int]) -> _Vocabulary:
        """From a name → column mapping whose columns are ``0 … n - 1``."""
        names = [""] * len(vocabulary)
        for name, j in vocabulary.items():
            names[j] = name
        return cls.from_names(names)

    def name(self, j: int) -> str:
        """Column ``j``'s feature name (``w:…`` or ``c:…``)."""
        prefix, key = self.prefixes[j], self.keys[j]
        if isinstance(key, int):  # a coded character n-gram of 2 + n
            n = prefix - 2
            shifts = range(_CODE_BITS * (n - 1), -1, -_CODE_BITS)
            return "c:" + "".join(chr(key >> shift & _CODE_MASK) for shift in shifts)
        return self._PREFIX[prefix] + key

    def __len__(self) -> int:
        return len(self.keys)


def _feature_indices(
    tokens: Sequence[str],
    settings: FeatureSettings,
    words: Mapping[str, int],
    chars: Mapping[str, int],
    codes: Mapping[str, str] | None = None,
) -> Iterable[int | None]:
    """The vocabulary index (``None``: not in it) of each feature of :func:`features`, in order.

    ``words`` and ``chars`` come from :func:`_split_vocabulary`, ``codes`` from :func:`_codes`;
    the n-grams are built with C-level ``map`` over the same strings :func:`features` builds
    (``" ".join((a, b)) == a + " " + b``, ``add(add(t[i], t[i + 1]), t[i + 2]) == t[i : i + 3]``).
    """
    streams: list[Iterable[int | None]] = []
    wget, cget = words.get, chars.get
    lo, hi = settings.word_ngrams
    if lo:
        for n in range(lo, hi + 1):
            if n == 1:
                streams.append(map(wget, tokens))
            elif n == 2:
                streams.append(map(wget, map(" ".join, pairwise(tokens))))
            else:
                grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
                streams.append(map(wget, grams))
    lo, hi = settings.char_ngrams
    if lo:
        text = _char_stream(tokens, codes)
        chs = list(text)  # one str object per character, shared by the n-grams below
        pairs: Iterable[str] = ()
        for n in range(lo, hi + 1):
            if n == 1:
                streams.append(map(cget, chs))
            elif n == 2:
                pairs = list(map(add, chs, chs[1:]))
                streams.append(map(cget, pairs))
            elif n == 3 and lo <= 2:
                streams.append(map(cget, map(add, pairs, chs[2:])))
            else:
                streams.append(map(cget, [text[i : i + n] for i in range(len(text) - n + 1)]))
    return chain.from_iterable(streams)


def _coded_indices(  # noqa: PLR0917
    tokens: Sequence[str],
    word_settings: FeatureSettings,
    char_ngrams: tuple[int, int],
    words: Mapping[str, int],
    char_codes: Sequence[Mapping[int, int]],
    codes: Mapping[str, str],
) -> Iterable[int | None]:
    """:func:`_feature_indices` with the character n-grams looked up by code (``char_codes``
    from :meth:`_Vocabulary.code_chars`; n-grams of at most :data:`_MAX_CODED_NGRAM`): the same
    indices in the same order. The codes of a text's n-grams are shifts of its code points.

    ``word_settings`` holds the model's word n-grams and no character n-grams (those are
    ``char_ngrams``); the words are looked up as in :func:`_feature_indices`.
    """
    import numpy as np

    streams: list[Iterable[int | None]] = []
    if word_settings.word_ngrams[0]:
        streams.append(_feature_indices(tokens, word_settings, words, {}))
    lo, hi = char_ngrams
    if lo:
        text = _char_stream(tokens, codes)
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        grams = points.astype(np.int64)
        for n in range(1, hi + 1):
            if n > 1:  # the codes of the n-grams starting at 0 … len - n
                grams = (grams[:-1] << _CODE_BITS) | points[n - 1 :]
            if n >= lo:
                streams.append(map(char_codes[n - 1].get, grams.tolist()))
    return chain.from_iterable(streams)


def model_text(notice: Notice) -> str:
    """Return the text the model reads: the e-mail subject, a newline, then ``notice.text``.

    The subject of an e-mail often states the result on its own ("取消接入处理完成", "ICP access
    transfer completed"); a notice without a subject is read as its text alone.

    Parameters
    ----------
    notice : Notice
        A parsed notice.

    Returns
    -------
    str

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> model_text(Notice(raw_text="x", text="已通过", subject="新增网站"))
    '新增网站\\n已通过'
    >>> model_text(Notice(raw_text="x", text="已通过"))
    '已通过'
    """
    subject = notice.subject
    return f"{subject}\n{notice.text}" if subject else notice.text


def notice_tokens(notice: Notice) -> list[str]:
    """Return the tokens the model scores for a parsed notice: ``tokenize(model_text(notice))``.

    Training uses the same function, so call it (rather than re-deriving the input) at inference.

    Parameters
    ----------
    notice : Notice
        A parsed notice.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> notice_tokens(Notice(raw_text="已取消接入", text="已取消接入"))
    ['已', '取消接入']
    >>> notice_tokens(Notice(raw_text="x", text="已处理", subject="取消接入"))
    ['取消接入', '已', '处理']
    """
    from icp_notify.tokenize import tokenize

    return tokenize(model_text(notice))


def default_model_dir() -> Path:
    """Return the directory of the shipped artefact, ``icp_notify/data/model``.

    Returns
    -------
    Path

    Examples
    --------
    >>> sorted(p.name for p in default_model_dir().glob("model.*"))
    ['model.json', 'model.npz']
    """
    return Path(str(resources.files("icp_notify") / "data" / "model"))


class _Vector:
    """A notice's non-zero TF-IDF entries: columns (a list and an array), their l2-normalised
    values, and the rows of the transposed weights at those columns (gathered once, read by
    ``predict_proba`` and ``top_features`` alike)."""

    __slots__ = ("idx", "idx_arr", "rows", "values")

    def __init__(
        self,
        idx: list[int],
        idx_arr: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        rows: npt.NDArray[np.float64],
    ) -> None:
        self.idx, self.idx_arr, self.values, self.rows = idx, idx_arr, values, rows


class TextModel:
    """A loaded text model: TF-IDF features into a multinomial logistic regression over kinds.

    Build it with :meth:`load` (or :func:`default_model`); instances are immutable and
    thread-safe to share.

    Parameters
    ----------
    labels : tuple of Kind
        The classes, in the order of the rows of ``coef``.
    settings : FeatureSettings
        The n-gram ranges the features were built with.
    vocabulary : dict of str to int
        Feature name → column (columns ``0 … n - 1``).
    idf : ndarray
        Inverse document frequency per column.
    coef : ndarray
        Logistic-regression weights, one row per class (one row for a binary model).
    intercept : ndarray
        One intercept per row of ``coef``.
    sublinear_tf : bool
        Whether term frequencies are ``1 + log(tf)``.
    version : str
        The artefact's version.
    metadata : Mapping
        Provenance recorded at training (corpus and dictionary hashes, scores, …).

    Examples
    --------
    >>> m = default_model()
    >>> Kind.CHANGE_NOTICE_GENERIC in m.labels
    True
    >>> m.version.startswith("1.")
    True
    """

    def __init__(
        self,
        *,
        labels: tuple[Kind, ...],
        settings: FeatureSettings,
        vocabulary: Mapping[str, int] | _Vocabulary,
        idf: npt.NDArray[np.float64],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        sublinear_tf: bool,
        version: str,
        metadata: Mapping[str, Any],
    ) -> None:
        self.labels = labels
        self.settings = settings
        if not isinstance(vocabulary, _Vocabulary):
            vocabulary = _Vocabulary.from_mapping(vocabulary)
        self._vocabulary = vocabulary
        self._idf = idf
        # (n_features, n_classes): row gathers are contiguous; no copy when ``coef`` is already
        # the transpose of such an array (layout 2 stores it that way)
        self._coef_t = _contiguous(coef.T)
        self._n_rows = coef.shape[0]
        self._intercept = intercept
        self._sublinear_tf = sublinear_tf
        self.version = version
        self.metadata: Mapping[str, Any] = metadata
        self._last = threading.local()
        if settings.char_ngrams[1] <= _MAX_CODED_NGRAM:
            vocabulary.code_chars()
        self._words = vocabulary.words
        self._chars = vocabulary.chars
        self._char_codes = vocabulary.char_codes
        self._word_settings = FeatureSettings(settings.word_ngrams, (0, 0))
        self._codes = _codes()
        self._zero = dict.fromkeys(Kind, 0.0)
        import numpy

        self._np = numpy  # loaded with the arrays anyway; saves an import statement per call
        # the sublinear term frequencies as an array, gathered by count (the same doubles)
        self._tf_table = numpy.array(_SUBLINEAR, dtype=numpy.float64)
        self._row = {label: i for i, label in enumerate(labels)}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, directory: str | Path) -> TextModel:
        """Load and validate an artefact directory holding ``model.json`` and ``model.npz``.

        Parameters
        ----------
        directory : str or pathlib.Path
            The directory written by ``icp-notify train``.

        Returns
        -------
        TextModel

        Raises
        ------
        ModelArtifactError
            A file is missing or unreadable, the npz holds pickled objects, the arrays do not fit
            together, a label is unknown, or the tokenizer dictionary is not the one the model was
            trained with.

        Examples
        --------
        >>> TextModel.load("/nonexistent")
        Traceback (most recent call last):
        ...
        icp_notify.errors.ModelArtifactError: /nonexistent/model.json: missing...
        """
        import numpy as np

        directory = Path(directory)
        meta_path = directory / "model.json"
        npz_path = directory / "model.npz"
        hint = "retrain with `icp-notify train` or reinstall icp_notify"
        try:
            meta_text = meta_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelArtifactError(str(meta_path), f"missing; {hint}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelArtifactError(str(meta_path), f"unreadable ({exc}); {hint}") from exc
        try:
            meta = json.loads(meta_text)
        except json.JSONDecodeError as exc:
            raise ModelArtifactError(str(meta_path), f"not valid JSON ({exc}); {hint}") from exc
        if not isinstance(meta, dict):
            raise ModelArtifactError(str(meta_path), "expected a JSON object")
        layout = meta.get("format_version")
        if layout not in _READABLE_FORMATS or isinstance(layout, bool):
            raise ModelArtifactError(
                str(meta_path),
                f"format_version {layout!r} is not one of {list(_READABLE_FORMATS)}; {hint}",
                field="format_version",
            )
        try:
            labels = tuple(Kind(x) for x in meta["labels"])
            settings = FeatureSettings.from_dict(meta["features"])
            sublinear_tf = bool(meta["tfidf"]["sublinear_tf"])
            tok_settings = meta["tokenizer"]
            recorded_dict = str(tok_settings["dictionary_sha256"])
            recorded_tok_version = str(tok_settings["version"])
            version = str(meta["version"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelArtifactError(str(meta_path), f"invalid metadata: {exc!r}") from exc
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ModelArtifactError(
                str(meta_path), "labels must be >= 2 distinct kinds", field="labels"
            )

        from icp_notify import tokenize as tk

        if recorded_tok_version != tk.TOKENIZER_VERSION:
            raise ModelArtifactError(
                str(meta_path),
                f"trained with tokenizer version {recorded_tok_version}, this is {tk.TOKENIZER_VERSION}; {hint}",
                field="tokenizer.version",
            )
        if recorded_dict != tk.dictionary_sha256():
            raise ModelArtifactError(
                str(meta_path),
                f"trained with a different tokenizer dictionary ({tk.dictionary_path().name} changed); {hint}",
                field="tokenizer.dictionary_sha256",
            )

        stored = ("vocabulary", "idf", "coef", "intercept")
        if layout == 2:
            stored = ("vocabulary_utf8", "idf", "coef_t", "intercept")
        try:
            with npz_path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in stored}
        except FileNotFoundError:
            raise ModelArtifactError(str(npz_path), f"missing; {hint}") from None
        except KeyError as exc:
            raise ModelArtifactError(str(npz_path), f"missing array {exc}; {hint}") from exc
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise ModelArtifactError(
                str(npz_path), f"refused: holds pickled objects or is corrupt ({exc})"
            ) from exc
        except (OSError, EOFError, Exception) as exc:  # zipfile.BadZipFile and friends
            raise ModelArtifactError(str(npz_path), f"corrupt ({exc!r}); {hint}") from exc

        problems = []
        vocabulary: _Vocabulary | None = None
        try:
            if layout == 2:
                raw = arrays["vocabulary_utf8"]
                if raw.ndim != 1 or raw.dtype != np.uint8:
                    problems.append("vocabulary_utf8 must be a 1-d uint8 array")
                else:
                    try:
                        vocabulary = _Vocabulary.from_text(
                            raw.tobytes().decode("utf-8"),
                            coded=settings.char_ngrams[1] <= _MAX_CODED_NGRAM,
                            hot=arrays["idf"],
                        )
                    except UnicodeDecodeError:
                        problems.append("vocabulary_utf8 is not UTF-8")
                coef_t = arrays["coef_t"]
                coef = coef_t.T if coef_t.ndim == 2 else coef_t
            else:
                vocab_arr = arrays["vocabulary"]
                if vocab_arr.ndim != 1 or vocab_arr.dtype.kind != "U":
                    problems.append("vocabulary must be a 1-d unicode array")
                else:
                    vocabulary = _Vocabulary.from_names(vocab_arr.tolist())
                coef = arrays["coef"]
        except ValueError as exc:  # duplicate names
            raise ModelArtifactError(str(npz_path), str(exc)) from None
        idf, intercept = arrays["idf"], arrays["intercept"]
        n_classes = len(labels)
        n_rows = 1 if n_classes == 2 else n_classes
        n_features = len(vocabulary) if vocabulary is not None and not problems else -1
        if idf.shape != (n_features,):
            problems.append(f"idf has shape {idf.shape}, expected ({n_features},)")
        if coef.shape != (n_rows, n_features):
            problems.append(f"coef has shape {coef.shape}, expected ({n_rows}, {n_features})")
        if intercept.shape != (n_rows,):
            problems.append(f"intercept has shape {intercept.shape}, expected ({n_rows},)")
        for name, arr in (("idf", idf), ("coef", coef), ("intercept", intercept)):
            if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)):
                problems.append(f"{name} must hold finite floats")
        if problems:
            raise ModelArtifactError(str(npz_path), "; ".join(problems))
        assert vocabulary is not None
        return cls(
            labels=labels,
            settings=settings,
            vocabulary=vocabulary,
            idf=idf.astype(np.float64, copy=False),
            coef=coef.astype(np.float64, copy=False),
            intercept=intercept.astype(np.float64, copy=False),
            sublinear_tf=sublinear_tf,
            version=version,
            metadata=meta,
        )

    # ------------------------------------------------------------------ scoring

    def _vector(self, tokens: Sequence[str]) -> _Vector:
        """Return the non-zero TF-IDF entries for ``tokens`` (:class:`_Vector`).

        The last result is kept per thread, so ``predict_proba`` followed by ``top_features``
        on the same tokens computes the vector once (results never depend on earlier calls).
        """
        key = tuple(tokens)
        last = getattr(self._last, "value", None)
        if last is not None and last[0] == key:
            return cast("_Vector", last[1])
        vector = self._compute_vector(key)
        self._last.value = (key, vector)
        return vector

    def _compute_vector(self, tokens: Sequence[str]) -> _Vector:
        np = self._np
        # Count vocabulary indices rather than feature strings: the vocabulary is one-to-one, so
        # the counts, and the order of first occurrence (which fixes the order of the float sums
        # below), are the same as counting the strings and looking each up afterwards.
        if self._char_codes is not None:
            found = _coded_indices(
                tokens,
                self._word_settings,
                self.settings.char_ngrams,
                self._words,
                self._char_codes,
                self._codes,
            )
        else:
            assert self._chars is not None
            found = _feature_indices(tokens, self.settings, self._words, self._chars, self._codes)
        counts: Counter[int | None] = Counter(found)
        counts.pop(None, None)
        idx = cast("list[int]", list(counts))
        n = len(idx)
        # indices and counts in one buffer (struct converts ints in one C loop); the term
        # frequencies are the table's doubles gathered by count, the tf * idf product and
        # everything after it numpy's, as before
        packed = np.frombuffer(struct.pack(f"{2 * n}q", *idx, *counts.values()), dtype=np.int64)
        idx_arr = packed[:n]
        table = self._tf_table
        if self._sublinear_tf:
            if n and max(counts.values()) >= len(table):
                table = np.array([_sublinear(c) for c in range(max(counts.values()) + 1)])
            tf = table[packed[n:]]
        else:
            tf = packed[n:].astype(np.float64)
        values = tf * self._idf[idx_arr]
        norm = math.sqrt(values @ values)
        if norm > 0.0:
            values /= norm
        # np.take: the same rows as coef_t[idx_arr], without fancy indexing's iterator
        return _Vector(idx, idx_arr, values, np.take(self._coef_t, idx_arr, axis=0))

    def decision_function(self, tokens: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return the raw linear scores (one per row of ``coef``).

        Parameters
        ----------
        tokens : sequence of str
            Output of :func:`icp_notify.tokenize.tokenize`.

        Returns
        -------
        ndarray
            One score per row of ``coef``.
        """
        vector = self._vector(tokens)
        return vector.values @ vector.rows + self._intercept

    def predict_proba(self, tokens: Sequence[str]) -> dict[Kind, float]:
        """Return the probability of every :class:`~icp_notify.models.Kind` (zero for kinds not trained).

        Parameters
        ----------
        tokens : sequence of str
            Output of :func:`icp_notify.tokenize.tokenize` (see :func:`notice_tokens`).

        Returns
        -------
        dict of Kind to float
            Every kind, summing to 1.

        Examples
        --------
        >>> from icp_notify.tokenize import tokenize
        >>> p = default_model().predict_proba(tokenize("您的备案信息已被变更，详情请咨询您的接入服务提供商。"))
        >>> max(p, key=p.__getitem__).value, len(p) == len(Kind)
        ('change_notice_generic', True)
        """
        np = self._np
        vector = self._vector(tokens)  # as decision_function
        scores = vector.values @ vector.rows + self._intercept
        if scores.shape[0] == 1:  # binary logistic regression
            p1 = 1.0 / (1.0 + math.exp(-float(scores[0])))
            probs = np.array([1.0 - p1, p1])
        else:
            scores -= scores.max()  # scores is our own new array: in place, same values
            probs = np.exp(scores)
            probs /= probs.sum()
        out = self._zero.copy()  # every kind, in Kind order
        out.update(zip(self.labels, probs.tolist(), strict=True))
        return out

    def top_features(
        self, tokens: Sequence[str], kind: Kind, n: int = 5
    ) -> list[tuple[str, float]]:
        """Return the ``n`` features of ``tokens`` that push hardest towards ``kind``.

        Parameters
        ----------
        tokens : sequence of str
            Output of :func:`icp_notify.tokenize.tokenize`.
        kind : Kind
            The kind to explain; a kind the model was not trained on has no features.
        n : int
            How many to return.

        Returns
        -------
        list of (str, float)
            ``(feature, contribution)`` with a positive contribution to ``kind``'s score, largest
            first. Features are ``w:<words>`` or ``c:<characters>``, placeholders shown as ``⟨ICP⟩`` ….

        Examples
        --------
        >>> from icp_notify.tokenize import tokenize
        >>> feats = default_model().top_features(tokenize("您的网站已取消接入"), Kind.PROVIDER_ACCESS_CANCELLED, n=3)
        >>> len(feats) <= 3 and all(w > 0 for _, w in feats)
        True
        """
        if type(kind) is not Kind:
            kind = Kind(kind)
        row = self._row.get(kind)
        if row is None or n <= 0:
            return []
        vector = self._vector(tokens)
        idx = vector.idx
        if not idx:
            return []
        # the gathered rows of coef_t hold the same weights as coef_t[idx_arr, row]
        if self._n_rows == 1:
            sign = 1.0 if row == 1 else -1.0
            weights = sign * vector.rows[:, 0]
        else:
            weights = vector.rows[:, row]
        contrib = vector.values * weights
        top = contrib.tolist()
        # largest contribution first, ties by feature index (numpy's lexsort((idx, -contrib))):
        # only the entries at least the n-th largest can be among the first n
        k = len(top)
        candidates: Iterable[int] = range(k)
        if k > n:
            nth = self._np.partition(contrib, k - n)[k - n]
            candidates = self._np.flatnonzero(contrib >= nth).tolist()
        order = sorted(candidates, key=lambda i: (-top[i], idx[i]))[:n]
        name = self._vocabulary.name
        return [(display_feature(name(idx[i])), round(top[i], 6)) for i in order if top[i] > 0]

    def _feature_names(self) -> list[str]:
        """Every column's feature name, in column order (built on each call: for tests and tools)."""
        return [self._vocabulary.name(j) for j in range(len(self._vocabulary))]

    def __repr__(self) -> str:
        return f"TextModel(version={self.version!r}, labels={len(self.labels)}, features={len(self._vocabulary)})"


def _contiguous(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``a`` as a C-contiguous float64 array (``a`` itself when it already is one)."""
    import numpy

    return numpy.ascontiguousarray(a, dtype=numpy.float64)


_default_lock = threading.Lock()


@functools.cache
def _default_model_cached() -> TextModel:
    with _default_lock:
        return TextModel.load(default_model_dir())


def default_model() -> TextModel:
    """Return the shipped model, loaded on first use and cached (thread-safe).

    Returns
    -------
    TextModel
        The same object on every call.

    Raises
    ------
    ModelArtifactError
        When the shipped artefact is missing or invalid.

    Examples
    --------
    >>> default_model() is default_model()
    True
    """
    return _default_model_cached()


def artefact_sha256(directory: str | Path) -> str:
    """Return a sha256 over ``model.json`` and ``model.npz`` (for provenance in reports).

    Parameters
    ----------
    directory : str or Path
        An artefact directory.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    OSError
        When a file of the artefact cannot be read.

    Examples
    --------
    >>> len(artefact_sha256(default_model_dir()))
    64
    """
    h = hashlib.sha256()
    for name in ("model.json", "model.npz"):
        h.update((Path(directory) / name).read_bytes())
    return h.hexdigest()
