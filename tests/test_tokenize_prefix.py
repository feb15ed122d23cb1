"""The derived copy of the tokenizer's prefix dictionary (``data/userdict_prefix.json``): the
shipped copy is what the writer writes and reads back as the parse of ``userdict.txt``; a stale,
missing or malformed copy is ignored and the dictionary parsed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from icp_notify import tokenize as tk


def _parsed() -> tuple[dict[str, int], int]:
    return tk._parse_dictionary(tk.dictionary_path().read_bytes(), "userdict.txt")


def _copy_path() -> Path:
    return tk.dictionary_path().with_name(tk._PREFIX_DICTIONARY_NAME)


def test_the_shipped_copy_is_what_the_writer_writes() -> None:
    data = tk.dictionary_path().read_bytes()
    freq, total = tk._parse_dictionary(data, "userdict.txt")
    expected = tk._dump_prefix_dictionary(freq, total, hashlib.sha256(data).hexdigest())
    assert _copy_path().read_text(encoding="utf-8") == expected


def test_the_shipped_copy_reads_as_the_parse() -> None:
    copy = tk._read_prefix_dictionary(_copy_path(), tk.dictionary_sha256())
    assert copy is not None
    freq, total = _parsed()
    assert list(copy[0].items()) == list(freq.items())  # keys, values and insertion order
    assert copy[1] == total
    got, got_total = tk._dictionary()
    assert list(got.items()) == list(freq.items())
    assert got_total == total


def test_a_stale_copy_is_ignored() -> None:
    assert tk._read_prefix_dictionary(_copy_path(), "0" * 64) is None


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    tk._dictionary.cache_clear()
    tk.dictionary_sha256.cache_clear()
    yield
    tk._dictionary.cache_clear()
    tk.dictionary_sha256.cache_clear()


def test_the_tokenizer_parses_a_dictionary_whose_copy_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    dictionary = tmp_path / "userdict.txt"
    dictionary.write_text("备案 100 n\n备案号 5 n\n", encoding="utf-8")
    out = tk._write_prefix_dictionary(dictionary)
    assert out == tmp_path / tk._PREFIX_DICTIONARY_NAME
    monkeypatch.setattr(tk, "dictionary_path", lambda: dictionary)
    assert tk._dictionary() == ({"备案": 100, "备": 0, "备案号": 5}, 105)
    # the dictionary changes, the copy does not: the copy is stale and the file is parsed
    dictionary.write_text("取消 7 v\n", encoding="utf-8")
    tk._dictionary.cache_clear()
    tk.dictionary_sha256.cache_clear()
    assert tk._dictionary() == ({"取消": 7, "取": 0}, 7)
    # a copy that lies about its dictionary's sha256 is read as it is: the writer is trusted
    out.write_text(
        tk._dump_prefix_dictionary({"x": 1}, 1, tk.dictionary_sha256()), encoding="utf-8"
    )
    tk._dictionary.cache_clear()
    assert tk._dictionary() == ({"x": 1}, 1)


def _doc() -> dict[str, object]:
    text = tk._dump_prefix_dictionary({"备案": 100, "备": 0}, 100, "a" * 64)
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize(
    "change",
    [
        {"format": 2},
        {"total": 0},
        {"total": True},
        {"total": "100"},
        {"counts": "6400000"},  # not whole 32-bit ints
        {"counts": "zz000000" + "00000000"},
        {"counts": "6400000000000000" + "00000000"},  # one count too many
        {"keys": "备案 备案"},  # a duplicate key
        {"keys": 3},
        {"dictionary_sha256": "b" * 64},
    ],
)
def test_a_malformed_copy_is_ignored(tmp_path: Path, change: dict[str, object]) -> None:
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    assert tk._read_prefix_dictionary(path, "a" * 64) == ({"备案": 100, "备": 0}, 100)
    path.write_text(json.dumps(_doc() | change), encoding="utf-8")
    assert tk._read_prefix_dictionary(path, "a" * 64) is None
    path.write_text("{not json", encoding="utf-8")
    assert tk._read_prefix_dictionary(path, "a" * 64) is None
    assert tk._read_prefix_dictionary(tmp_path / "missing.json", "a" * 64) is None


@pytest.mark.parametrize("freq", [{"备 案": 1}, {"": 1}, {"备\u3000案": 1}, {"备案": 2**32}])
def test_the_writer_refuses_what_the_copy_cannot_hold(freq: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="prefix dictionary"):
        tk._dump_prefix_dictionary(freq, 1, "a" * 64)
