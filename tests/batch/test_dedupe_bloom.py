"""The Bloom filter in front of the seen-set's SQLite file only saves look-ups: the answers stay
exactly a set's, with a filter so small that most keys hit it by chance, and with the real size
a new key is decided without asking SQLite."""

from __future__ import annotations

import random
from typing import Any

import pytest

from icp_notify.batch import SeenSet, dedupe


class _CountingDb:
    """A SQLite connection that counts the look-ups made through ``execute``."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.lookups = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("SELECT"):
            self.lookups += 1
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def __enter__(self) -> Any:
        return self.db.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self.db.__exit__(*exc)


def _stream(n: int, seed: int) -> list[bytes]:
    """``n`` keys, a third of them repeats of earlier ones (some long gone to disk), digests
    and short keys mixed."""
    rng = random.Random(seed)
    keys: list[bytes] = []
    for i in range(n):
        if keys and rng.random() < 0.33:
            keys.append(rng.choice(keys))
        elif i % 7 == 0:
            keys.append(f"k{i}".encode())  # not a digest: hashed for the filter
        else:
            keys.append(rng.randbytes(16))
    return keys


@pytest.mark.parametrize("bloom_bytes", [8, 1 << 22])
def test_answers_are_a_sets_answers(monkeypatch: pytest.MonkeyPatch, bloom_bytes: int) -> None:
    bits = bloom_bytes * 8
    monkeypatch.setattr(dedupe, "BLOOM_BYTES", bloom_bytes)
    monkeypatch.setattr(dedupe, "_BLOOM_MASK", bits - 1)
    monkeypatch.setattr(dedupe, "_BLOOM_SHIFT", bits.bit_length() - 1)
    seen = SeenSet(memory_keys=50)
    plain: set[bytes] = set()
    for key in _stream(3000, seed=bloom_bytes):
        assert seen.add(key) == (key not in plain)
        plain.add(key)
    assert seen.spilled
    assert len(seen) == len(plain)
    seen.close()


def test_new_keys_skip_sqlite() -> None:
    seen = SeenSet(memory_keys=1000)
    rng = random.Random(1)
    old = [rng.randbytes(16) for _ in range(3000)]
    for key in old:
        assert seen.add(key)
    counting = _CountingDb(seen._db)
    seen._db = counting
    for _ in range(3000):  # new keys: decided by the filter alone (a false positive is rare)
        assert seen.add(rng.randbytes(16))
    assert counting.lookups <= 3
    for key in old[:1000]:  # keys on disk: each one is looked up, and found
        assert not seen.add(key)
    assert counting.lookups >= 1000
    seen.close()
