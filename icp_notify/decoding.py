"""Bytes to text: BOM sniffing, UTF-8, then GB18030, with every undecodable byte run recorded.

Shared by :func:`icp_notify.parse.parse` (bytes that are not an e-mail) and
:mod:`icp_notify.readers.email` (MIME parts in a declared or guessed charset), so that neither
imports the other for it. An undecodable byte run becomes one U+FFFD and one ``undecodable_bytes``
:class:`~icp_notify.models.Defect`.

Examples
--------
>>> decode_bytes("备案".encode("gb18030"))
('备案', ())
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from icp_notify.errors import InputError
from icp_notify.models import Defect

__all__ = ["MAX_DEFECTS", "MAX_EMAIL_BYTES", "decode_bytes"]
# least_damaged and record_escaped are shared with readers.email, not API.

MAX_EMAIL_BYTES = 25 * 1024 * 1024
"""Cap on the bytes of an e-mail (and on any bytes input); also the character cap of e-mail text."""


MAX_DEFECTS = 20
"""At most this many undecodable-byte defects are listed one by one; the rest are summed up."""

_ESCAPED = re.compile(r"[\udc80-\udcff]+")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def record_escaped(text: str, encoding: str) -> tuple[str, list[Defect]]:
    """Replace surrogate-escaped byte runs by U+FFFD, one defect per run (position in the result).

    Parameters
    ----------
    text : str
        Text decoded with ``errors="surrogateescape"``.
    encoding : str
        The encoding it was decoded with, named in the defects.

    Returns
    -------
    tuple of (str, list of Defect)
        The repaired text and one ``undecodable_bytes`` defect per run (at most
        :data:`MAX_DEFECTS`, then one that sums up the rest).
    """
    defects: list[Defect] = []
    parts: list[str] = []
    last = 0
    out_len = 0
    runs = 0
    for m in _ESCAPED.finditer(text):
        runs += 1
        parts.append(text[last : m.start()])
        out_len += m.start() - last
        if runs <= MAX_DEFECTS:
            defects.append(
                Defect(
                    code="undecodable_bytes",
                    message=f"{len(m.group(0))} byte(s) not valid {encoding} replaced by U+FFFD",
                    position=out_len,
                )
            )
        parts.append("\ufffd")
        out_len += 1
        last = m.end()
    if not runs:
        return text, defects
    parts.append(text[last:])
    if runs > MAX_DEFECTS:
        defects.append(
            Defect(
                code="undecodable_bytes",
                message=f"{runs - MAX_DEFECTS} more undecodable byte run(s) replaced by U+FFFD",
            )
        )
    return "".join(parts), defects


def least_damaged(data: bytes, encodings: Iterable[str]) -> tuple[int, str, str]:
    """Decode with each known encoding, bad bytes kept as surrogate escapes; the fewest bad wins.

    Parameters
    ----------
    data : bytes
        The bytes to decode.
    encodings : iterable of str
        The candidate encodings, best first (unknown names are skipped; one must be known).

    Returns
    -------
    tuple of (int, str, str)
        ``(bad byte count, encoding, text)``; the first encoding wins a tie.
    """
    best: tuple[int, str, str] | None = None
    for encoding in encodings:
        try:
            raw = data.decode(encoding, errors="surrogateescape")
        except LookupError:
            continue
        bad = sum(len(m) for m in _ESCAPED.findall(raw))
        if best is None or bad < best[0]:
            best = (bad, encoding, raw)
    assert best is not None, "no known encoding"
    return best


def decode_bytes(data: bytes) -> tuple[str, tuple[Defect, ...]]:
    """Decode text bytes: a BOM if there is one, else UTF-8, else GB18030.

    When neither decodes cleanly the one with fewer bad bytes wins; each bad byte run becomes
    one U+FFFD and one ``undecodable_bytes`` defect.

    Parameters
    ----------
    data : bytes
        The text's bytes.

    Returns
    -------
    tuple of (str, tuple of Defect)
        The text and the repairs made.

    Raises
    ------
    InputError
        ``undecodable`` when more than half of the bytes cannot be decoded.

    Examples
    --------
    >>> decode_bytes("备案".encode("gb18030"))
    ('备案', ())
    >>> text, defects = decode_bytes(b"ICP\\xff\\xfe ok")
    >>> text, defects[0].code
    ('ICP\\ufffd ok', 'undecodable_bytes')
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raw = (
                data[len(bom) :].decode(encoding, errors="surrogateescape")
                if "utf-8" in encoding
                else None
            )
            if raw is None:
                try:
                    return data[len(bom) :].decode(encoding), ()
                except UnicodeDecodeError:
                    raw = data[len(bom) :].decode(encoding, errors="replace")
                    return raw, (
                        Defect(
                            code="undecodable_bytes",
                            message=f"bytes not valid {encoding} replaced by U+FFFD",
                        ),
                    )
            text, defects = record_escaped(raw, encoding)
            return text, tuple(defects)
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), ()
    except UnicodeDecodeError:
        pass
    bad, encoding, raw = least_damaged(data, ("utf-8", "gb18030"))
    if bad * 2 > len(data):
        raise InputError(
            "undecodable",
            f"{bad} of {len(data)} bytes are neither UTF-8 nor GB18030",
            hint="pass text, or bytes in UTF-8 / GB18030 (GBK, GB2312)",
        )
    text, defects = record_escaped(raw, encoding)
    return text, tuple(defects)
