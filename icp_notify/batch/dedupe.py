"""Duplicate detection of a batch run: which messages were already seen, in bounded memory.

Why batch's key is not the server store's
-----------------------------------------
Batch and the server store (``icp_notify.server.store.dedupe_key``) both drop "the same notice
again", but they answer two different questions, so they keep two keys on purpose:

* **batch** (:func:`dedupe_key`) drops the copies of one *received message* that overlapping
  backups and exports hold several times: same sender, same arrival time as written, same
  text. The message's source (file, line, id) is left out, since the same SMS in a phone
  backup and in a CSV export has a different one; the same text received again later is a new
  message and gets its own row. The key is a 16-byte digest, so a run of millions of rows
  stays in bounded memory (:class:`SeenSet`), and it lives for one run.
* **the store** makes ``POST /v1/notices`` idempotent for a *client* and a *filing*: a retried
  post must answer "duplicate" instead of storing the notice twice, for as long as the
  database lives. Its key is scoped to the filing and is the client's ``message_id`` when
  the client sends one (a retry is recognised by it even if the text was re-encoded), else a
  SHA-256 of filing, sender, time in UTC and text, kept in full as a unique column.

Sharing one key would make one of them wrong: the store's key would merge two filings'
identical notices if it lost the filing, and batch has no filing and no client ids (ids of two
exports differ for one message). One difference is deliberate to keep outputs stable: batch
compares the time as written (with its offset), the store in UTC; a message written with two
offsets in two exports is then labelled twice, never lost.

Examples
--------
>>> from icp_notify.models import RawMessage
>>> a = RawMessage(text="您的备案已通过", sender="12381", received_at="2025-03-04T09:00:00+08:00")
>>> from icp_notify.models import SourceRef
>>> b = a.model_copy(update={"source": SourceRef(file="export.csv", line=9)})
>>> dedupe_key(a) == dedupe_key(b), len(dedupe_key(a))
(True, 16)
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from icp_notify.models import RawMessage

__all__ = ["BLOOM_BYTES", "SEEN_MEMORY_KEYS", "SeenSet", "dedupe_key"]

SEEN_MEMORY_KEYS = 1 << 16
"""Duplicate-detection digests kept in memory before they move to a temporary SQLite file."""

BLOOM_BYTES = 1 << 22
"""Size of the Bloom filter in front of the keys on disk (4 MiB: about one key in 6,000 is
looked up in SQLite for nothing at a million keys, one in 20 at ten million)."""

_BLOOM_MASK = BLOOM_BYTES * 8 - 1
_BLOOM_SHIFT = (BLOOM_BYTES * 8).bit_length() - 1  # bits per position (25 for 4 MiB)


def dedupe_key(msg: RawMessage) -> bytes:
    """BLAKE2b-128 of ``sender NUL time NUL text`` (UTF-8, lone surrogates kept).

    Parameters
    ----------
    msg : RawMessage
        A message as read.

    Returns
    -------
    bytes
        16 bytes; equal for two messages with the same sender, arrival time and text.

    Examples
    --------
    >>> from icp_notify.models import RawMessage
    >>> dedupe_key(RawMessage(text="x")) == dedupe_key(RawMessage(text="x", sender="12381"))
    False
    """
    at = msg.received_at.isoformat() if msg.received_at else ""
    data = f"{msg.sender or ''}\x00{at}\x00{msg.text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()


class SeenSet:
    """The exact set of messages seen in a run, in bounded memory.

    Keys are 16-byte BLAKE2b digests (:func:`dedupe_key`). Up to ``memory_keys`` of them are
    held in a Python set; beyond that they are moved into a temporary SQLite file (deleted when
    the set is closed) whose page cache is capped, so memory stays flat however long the
    archive is. A digest collision (probability about n²/2¹²⁹) is the only way two different
    messages could be taken for duplicates.

    The keys on disk are also marked in a Bloom filter of fixed size (:data:`BLOOM_BYTES`, four
    bits per key), so a new key — most keys of an archive — is known to be new without asking
    SQLite; only a key whose four bits are all set is looked up there. The filter only saves
    look-ups: the answer is still SQLite's, exact.

    Parameters
    ----------
    memory_keys : int, default 65536
        How many keys are held in memory before they move to SQLite.

    Examples
    --------
    >>> seen = SeenSet(memory_keys=2)
    >>> [seen.add(k) for k in (b"a", b"b", b"c", b"a", b"c", b"d")]
    [True, True, True, False, False, True]
    >>> len(seen), seen.spilled
    (4, True)
    >>> seen.close()
    """

    def __init__(self, memory_keys: int = SEEN_MEMORY_KEYS) -> None:
        self.memory_keys = memory_keys
        self._memory: set[bytes] = set()
        self._db: Any = None
        self._dir: Any = None
        self._bloom: bytearray | None = None
        self._count = 0

    @property
    def spilled(self) -> bool:
        """Whether keys have been moved to disk."""
        return self._db is not None

    @property
    def path(self) -> str | None:
        """The temporary SQLite file once keys have moved to disk, else ``None``."""
        return None if self._dir is None else os.path.join(self._dir.name, "seen.sqlite")

    def __len__(self) -> int:
        return self._count

    def add(self, key: bytes) -> bool:
        """Add ``key``; return ``True`` when it was new (``False``: a duplicate).

        Parameters
        ----------
        key : bytes
            The message digest.

        Returns
        -------
        bool
            ``True`` when ``key`` had not been seen.
        """
        if key in self._memory:
            return False
        bloom = self._bloom
        if bloom is not None:
            # a key on disk has its four bits set; one bit clear proves the key is new
            h = _bloom_hash(key)
            a, b = h & _BLOOM_MASK, (h >> _BLOOM_SHIFT) & _BLOOM_MASK
            c, d = (h >> 2 * _BLOOM_SHIFT) & _BLOOM_MASK, (h >> 3 * _BLOOM_SHIFT) & _BLOOM_MASK
            if (
                bloom[a >> 3] >> (a & 7)
                & bloom[b >> 3] >> (b & 7)
                & bloom[c >> 3] >> (c & 7)
                & bloom[d >> 3] >> (d & 7)
                & 1
                and self._db.execute("SELECT 1 FROM seen WHERE k = ?", (key,)).fetchone()
                is not None
            ):
                return False
        self._memory.add(key)
        self._count += 1
        if len(self._memory) >= self.memory_keys:
            self._spill()
        return True

    def _spill(self) -> None:
        bloom = self._bloom
        if self._db is None or bloom is None:
            import sqlite3
            import tempfile

            self._dir = tempfile.TemporaryDirectory(prefix="icp_notify_seen_")
            self._db = sqlite3.connect(os.path.join(self._dir.name, "seen.sqlite"))
            self._db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;"
                "CREATE TABLE seen (k BLOB PRIMARY KEY) WITHOUT ROWID;"
            )
            bloom = self._bloom = bytearray(BLOOM_BYTES)
        keys = sorted(self._memory)  # in key order: neighbouring inserts touch the same pages
        if keys and all(len(key) == 16 for key in keys):
            # one statement over the keys joined into one blob (each 16 bytes; a BLOB's
            # substr counts bytes), instead of one bound statement per key
            blob = b"".join(keys)
            with self._db:
                self._db.execute(_INSERT_BLOB, (blob, len(blob)))
            _mark_digests(bloom, blob)
        else:
            with self._db:
                self._db.executemany("INSERT INTO seen VALUES (?)", ((k,) for k in keys))
            for key in keys:
                _mark(bloom, _bloom_hash(key))
        self._memory.clear()

    def close(self) -> None:
        """Forget every key and delete the temporary file."""
        self._memory.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        self._bloom = None


_INSERT_BLOB = (
    "WITH RECURSIVE at(i) AS (SELECT 1 UNION ALL SELECT i + 16 FROM at WHERE i + 16 <= ?2)"
    " INSERT INTO seen SELECT substr(?1, i, 16) FROM at"
)
"""Insert the 16-byte keys joined in the blob ``?1`` of length ``?2``, in their order."""


def _mark(bloom: bytearray, h: int) -> None:
    """Set a key's four bits (as :meth:`SeenSet.add` reads them) from its :func:`_bloom_hash`."""
    mask, shift = _BLOOM_MASK, _BLOOM_SHIFT
    for position in (h & mask, h >> shift & mask, h >> 2 * shift & mask, h >> 3 * shift & mask):
        bloom[position >> 3] |= 1 << (position & 7)


def _mark_digests(bloom: bytearray, blob: bytes) -> None:
    """:func:`_mark` of every 16-byte key joined in ``blob``, with numpy.

    A key's :func:`_bloom_hash` is its 128 bits read little-endian: the two little-endian
    64-bit words ``low`` and ``high``, so the field of ``_BLOOM_SHIFT`` bits at bit ``p`` is
    ``low >> p`` (within the low word), ``high >> (p - 64)`` (within the high word) or both
    halves joined (across them), masked.
    """
    import numpy as np

    words = np.frombuffer(blob, dtype="<u8").reshape(-1, 2)
    low, high = words[:, 0], words[:, 1]
    mask = np.uint64(_BLOOM_MASK)
    fields = []
    for k in range(4):
        p = k * _BLOOM_SHIFT
        if p + _BLOOM_SHIFT <= 64:
            field = low >> np.uint64(p)
        elif p >= 64:
            field = high >> np.uint64(p - 64)
        else:
            field = (low >> np.uint64(p)) | (high << np.uint64(64 - p))
        fields.append(field & mask)
    positions = np.concatenate(fields)
    bits = np.left_shift(np.uint8(1), (positions & np.uint64(7)).astype(np.uint8))
    np.bitwise_or.at(
        np.frombuffer(bloom, dtype=np.uint8), (positions >> np.uint64(3)).astype(np.intp), bits
    )


def _bloom_hash(key: bytes) -> int:
    """Four Bloom filter positions' worth of bits from a key (a digest is used as it is)."""
    if len(key) < 16:
        key = hashlib.blake2b(key, digest_size=16).digest()
    return int.from_bytes(key[:16], "little")
