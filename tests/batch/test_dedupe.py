"""Duplicate detection: exact, bounded in memory, and keyed on what one received message is."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from icp_notify.batch import SeenSet, Summary, dedupe, dedupe_key, label
from icp_notify.models import RawMessage, SourceRef

NOW = "2025-03-06T12:00:00+08:00"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_seen_set_spills_to_disk_and_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "SEEN_MEMORY_KEYS", 4)
    base = dt.datetime(2025, 3, 1, tzinfo=SHANGHAI)
    msgs = [
        RawMessage(
            text=f"您的验证码为{100000 + i}，5分钟内有效。",
            sender="10690000123",
            received_at=base + dt.timedelta(minutes=i),
        )
        for i in range(10)
    ]
    stream = [*msgs, msgs[0], msgs[5], msgs[9], msgs[3]]  # repeats from memory and from disk
    summary = Summary()
    rows = list(label(stream, now=NOW, summary=summary))
    assert [r["seq"] for r in rows] == list(range(10))
    assert (summary.read, summary.labelled, summary.duplicates) == (14, 10, 4)
    assert summary.consistent


def test_seen_set_file_is_removed_on_close() -> None:
    seen = SeenSet(memory_keys=2)
    for key in (b"a", b"b", b"c"):
        assert seen.add(key)
    assert seen.spilled
    assert seen.path is not None
    path = Path(seen.path)
    assert path.exists()
    assert not seen.add(b"a")  # found on disk
    assert len(seen) == 3
    seen.close()
    assert not path.exists()
    assert seen.path is None


def test_dedupe_key_is_the_digest_of_sender_time_and_text() -> None:
    for msg in [
        RawMessage(text="a\ud800b", sender="x\udfff"),
        RawMessage(text="备案", received_at="2025-01-01T00:00:00Z"),
        RawMessage(text="x"),
    ]:
        h = hashlib.blake2b(digest_size=16)
        h.update((msg.sender or "").encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
        h.update((msg.received_at.isoformat() if msg.received_at else "").encode())
        h.update(b"\x00")
        h.update(msg.text.encode("utf-8", "surrogatepass"))
        assert dedupe_key(msg) == h.digest()


def test_the_same_message_in_two_exports_is_one_row() -> None:
    """What the module docstring promises: the source is not part of the key, the time is."""
    text = "【示例云】您提交的变更备案（site5-example.cn）已通过管局审核，请核对备案信息。"
    at = "2025-03-04T09:12:00+08:00"
    backup = RawMessage(
        text=text, sender="10690000123", received_at=at, source=SourceRef(file="b.xml", index=4)
    )
    export = backup.model_copy(update={"source": SourceRef(file="e.csv", line=9)})
    later = backup.model_copy(update={"received_at": dt.datetime(2025, 3, 5, tzinfo=SHANGHAI)})
    utc = backup.model_copy(update={"received_at": dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)})
    summary = Summary()
    rows = list(label([backup, export, later, utc], now=NOW, summary=summary))
    assert [r["seq"] for r in rows] == [0, 2, 3]  # the export's copy is dropped
    assert rows[0]["source"] == {"file": "b.xml", "index": 4}
    # the same instant written in UTC is a different key (documented; labelled, never lost)
    assert dedupe_key(utc) != dedupe_key(backup)
    assert summary.duplicates == 1
    assert summary.consistent


def test_bloom_bits_of_joined_digests_are_each_keys_bits() -> None:
    digests = [hashlib.blake2b(str(i).encode(), digest_size=16).digest() for i in range(3000)]
    digests += [bytes(16), b"\xff" * 16, bytes(range(16))]
    one_by_one = bytearray(dedupe.BLOOM_BYTES)
    for key in digests:
        dedupe._mark(one_by_one, dedupe._bloom_hash(key))
    joined = bytearray(dedupe.BLOOM_BYTES)
    dedupe._mark_digests(joined, b"".join(digests))
    assert joined == one_by_one
    # and both are the bits SeenSet.add reads: every key's four bits are set
    h = dedupe._bloom_hash(digests[7])
    for k in range(4):
        position = h >> k * dedupe._BLOOM_SHIFT & dedupe._BLOOM_MASK
        assert joined[position >> 3] >> (position & 7) & 1


@pytest.mark.parametrize("short", [False, True])
def test_spilled_keys_are_found_exactly(short: bool) -> None:
    keys = [hashlib.blake2b(str(i).encode(), digest_size=16).digest() for i in range(500)]
    if short:  # keys that are not 16-byte digests take the one-by-one insert
        keys[3] = b"short"
    seen = SeenSet(memory_keys=64)
    try:
        assert all(seen.add(key) for key in keys)
        assert seen.spilled
        assert not any(seen.add(key) for key in keys)  # each found, in memory or on disk
        assert len(seen) == len(keys)
        others = [
            hashlib.blake2b(b"x" + str(i).encode(), digest_size=16).digest() for i in range(300)
        ]
        assert all(seen.add(key) for key in others)
        rows = seen._db.execute("SELECT count(*), min(length(k)), typeof(k) FROM seen").fetchone()
        assert rows[0] <= len(keys) + len(others)
        assert rows[2] == "blob"
        assert rows[1] == (5 if short else 16)
    finally:
        seen.close()
