"""The one tokenizer used by training and inference.

Text is NFKC-normalised and case-folded, entities (URLs, e-mail addresses, ICP numbers, public-security
numbers, licences, IPs, domains, phone numbers, dates, times, verification codes and other numbers) are
replaced by placeholder tokens such as ``⟨ICP⟩`` and ``⟨URL⟩``, and the text between them is cut by a
*private* :class:`jieba.Tokenizer` built from the bundled dictionary ``data/userdict.txt``.

Why a private tokenizer with a small bundled dictionary:

* no global jieba state is touched (``jieba.dt`` stays as the host application left it);
* nothing is written to the shared temp directory: jieba normally caches its prefix dictionary in
  ``tempfile.gettempdir()``; we build the prefix dictionary in memory with jieba's own parser and mark
  the tokenizer initialised, so no cache file is read or written;
* cold start: jieba's default dictionary (349k words) takes about 0.4–0.7 s to load, the bundled one
  (filing vocabulary plus the most frequent common words) a few tens of milliseconds.

The HMM for unknown words is off (``HMM=False``): unknown runs of Chinese characters are cut into single
characters, which the character n-grams of :mod:`icp_notify.textmodel` cover, instead of into
pseudo-words (names, company names) that would only add noise to the vocabulary.

Examples
--------
>>> tokenize("您的网站京ICP备2024012345号-3已取消接入，详见 https://a.example.com/x")
['您', '的', '网站', '⟨ICP⟩', '已', '取消接入', ',', '详', '见', '⟨URL⟩']
>>> tokenize("验证码：483920，24小时内有效")
['验证码', ':', '⟨CODE⟩', ',', '⟨NUM⟩', '小时', '内', '有效']
"""

from __future__ import annotations

import array
import functools
import hashlib
import json
import math
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import regex

from icp_notify.artefacts import read_derived
from icp_notify.bounded import PROVEN_CHARS
from icp_notify.entities import CN_TLDS as _PARSER_CN_TLDS
from icp_notify.entities import TLDS as _PARSER_TLDS
from icp_notify.errors import DataFileError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "MAX_CHARS",
    "PLACEHOLDERS",
    "TOKENIZER_VERSION",
    "dictionary_path",
    "dictionary_sha256",
    "digit_stable",
    "settings",
    "tokenize",
]

TOKENIZER_VERSION: Final = "2"
"""Bumped whenever tokenisation changes in a way that invalidates a trained model."""

MAX_CHARS: Final = 10_000
"""Only the first ``MAX_CHARS`` characters are tokenised (notices are short; this bounds the work)."""

_REGEX_TIMEOUT: Final = 0.25
"""Seconds the entity scan may take on a text longer than :data:`~icp_notify.bounded.PROVEN_CHARS`
before it is abandoned (then no placeholders); shorter texts (NFKC can lengthen the first
:data:`MAX_CHARS`) are scanned without a timeout: ``tests/test_bounded.py`` proves the
patterns bounded on them."""

_HMM: Final = False

_BLOCK_MEMO_SIZE: Final = 8192
"""How many distinct blocks (runs of Han characters, ASCII letters and digits) keep their words."""

_RESERVED_TLDS: Final = ("example", "test", "invalid", "localhost")
"""Top-level names reserved for examples and tests (RFC 2606), used by notices written as samples."""

# The top-level domains a bare domain may end in: the parser's own lists (:mod:`icp_notify.entities`,
# so the tokenizer's ⟨DOMAIN⟩ and the parser's domains agree) plus :data:`_RESERVED_TLDS`; longest
# first. A domain under any other name falls apart into letters, which the model would learn.
_TLD_ALTERNATION: Final = "|".join(
    sorted({*_PARSER_TLDS, *_RESERVED_TLDS}, key=lambda t: (-len(t), t))
)
_CN_TLDS: Final = tuple(sorted(set(_PARSER_CN_TLDS), key=lambda t: (-len(t), t)))
_CN_TLD_ALTERNATION: Final = "|".join(_CN_TLDS)
_CN_TLD_DOTS: Final = tuple(f".{tld}" for tld in _CN_TLDS)

# Order matters: the first alternative that matches at a position wins. Each entity is a tuple of
# top-level alternatives (its pattern is their ``|``-join); the scanner runs each alternative on its
# own, behind its own gate, which gives the same matches (see :class:`_EntityScanner`).
_ENTITY_ALTERNATIVES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("URL", (r"(?:https?://|www\.)[^\s<>\"'，。；！？、）)】]+",)),
    # starts where the search starts (\G) or after a character it cannot hold: the leftmost match
    # always does, and a long run without "@" is not rescanned from each of its characters
    ("EMAIL", (r"(?:\G|(?<![a-z0-9._%+-]))[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+",)),
    ("ICP", (r"\p{Han}icp[备证]?\s*\d{6,12}\s*号?(?:\s*-\s*\d{1,3})?",)),
    ("GA", (r"\p{Han}公网安备\s*\d{8,16}\s*号?",)),
    ("LIC", (r"[\p{Han}][a-b]\d-\d{6,10}",)),
    ("TIME", (r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])",)),
    (
        "IP",
        (
            r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])",
            r"(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])",
            r"(?<![\w:])(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?(?![\w:])",
        ),
    ),
    (
        "DOMAIN",
        (
            # at most 126 labels before the TLD (a domain name has at most 127): bounded
            # backtracking label by label on a long run of labels without a TLD
            r"(?<![a-z0-9.@-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,126}"
            rf"(?:{_TLD_ALTERNATION}|xn--[a-z0-9-]+)(?![a-z0-9-])",
            rf"(?<![.@-])[\p{{Han}}a-z0-9-]{{1,12}}\.(?:{_CN_TLD_ALTERNATION})",
        ),
    ),
    (
        "PHONE",
        (
            r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:\d{4}|[*x]{4}|\s?\d{4}\s?)\d{4}(?!\d)",
            r"(?<!\d)(?:400|800)-?\d{3}-?\d{4}(?!\d)",
            r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)",
        ),
    ),
    (
        "DATE",
        (
            r"(?<!\d)(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
            r"(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)",
        ),
    ),
    (
        "CODE",
        (r"(?<=(?:验证码|核验码|校验码|动态码|code)\s*[:：是为]?\s*)[a-z0-9]{4,8}(?![a-z0-9])",),
    ),
    ("NUM", (r"\d+(?:\.\d+)?",)),
)

_ENTITY_PATTERNS: Final[tuple[tuple[str, str], ...]] = tuple(
    (name, "|".join(alternatives)) for name, alternatives in _ENTITY_ALTERNATIVES
)

PLACEHOLDERS: Final[dict[str, str]] = {name: f"⟨{name}⟩" for name, _ in _ENTITY_PATTERNS}
"""Entity name → placeholder token, e.g. ``"ICP" → "⟨ICP⟩"``."""

_FLAGS: Final = regex.IGNORECASE | regex.VERSION0
_DIGIT: Final = regex.compile(r"\d")
_CODE_LEADS: Final = ("验证码", "核验码", "校验码", "动态码", "code")

_Gate = Callable[[str, bool], bool]

_ACTIVE_MEMO_SIZE: Final = 1024
"""At most this many combinations of holding gates keep their list of regexes."""

# A necessary condition of each alternative of _ENTITY_ALTERNATIVES, in the same order, on NFKC-
# normalised, casefolded text (``has_digit``: the text holds a ``\d``): an alternative whose
# condition fails cannot match anywhere in the text and is not searched at all. Each condition
# only asks for literal characters (or a ``\d``) that every match of the alternative contains.
_ENTITY_GATES: Final[dict[str, tuple[_Gate, ...]]] = {
    "URL": (lambda t, d: "://" in t or "www." in t,),
    "EMAIL": (lambda t, d: "@" in t,),
    "ICP": (lambda t, d: d and "icp" in t,),
    "GA": (lambda t, d: d and "公网安备" in t,),
    "LIC": (lambda t, d: d and "-" in t,),
    "TIME": (lambda t, d: d and ":" in t,),
    "IP": (
        lambda t, d: d and t.count(".") >= 3,  # three ``\.``
        lambda t, d: t.count(":") >= 7,  # seven ``:``
        lambda t, d: "::" in t,  # ``(?:…:){1,6}:``
    ),
    "DOMAIN": (
        lambda t, d: "." in t,
        lambda t, d: any(dot in t for dot in _CN_TLD_DOTS),
    ),
    "PHONE": (
        lambda t, d: d,
        lambda t, d: d and ("400" in t or "800" in t),
        lambda t, d: d and "-" in t,
    ),
    "DATE": (
        lambda t, d: d and "月" in t,
        lambda t, d: d and ("-" in t or "/" in t or "." in t),
    ),
    "CODE": (lambda t, d: any(lead in t for lead in _CODE_LEADS),),
    "NUM": (lambda t, d: d,),
}


def _held_gates(t: str) -> tuple[bool, ...]:
    """Every gate of :data:`_ENTITY_GATES` on ``t``, flattened in entity and alternative order:
    ``tuple(gate(t, has_digit) for each gate)``, each condition written inline (no call per gate)
    and the rare multi-needle ones behind a literal that each of their needles holds.
    ``tests/test_tokenize.py`` checks it against the gates one by one."""
    d = _DIGIT.search(t) is not None
    dot = "." in t
    hyphen = "-" in t
    cn_tld = False
    if dot:  # every ".中国"-like needle holds a "."
        for needle in _CN_TLD_DOTS:
            if needle in t:
                cn_tld = True
                break
    code = "code" in t
    if not code and "码" in t:  # every other lead ends in 码
        for lead in _CODE_LEADS:
            if lead in t:
                code = True
                break
    return (
        "://" in t or "www." in t,  # URL
        "@" in t,  # EMAIL
        d and "icp" in t,  # ICP
        d and "公网安备" in t,  # GA
        d and hyphen,  # LIC
        d and ":" in t,  # TIME
        d and t.count(".") >= 3,  # IP: v4
        t.count(":") >= 7,  # IP: full v6
        "::" in t,  # IP: compressed v6
        dot,  # DOMAIN
        cn_tld,  # DOMAIN: Chinese TLD
        d,  # PHONE: mobile
        d and ("400" in t or "800" in t),  # PHONE: 400/800
        d and hyphen,  # PHONE: landline
        d and "月" in t,  # DATE: 月
        d and (hyphen or "/" in t or dot),  # DATE: numeric
        code,  # CODE
        d,  # NUM
    )


class _EntityScanner:
    """``finditer`` of the alternation of :data:`_ENTITY_PATTERNS`, one entity at a time.

    The alternation ``(?P<URL>…)|(?P<EMAIL>…)|…`` finds, from a position, the leftmost match and
    at that start the first alternative that matches. Searched as one regex it tries every
    alternative at every position; searched one entity at a time, each entity's regex skips ahead
    with its own literal scan. Same matches: a pattern's match at a given start does not depend
    on where the search began (lookbehinds see the whole text), so the next match is the earliest
    of each entity's next match, ties to the earlier entity.

    Each entity's regex is the alternation of only those of its alternatives whose gate
    (:data:`_ENTITY_GATES`) holds for the text; an entity with none is not searched at all. Same
    matches: an alternative that can match nowhere in the text never decides a match, so leaving
    it out changes nothing (and alternations whose rare branches are gated out run much faster,
    e.g. ``DOMAIN`` without its ``.中国`` branch). ``text`` must be NFKC-normalised and casefolded
    (as :func:`tokenize` does).
    """

    def __init__(
        self,
        entities: tuple[tuple[str, tuple[str, ...]], ...],
        held: Callable[[str], tuple[bool, ...]] | None = None,
    ) -> None:
        # ``held``: every gate's value at once (:func:`_held_gates` for the shipped table)
        self._held = held
        self._entities = tuple((name, alts, _ENTITY_GATES[name]) for name, alts in entities)
        for name, alts, gates in self._entities:
            if len(gates) != len(alts):
                raise ValueError(f"{name}: {len(alts)} alternatives but {len(gates)} gates")
        # (entity index, bit mask of its alternatives) → compiled regex; at most 2**3 per entity
        self._compiled: dict[tuple[int, int], regex.Pattern[str]] = {}
        # every gate, flattened in entity and alternative order, with where its bit goes
        self._gates = tuple(gate for _, _, gates in self._entities for gate in gates)
        self._slots = tuple(
            (index, 1 << j)
            for index, (_, _, gates) in enumerate(self._entities)
            for j in range(len(gates))
        )
        # which gates hold → the regexes to search with (a few dozen combinations occur)
        self._active_for: dict[tuple[bool, ...], tuple[regex.Pattern[str], ...]] = {}

    def _pattern(self, index: int, mask: int) -> regex.Pattern[str]:
        pattern = self._compiled.get((index, mask))
        if pattern is None:
            name, alts, _ = self._entities[index]
            source = "|".join(alt for j, alt in enumerate(alts) if mask >> j & 1)
            pattern = regex.compile(f"(?P<{name}>{source})", flags=_FLAGS)
            self._compiled[index, mask] = pattern
        return pattern

    def _active(self, text: str) -> tuple[regex.Pattern[str], ...]:
        """The regexes to search ``text`` with, in entity order."""
        if self._held is not None:
            held = self._held(text)
        else:
            has_digit = _DIGIT.search(text) is not None
            held = tuple([gate(text, has_digit) for gate in self._gates])
        active = self._active_for.get(held)
        if active is None:
            masks = [0] * len(self._entities)
            for (index, bit), ok in zip(self._slots, held, strict=True):
                if ok:
                    masks[index] |= bit
            active = tuple(self._pattern(i, mask) for i, mask in enumerate(masks) if mask)
            if len(self._active_for) < _ACTIVE_MEMO_SIZE:
                self._active_for[held] = active
        return active

    def finditer(self, text: str, *, timeout: float | None) -> list[regex.Match[str]]:
        """Return the matches of the alternation, in order (``timeout``: seconds for all the
        searches, then ``TimeoutError``; ``None``: no timeout, for text the proof covers)."""
        if timeout is None:
            return self._finditer(text)
        deadline = time.monotonic() + timeout
        active = self._active(text)
        if not active:
            return []
        n = len(active)
        pending: list[regex.Match[str] | None] = [None] * n
        starts = [-1] * n  # start of pending[i]; -1: not searched yet; n_text + 1: no more matches
        done = len(text) + 1
        out: list[regex.Match[str]] = []
        pos = 0
        while True:
            best = -1
            best_start = done
            for i in range(n):
                start = starts[i]
                if start < pos:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("entity scan timed out")
                    m = pending[i] = active[i].search(text, pos, timeout=left)
                    start = starts[i] = done if m is None else m.start()
                if start < best_start:
                    best, best_start = i, start
            if best < 0:
                return out
            m = pending[best]
            assert m is not None
            out.append(m)
            pos = m.end()

    def _finditer(self, text: str) -> list[regex.Match[str]]:
        """:meth:`finditer` without a timeout (the same loop without the clock)."""
        active = self._active(text)
        if not active:
            return []
        if len(active) == 1:  # one regex: its own matches are the alternation's
            return list(active[0].finditer(text))
        n = len(active)
        pending: list[regex.Match[str] | None] = [None] * n
        starts = [-1] * n
        done = len(text) + 1
        out: list[regex.Match[str]] = []
        pos = 0
        while True:
            best = -1
            best_start = done
            for i in range(n):
                start = starts[i]
                if start < pos:
                    m = pending[i] = active[i].search(text, pos)
                    start = starts[i] = done if m is None else m.start()
                if start < best_start:
                    best, best_start = i, start
            if best < 0:
                return out
            m = pending[best]
            assert m is not None
            out.append(m)
            pos = m.end()


_ENTITY_RE: Final = _EntityScanner(_ENTITY_ALTERNATIVES, _held_gates)

_lock = threading.Lock()


def dictionary_path() -> Path:
    """Return the path of the bundled jieba dictionary ``icp_notify/data/userdict.txt``.

    Returns
    -------
    pathlib.Path
        The file (it is read only when the tokenizer is first used).

    Examples
    --------
    >>> dictionary_path().name
    'userdict.txt'
    """
    from pathlib import Path

    return Path(str(resources.files("icp_notify") / "data" / "userdict.txt"))


@functools.cache
def dictionary_sha256() -> str:
    """Return the sha256 (hex) of the bundled dictionary, as recorded in the model artefact.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> len(dictionary_sha256())
    64
    """
    return hashlib.sha256(dictionary_path().read_bytes()).hexdigest()


def settings() -> dict[str, Any]:
    """Return the tokenizer settings recorded in the model artefact.

    Returns
    -------
    dict
        ``version``, ``hmm``, ``max_chars``, ``placeholders`` and ``dictionary_sha256``.

    Examples
    --------
    >>> s = settings()
    >>> s["version"], s["hmm"], s["placeholders"][:3]
    ('2', False, ['URL', 'EMAIL', 'ICP'])
    """
    return {
        "version": TOKENIZER_VERSION,
        "hmm": _HMM,
        "max_chars": MAX_CHARS,
        "placeholders": [name for name, _ in _ENTITY_PATTERNS],
        "dictionary_sha256": dictionary_sha256(),
    }


_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""The characters ``str.splitlines`` splits on."""

_CANONICAL_DICTIONARY: Final = re.compile(
    rf"\A((?:(?:#[^{_LINE_BREAKS}]*+)?\n)*+)(?:(?:[^\s#]\S*+ 0*+[1-9][0-9]*+ \S++)?\n)*+"
)  # \A: a search elsewhere fails at once (bounded, tests/test_bounded.py)
"""A dictionary file as ``build_dictionary`` writes it: comment lines, then lines
``word count tag`` (single spaces, a positive ASCII count, no other whitespace), each ending in
``\n``, empty lines anywhere; group 1 is the comments. After them, ``str.split()`` gives the
fields of the lines :func:`_parse_dictionary_lines` accepts, three by three."""


def _parse_dictionary(data: bytes, path: str) -> tuple[dict[str, int], int]:
    """Build jieba's prefix dictionary (``FREQ``, ``total``) from the dictionary file's bytes.

    The same dict (keys, values and insertion order) and total as :func:`_parse_dictionary_lines`,
    built with C-level passes when the file has the shape ``build_dictionary`` writes (any
    other file, including one with an error to report, goes through the line loop).
    """
    text = data.decode("utf-8")
    canonical = _CANONICAL_DICTIONARY.fullmatch(text)
    if canonical is None:
        return _parse_dictionary_lines(text, path)
    fields = text[canonical.end(1) :].split()
    words = fields[0::3]
    if not words:
        raise DataFileError(path, "the dictionary has no words")
    counts = list(map(int, fields[1::3]))
    # keys in the order the line loop inserts them: each word, then its proper prefixes
    longest = max(map(len, words))
    orders = [(n, *range(1, n)) for n in range(longest + 1)]
    freq = dict.fromkeys([word[:end] for word in words for end in orders[len(word)]], 0)
    freq.update(zip(words, counts, strict=True))  # a word listed twice keeps its last count
    return freq, sum(counts)


def _parse_dictionary_lines(text: str, path: str) -> tuple[dict[str, int], int]:
    """:func:`_parse_dictionary`, one line at a time (any file; reports the first bad line)."""
    freq: dict[str, int] = {}
    total = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(" ")
        if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) <= 0:
            raise DataFileError(
                path, f"line {lineno}: expected 'word frequency [tag]', got {line!r}"
            )
        word, count = parts[0], int(parts[1])
        freq[word] = count
        total += count
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    if total == 0:
        raise DataFileError(path, "the dictionary has no words")
    return freq, total


def _import_jieba() -> Any:
    """Import jieba without letting it import ``pkg_resources`` (about 40-60 ms of cold start).

    jieba 0.42 falls back to plain file access when ``import pkg_resources`` fails; the blocker is
    removed right after, so the host application can still import ``pkg_resources`` itself.
    """
    import sys

    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba

        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


@functools.cache
def _tokenizer() -> Any:
    """Return the private jieba tokenizer, built once from the bundled dictionary."""
    with _lock:
        jieba = _import_jieba()
        path = dictionary_path()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataFileError(str(path), f"cannot read the tokenizer dictionary: {exc}") from exc
        tok = jieba.Tokenizer(dictionary=str(path))
        # Build the prefix dictionary ourselves: jieba's initialize() would read and write a
        # cache file in the shared temp directory.
        tok.FREQ, tok.total = _parse_dictionary(data, str(path))
        tok.initialized = True
        return tok


_RE_HAN: Final = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.UNICODE)
"""jieba 0.42's ``re_han_default`` (a *block*: a run of these characters is cut as a whole);
``tests/test_tokenize.py`` checks it against jieba's. Kept here so cutting never imports jieba
(about 3 MB and 40–60 ms of cold start for its HMM tables, unused with ``HMM=False``)."""


_PREFIX_DICTIONARY_NAME: Final = "userdict_prefix.json"
"""The derived copy of the bundled dictionary's prefix dictionary, beside ``userdict.txt``:
written by ``python -m icp_notify.tokenize`` (and by ``training.build_dictionary``), read instead
of parsing the dictionary when it records the dictionary's sha256 (``tests/test_tokenize_prefix.py``)."""

_PREFIX_FORMAT: Final = 1


def _u32(data: bytes = b"") -> array.array[int]:
    """An array of unsigned 32-bit ints from their little-endian bytes."""
    code = "I" if array.array("I").itemsize == 4 else "L"
    values = array.array(code, data)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _dump_prefix_dictionary(freq: dict[str, int], total: int, sha256: str) -> str:
    """The JSON text of the prefix dictionary ``freq`` (and ``total``) of the dictionary file whose
    bytes have this sha256: the keys in order, joined by spaces (no key holds whitespace), and
    their counts as little-endian 32-bit ints in hex.

    Raises
    ------
    ValueError
        When a key holds whitespace or is empty, or a count is not below ``2**32``.
    """
    keys = list(freq)
    if any(key.split() != [key] for key in keys):
        raise ValueError("a key of the prefix dictionary is empty or holds whitespace")
    counts = _u32()
    try:
        counts.extend(freq.values())
    except OverflowError:
        raise ValueError("a count of the prefix dictionary is not below 2**32") from None
    if sys.byteorder == "big":
        counts.byteswap()
    doc = {
        "format": _PREFIX_FORMAT,
        "dictionary_sha256": sha256,
        "total": total,
        "counts": counts.tobytes().hex(),
        "keys": " ".join(keys),
    }
    return json.dumps(doc, ensure_ascii=False) + "\n"


def _read_prefix_dictionary(path: Path, sha256: str) -> tuple[dict[str, int], int] | None:
    """The copy at ``path`` when derived from the dictionary with this sha256, else ``None``
    (missing, stale or malformed: the caller parses the dictionary)."""
    doc = read_derived(path, "dictionary_sha256", sha256)
    if doc is None:
        return None
    total, counts, keys = doc.get("total"), doc.get("counts"), doc.get("keys")
    if (
        doc.get("format") != _PREFIX_FORMAT
        or type(total) is not int
        or total <= 0
        or not isinstance(counts, str)
        or not isinstance(keys, str)
        or len(counts) % 8
    ):
        return None
    try:
        values = _u32(bytes.fromhex(counts)).tolist()
    except ValueError:
        return None
    names = keys.split(" ")
    freq = dict(zip(names, values, strict=False))
    if len(names) != len(values) or len(freq) != len(names):
        return None
    return freq, total


def _write_prefix_dictionary(dictionary: Path | None = None) -> Path:
    """Write the derived copy beside ``dictionary`` (default: the bundled one); return its path."""
    path = dictionary if dictionary is not None else dictionary_path()
    data = path.read_bytes()
    freq, total = _parse_dictionary(data, str(path))
    out = path.with_name(_PREFIX_DICTIONARY_NAME)
    text = _dump_prefix_dictionary(freq, total, hashlib.sha256(data).hexdigest())
    out.write_text(text, encoding="utf-8")
    return out


@functools.cache
def _dictionary() -> tuple[dict[str, int], int]:
    """The bundled dictionary as jieba's prefix dictionary (``FREQ``, ``total``), read once:
    from its derived copy when the copy records the dictionary's sha256."""
    path = dictionary_path()
    try:
        sha256 = dictionary_sha256()
    except OSError:
        pass  # reported below
    else:
        copy = _read_prefix_dictionary(path.with_name(_PREFIX_DICTIONARY_NAME), sha256)
        if copy is not None:
            return copy
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(str(path), f"cannot read the tokenizer dictionary: {exc}") from exc
    return _parse_dictionary(data, str(path))


class _Cutter:
    """jieba's ``Tokenizer.cut(text, HMM=False)`` on a built tokenizer, without whitespace tokens.

    The same algorithm and the same floating-point operations as jieba 0.42 (``get_DAG``,
    ``calc`` and ``__cut_DAG_NO_HMM`` fused into one backward pass over a table of
    ``log(freq) - log(total)``), so the same words; about twice as fast. ``tests/test_tokenize.py``
    checks it against ``Tokenizer.cut`` on the corpus and on random text.

    jieba cuts each run of characters of ``re_han`` (a *block*) on its own, so a block's words are
    a pure function of the block: they are memoised in a bounded LRU cache (notices repeat the
    same phrases, e.g. ``您的备案信息已被变更``; about half the blocks of distinct test messages are
    repeats). The cache holds immutable tuples and never changes a result.
    """

    def __init__(self, freq: dict[str, int], total: int, re_han: re.Pattern[str]) -> None:
        self._freq = freq
        logtotal = math.log(total)
        self._logp = {w: math.log(f) - logtotal for w, f in freq.items() if f}
        self._miss = math.log(1) - logtotal  # a character that is no word: ``log(FREQ or 1)``
        self._re_han = re_han
        self._block_words = functools.lru_cache(maxsize=_BLOCK_MEMO_SIZE)(self._cut_block_tuple)

    def _cut_block_tuple(self, s: str) -> tuple[str, ...]:
        out: list[str] = []
        self._cut_block(s, out)
        return tuple(out)

    def _cut_block(self, s: str, out: list[str]) -> None:
        freq, logp, miss = self._freq, self._logp, self._miss
        n = len(s)
        score = [0.0] * (n + 1)
        nxt = [0] * n
        for k in range(n - 1, -1, -1):
            best: float | None = None
            best_x = k
            i = k
            frag = s[k]
            while i < n and frag in freq:
                p = logp.get(frag)
                if p is not None:
                    sc = p + score[i + 1]
                    if best is None or sc >= best:  # ties go to the longer word, as in jieba
                        best, best_x = sc, i
                i += 1
                frag = s[k : i + 1]
            if best is None:
                best = miss + score[k + 1]
            score[k] = best
            nxt[k] = best_x
        x = 0
        buf = ""
        while x < n:
            y = nxt[x] + 1
            word = s[x:y]
            if y - x == 1 and word.isascii() and word.isalnum():
                buf += word  # runs of single ASCII letters/digits are joined
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)

    def cut(self, text: str, out: list[str]) -> None:
        """Append the words of ``text`` (no whitespace tokens) to ``out``."""
        # ``re_han`` is one capturing group around a greedy run, so ``split`` alternates
        # [no run, run, no run, …, no run]: odd items are blocks, even items hold no block
        # character at their start (the run before would have taken it) nor anywhere else.
        # The characters of the other items are tokens, whitespace dropped: ``str.split()``
        # splits on exactly the characters ``str.isspace()`` accepts.
        block_words = self._block_words
        parts = self._re_han.split(text)
        for i in range(1, len(parts), 2):
            other = parts[i - 1]
            if other:
                out.extend("".join(other.split()) if len(other) > 1 or other.isspace() else other)
            out += block_words(parts[i])
        other = parts[-1]
        if other:
            out.extend("".join(other.split()) if len(other) > 1 or other.isspace() else other)


@functools.cache
def _cutter() -> _Cutter:
    """The cutter over the bundled dictionary (jieba's prefix dictionary, built without jieba)."""
    with _lock:
        freq, total = _dictionary()
    return _Cutter(freq, total, _RE_HAN)


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """Yield ``(piece, is_placeholder)``: plain text runs and entity placeholders."""
    timeout = None if len(text) <= PROVEN_CHARS else _REGEX_TIMEOUT
    try:
        matches = _ENTITY_RE.finditer(text, timeout=timeout)
    except TimeoutError:
        matches = []
    pos = 0
    for m in matches:
        if m.start() > pos:
            yield text[pos : m.start()], False
        name = m.lastgroup or "NUM"
        yield PLACEHOLDERS[name], True
        pos = m.end()
    if pos < len(text):
        yield text[pos:], False


def tokenize(text: str) -> list[str]:
    """Cut a notice's text into tokens, with entities replaced by placeholders.

    Parameters
    ----------
    text : str
        The notice text (normally ``Notice.text``); it is NFKC-normalised and case-folded here,
        and only its first :data:`MAX_CHARS` characters are used.

    Returns
    -------
    list of str
        Tokens without whitespace; entity placeholders (``⟨ICP⟩``, ``⟨URL⟩``, ``⟨DOMAIN⟩`` …) are
        single tokens.

    Examples
    --------
    >>> tokenize("尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
    ['尊敬', '的', '用户', 'xx', ',', '您', '的', '备案信息', '已被', '变更', ',', '详情', '请', '咨询', '您', '的', '接入服务提供商', '。']
    >>> tokenize("域名 shop.example.cn 解析到 203.0.113.7")
    ['域名', '⟨DOMAIN⟩', '解析', '到', '⟨IP⟩']
    >>> tokenize("")
    []
    """
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    cutter = _cutter()
    out: list[str] = []
    for piece, is_placeholder in _segments(text):
        if is_placeholder:
            out.append(piece)
        else:
            cutter.cut(piece, out)
    return out


@functools.cache
def _digit_sensitive() -> tuple[tuple[regex.Pattern[str], _Gate], ...]:
    """The entity alternatives that can tell one ASCII digit from another (not
    :func:`~icp_notify.gates.digit_blind`), each with its gate: the phone numbers' (a mobile
    number starts ``1[3-9]``, a hotline ``400``/``800``, a landline ``0``)."""
    from icp_notify.gates import digit_blind

    out = []
    for index, (name, _) in enumerate(_ENTITY_ALTERNATIVES):
        for j, gate in enumerate(_ENTITY_GATES[name]):
            # the scanner's own pattern of this one alternative (proven bounded with the others)
            pattern = _ENTITY_RE._pattern(index, 1 << j)
            if not digit_blind(pattern):
                out.append((pattern, gate))
    return tuple(out)


def digit_stable(text: str) -> bool:
    """Whether :func:`tokenize` gives ``text`` the tokens of any text that differs from it
    only in which ASCII digits stand where it has them (and is itself digit-stable).

    ``True`` when no entity alternative that can tell one ASCII digit from another (the phone
    numbers'; :func:`~icp_notify.gates.digit_blind` reads each alternative) matches anywhere in
    the normalised text, which is not longer than :data:`~icp_notify.bounded.PROVEN_CHARS`.
    For two such texts ``a`` and ``b`` of the same length that differ only where both hold an
    ASCII digit, ``tokenize(a) == tokenize(b)``:

    * NFKC and case folding keep them so: no canonical decomposition holds an ASCII digit (so
      a digit composes with nothing), and a digit normalises and folds to itself;
    * the entity scan makes the same decisions on both: from the same position, each
      digit-blind alternative matches at the same span in both texts, each other alternative
      matches nowhere in either (so which of them the gates leave in changes nothing), and the
      next search starts at the same place; so the entities are the same kinds at the same
      spans, and no timeout applies (the text is within the proof of ``tests/test_bounded.py``);
    * every ASCII digit lies inside an entity (``NUM`` matches any digit that nothing before it
      took), so the text between the entities is the same, and so is its cut.

    ``tests/test_tokenize_digits.py`` checks it on every corpus text with its digits changed.

    Parameters
    ----------
    text : str
        A text as given to :func:`tokenize`.

    Returns
    -------
    bool

    Examples
    --------
    >>> digit_stable("您的备案订单 BA1234567890 已通过初审"), digit_stable("客服热线 400-123-4567")
    (True, False)
    >>> tokenize("联系 13912345678") == tokenize("联系 03912345678")  # a phone number, then not
    False
    >>> digit_stable("联系 13912345678"), digit_stable("联系 03912345678")
    (False, True)
    """
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    if len(text) > PROVEN_CHARS:
        return False
    has_digit = _DIGIT.search(text) is not None
    if not has_digit:
        return True
    for pattern, gate in _digit_sensitive():
        if gate(text, has_digit) and pattern.search(text) is not None:
            return False
    return True


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool, run after editing userdict.txt
    print(f"wrote {_write_prefix_dictionary()}")
