"""``_Vocabulary.from_text`` (the load of a layout-2 artefact) builds exactly the vocabulary that
the plain way builds: every name, then :meth:`_Vocabulary.code_chars`."""

from __future__ import annotations

import numpy as np
import pytest

from icp_notify.textmodel import _Vocabulary, default_model_dir


def _state(v: _Vocabulary) -> tuple[object, ...]:
    codes = None if v.char_codes is None else [list(d.items()) for d in v.char_codes]
    chars = None if v.chars is None else list(v.chars.items())
    return (
        [(type(k), k) for k in v.keys],
        bytes(v.prefixes),
        list(v.words.items()),
        chars,
        codes,
    )


def _plain(text: str, *, coded: bool) -> _Vocabulary:
    v = _Vocabulary.from_names(text.split("\n"))
    if coded:
        v.code_chars()
    return v


def _shipped_text() -> str:
    with np.load(default_model_dir() / "model.npz", allow_pickle=False) as npz:
        return bytes(npz["vocabulary_utf8"].tobytes()).decode("utf-8")


def _shipped_idf() -> np.ndarray:
    with np.load(default_model_dir() / "model.npz", allow_pickle=False) as npz:
        return np.asarray(npz["idf"])


def _mappings(v: _Vocabulary) -> tuple[object, ...]:
    """What a lookup reads: the same whatever the dicts' insertion order."""
    codes = None if v.char_codes is None else [dict(d) for d in v.char_codes]
    return [(type(k), k) for k in v.keys], bytes(v.prefixes), dict(v.words), v.chars, codes


@pytest.mark.parametrize("coded", [True, False])
def test_the_shipped_vocabulary_is_built_as_the_plain_way_builds_it(coded: bool) -> None:
    text = _shipped_text()
    fast = _Vocabulary.from_text(text, coded=coded)
    assert _state(fast) == _state(_plain(text, coded=coded))
    assert len(fast) > 40_000
    assert (fast.char_codes is not None) is coded
    # the word keys are the dict's own string objects (one copy of each name)
    assert all(fast.keys[j] is w for w, j in fast.words.items())


@pytest.mark.parametrize(
    "names",
    [
        ["w:备案", "c:备", "c:备案", "c:备案号", "w:a b", "c:x"],
        ["c:a", "c:abcd", "w:x"],  # a 4-character n-gram: no codes
        ["w:x", "plain", "c:y"],  # a name without a prefix
        ["w:x", "c:y", ""],  # an empty name
        ["w:"],  # an empty word
        ["c:a", "w:", "w:x"],  # an empty word among the last names
        ["c:a", "w:x", "w:"],
        ["c:a", "w:x", "c:b", "w:y", "w:z"],  # words among the character n-grams
        ["c:a", "c:ab", "w:b a", "w:ab"],  # the words are the last names (as sorted names are)
        ["c:😀", "c:a😀", "w:😀 a"],  # outside the basic plane
        ["x:y", "w:z"],
        ["w", "c:z"],
    ],
)
@pytest.mark.parametrize("coded", [True, False])
def test_from_text_equals_the_plain_way(names: list[str], coded: bool) -> None:
    text = "\n".join(names)
    assert _state(_Vocabulary.from_text(text, coded=coded)) == _state(_plain(text, coded=coded))
    v = _Vocabulary.from_text(text, coded=coded)
    assert [v.name(j) for j in range(len(v))] == names


def test_an_empty_text_is_one_empty_name() -> None:
    assert _state(_Vocabulary.from_text("", coded=True)) == _state(_plain("", coded=True))


@pytest.mark.parametrize("coded", [True, False])
@pytest.mark.parametrize("text", ["w:a\nw:a", "c:ab\nc:ab\nw:x", "c:a\nc:b\nc:a"])
def test_duplicate_names_are_refused(coded: bool, text: str) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _Vocabulary.from_text(text, coded=coded)


def test_the_hot_order_changes_no_lookup_and_puts_common_names_first() -> None:
    text, idf = _shipped_text(), _shipped_idf()
    hot = _Vocabulary.from_text(text, coded=True, hot=idf)
    assert _mappings(hot) == _mappings(_plain(text, coded=True))
    assert hot.char_codes is not None
    for lookup in (*hot.char_codes, hot.words):
        order = idf[list(lookup.values())]
        assert len(order) > 1_000
        assert (np.diff(order) >= 0).all()  # lowest idf first
    assert list(hot.words.values()) != sorted(hot.words.values())  # not the column order
    assert all(hot.keys[j] is w for w, j in hot.words.items())  # one copy of each name
    names = text.split("\n")
    assert [hot.name(j) for j in range(0, len(hot), 97)] == names[::97]


@pytest.mark.parametrize(
    "hot",
    [np.array([0.5, 0.1]), np.array([1, 2, 3, 4, 5, 6]), np.zeros((6, 1)), None],
)
def test_a_hot_order_of_another_shape_or_type_is_ignored(hot: np.ndarray | None) -> None:
    text = "\n".join(["w:备案", "c:备", "c:备案", "c:备案号", "w:a b", "c:x"])
    assert _state(_Vocabulary.from_text(text, coded=True, hot=hot)) == _state(
        _Vocabulary.from_text(text, coded=True)
    )


def test_a_hot_order_on_a_small_vocabulary() -> None:
    names = ["c:a", "w:x", "c:b", "w:y", "c:ab", "w:z", "c:abc"]
    hot = np.array([3.0, 2.0, 1.0, 1.0, 0.5, 2.0, 0.1])
    v = _Vocabulary.from_text("\n".join(names), coded=True, hot=hot)
    assert _mappings(v) == _mappings(_plain("\n".join(names), coded=True))
    assert next(iter(v.words)) == "y"  # idf 1.0 first
    assert set(v.words) == {"x", "y", "z"}
    assert v.char_codes is not None
    assert list(v.char_codes[0].values()) == [2, 0]  # c:b (1.0) before c:a (3.0)
    assert [v.name(j) for j in range(len(v))] == names
