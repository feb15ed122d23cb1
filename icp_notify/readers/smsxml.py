"""SMS Backup & Restore XML archives (``<smses><sms …/><mms …>…</mms></smses>``).

The file is parsed incrementally (constant memory: each message element is cleared once read,
so inline base64 images do not accumulate) through :mod:`defusedxml`, which refuses entity
declarations (the billion-laughs bomb) and external entities. UTF-16 surrogate pairs written
as character references (``&#55357;&#56838;``), which XML parsers reject, are repaired by a
streaming filter before parsing; a lone surrogate becomes U+FFFD.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "sms.xml"
>>> _ = p.write_text('<smses count="2">'
...     '<sms address="12381" date="1741050720000" type="1" body="备案&#55357;&#56838;"/>'
...     '<sms address="12381" date="1741050730000" type="2" body="sent by me"/></smses>')
>>> [(m.sender, m.text, m.received_at.isoformat()) for m in read_sms_xml(p)]
[('12381', '备案😆', '2025-03-04T09:12:00+08:00')]
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from icp_notify.models import Channel, RawMessage
from icp_notify.readers.common import ReadItem, error, guard, parse_time, source_ref

_CHUNK = 1 << 16
_SAFE_TAIL = 32  # longer than two character references
_SURROGATE_REF = rb"&#(?:5[5-7][0-9]{3}|[xX][dD][89a-fA-F][0-9a-fA-F]{2});"
_REGEX_TIMEOUT = 5.0
_MMS_FROM = "137"


class _FillStream(io.RawIOBase):
    """A read-only byte stream whose subclass makes its bytes a chunk at a time (``_fill``)."""

    _out: bytes
    _eof: bool

    def readable(self) -> bool:
        """Return ``True``: the stream is readable.

        Returns
        -------
        bool
            Always ``True``.
        """
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` with the stream's next bytes; return how many (0 at the end).

        Parameters
        ----------
        buffer : writable bytes-like object
            Where to put the bytes.

        Returns
        -------
        int
            The number of bytes written; 0 at the end of the stream.
        """
        view = memoryview(buffer).cast("B")
        while not self._out and not self._eof:
            self._fill()
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _fill(self) -> None:
        """Set ``_out`` to the next bytes (maybe empty), and ``_eof`` at the end of the input."""
        raise NotImplementedError


class SurrogateRepairStream(_FillStream):
    """A read-only byte stream that repairs surrogate character references on the fly.

    A high/low pair such as ``&#55357;&#56838;`` becomes the reference of the code point it
    encodes (``&#128518;``); a lone surrogate reference becomes ``&#65533;``. Memory is one
    chunk plus a few bytes carried between chunks.

    Parameters
    ----------
    raw : binary file object
        The XML bytes.

    Examples
    --------
    >>> s = SurrogateRepairStream(io.BytesIO(b"<a t='&#55357;&#56838; &#xD83D;'/>"))
    >>> s.read()
    b"<a t='&#128518; &#65533;'/>"
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._carry = b""
        self._out = b""
        self._eof = False
        self.consumed = 0
        """Bytes read from ``raw`` so far (for progress reporting)."""

    def _fill(self) -> None:
        chunk = self._raw.read(_CHUNK)
        self.consumed += len(chunk)
        if not chunk:
            self._eof = True
        data = self._carry + chunk
        safe = len(data) if self._eof else max(0, len(data) - _SAFE_TAIL)
        if b"&#" not in data:
            self._out, self._carry = data[:safe], data[safe:]
            return
        self._out, cut = _repair(data, safe)
        self._carry = data[cut:]


def _repair(data: bytes, safe: int) -> tuple[bytes, int]:
    """Repair surrogate references starting before ``safe``; return (output, bytes consumed)."""
    import regex

    matches = [
        m for m in regex.finditer(_SURROGATE_REF, data, timeout=_REGEX_TIMEOUT) if m.start() < safe
    ]
    parts: list[bytes] = []
    pos = 0
    cut = safe
    i = 0
    while i < len(matches):
        m = matches[i]
        value = _ref_value(m.group())
        if not 0xD800 <= value <= 0xDFFF:
            i += 1
            continue
        parts.append(data[pos : m.start()])
        end = m.end()
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        if nxt is None and value <= 0xDBFF and m.end() < len(data):
            nxt_match = regex.match(_SURROGATE_REF, data, pos=m.end(), timeout=_REGEX_TIMEOUT)
            nxt = nxt_match
        if (
            value <= 0xDBFF
            and nxt is not None
            and nxt.start() == m.end()
            and 0xDC00 <= _ref_value(nxt.group()) <= 0xDFFF
        ):
            low = _ref_value(nxt.group())
            code = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            parts.append(b"&#%d;" % code)
            end = nxt.end()
            i += 2
        else:
            parts.append(b"&#65533;")
            i += 1
        pos = end
        cut = max(cut, end)
    parts.append(data[pos:cut])
    return b"".join(parts), cut


def _ref_value(ref: bytes) -> int:
    body = ref[2:-1]
    return int(body[1:], 16) if body[:1] in (b"x", b"X") else int(body)


def read_sms_xml(path: str | Path, *, include_sent: bool = False) -> Iterator[ReadItem]:
    """Read an SMS Backup & Restore XML file.

    Parameters
    ----------
    path : str or Path
        The backup file.
    include_sent : bool
        Also yield messages the phone sent (``<sms type="2">``, ``<mms msg_box="2">``) and
        drafts; by default only received messages are read.

    Yields
    ------
    RawMessage or ReadError
        A message per ``<sms>`` (text from ``body``) and per ``<mms>`` with text parts
        (``<part ct="text/plain" text=…>``, joined by newlines), sender from ``address`` (for
        MMS the ``<addr type="137">``), time from ``date`` (milliseconds), channel ``sms``.
        The XML is parsed until its end or its first error, which becomes a final
        ``ReadError``: ``xml_forbidden`` (entity declarations, external entities, DTDs with
        entities), ``xml_error`` (malformed or truncated XML, with line and column).
    """
    yield from guard(path, _read(path, include_sent))


_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "iso8859-1", "ascii"})
"""Encodings (``codecs`` names) expat reads itself; a file declaring another is transcoded."""
_DECLARED = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?encoding\s*=\s*["']([^"']{0,40})["']"""
)


class TranscodeStream(_FillStream):
    """A read-only byte stream: XML in an encoding expat cannot read (GBK, Big5 …) as UTF-8.

    The bytes are decoded incrementally with ``encoding`` (an undecodable byte becomes U+FFFD)
    and encoded as UTF-8; the XML declaration's ``encoding`` is rewritten to ``UTF-8``.
    Memory is one chunk.

    Parameters
    ----------
    raw : binary file object
        The XML bytes.
    encoding : str
        Their encoding (a :mod:`codecs` name).

    Examples
    --------
    >>> data = '<?xml version="1.0" encoding="GBK"?><a t="备案"/>'.encode("gbk")
    >>> TranscodeStream(io.BytesIO(data), "gbk").read().decode("utf-8")
    '<?xml version="1.0" encoding="UTF-8"?><a t="备案"/>'
    """

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._out = b""
        self._eof = False
        self._first = True

    def _fill(self) -> None:
        chunk = self._raw.read(_CHUNK)
        self._eof = not chunk
        text = self._decoder.decode(chunk, final=self._eof)
        if self._first and text:
            self._first = False
            text = re.sub(
                r"""\A(\ufeff?<\?xml[^>]{0,200}?encoding\s*=\s*)["'][^"']{0,40}["']""",
                r'\1"UTF-8"',
                text,
                count=1,
            )
        self._out = text.encode("utf-8", errors="surrogatepass")


def declared_encoding(head: bytes) -> str | None:
    """The encoding an XML declaration at the start of ``head`` names, as written (or ``None``).

    Parameters
    ----------
    head : bytes
        The first bytes of the file.

    Returns
    -------
    str or None

    Examples
    --------
    >>> declared_encoding(b'<?xml version="1.0" encoding="GBK" standalone="yes"?><smses/>')
    'GBK'
    >>> declared_encoding(b"<smses/>") is None
    True
    """
    m = _DECLARED.match(head)
    return m.group(1).decode("ascii", errors="replace") if m else None


def _read(path: str | Path, include_sent: bool) -> Iterator[ReadItem]:
    from xml.etree.ElementTree import ParseError

    import defusedxml
    import defusedxml.ElementTree

    with open(path, "rb") as fh:
        label = declared_encoding(fh.read(256))
        fh.seek(0)
        source: IO[bytes] = fh
        if label is not None:
            try:
                encoding = codecs.lookup(label).name
            except LookupError:
                yield error(
                    "xml_error",
                    f"the XML declares an unknown encoding {label!r}",
                    path,
                    position="line 1",
                    line=1,
                    index=0,
                )
                return
            if encoding not in _EXPAT_ENCODINGS:
                source = io.BufferedReader(TranscodeStream(fh, encoding), buffer_size=_CHUNK)
        stream = SurrogateRepairStream(source)
        buffered = io.BufferedReader(stream, buffer_size=_CHUNK)
        index = 0
        depth = 0
        root: Any = None
        try:
            for event, elem in defusedxml.ElementTree.iterparse(buffered, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if root is None:
                        root = elem
                    continue
                depth -= 1
                if depth != 1:
                    continue
                tag = elem.tag
                if tag in ("sms", "mms"):
                    item = _message(elem, tag, path, index, include_sent)
                    index += 1
                    if item is not None:
                        yield item
                elem.clear()
                root.clear()
        except defusedxml.DefusedXmlException as exc:
            yield error(
                "xml_forbidden",
                f"refused unsafe XML ({type(exc).__name__}): entity declarations and external "
                "entities are not allowed in a backup",
                path,
                position=f"after message {index}",
                index=index,
            )
        except ParseError as exc:
            line, column = exc.position
            truncated = "no element found" in str(exc) or "unclosed token" in str(exc)
            yield error(
                "xml_truncated" if truncated else "xml_error",
                f"{'truncated' if truncated else 'malformed'} XML: {exc}",
                path,
                position=f"line {line}, column {column}",
                line=max(line, 1),
                index=index,
            )


def _message(
    elem: Any, tag: str, path: str | Path, index: int, include_sent: bool
) -> ReadItem | None:
    attrs = elem.attrib
    where = {"index": index}
    if tag == "sms":
        if not include_sent and attrs.get("type", "1") != "1":
            return None
        text = attrs.get("body")
        sender = attrs.get("address")
        subject = attrs.get("subject")
    else:
        if not include_sent and attrs.get("msg_box", "1") != "1":
            return None
        texts = [
            part.get("text", "")
            for part in elem.iter("part")
            if part.get("ct", "").startswith("text/plain") and part.get("text")
        ]
        if not texts:
            return None  # an image-only MMS carries no notice
        text = "\n".join(texts)
        senders = [a.get("address") for a in elem.iter("addr") if a.get("type") == _MMS_FROM]
        sender = senders[0] if senders else attrs.get("address")
        subject = attrs.get("sub")
    if text is None or not text.strip() or text == "null":
        return error(
            "missing_text", f"<{tag}> without a body", path, position=f"message {index}", **where
        )
    try:
        received_at = parse_time(attrs.get("date"))
    except (ValueError, OverflowError, OSError):
        return error(
            "invalid_field",
            f"bad date {attrs.get('date')!r}",
            path,
            position=f"message {index}",
            **where,
        )
    return RawMessage(
        text=text,
        channel=Channel.SMS,
        sender=sender if sender not in (None, "", "null") else None,
        received_at=received_at,
        subject=subject if subject not in (None, "", "null") else None,
        source=source_ref(path, **where),
    )
