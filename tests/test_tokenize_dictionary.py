"""Reading the tokenizer dictionary in bulk gives exactly what the line loop gives: the same
prefix dictionary (keys, values, insertion order), the same total, the same error."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from icp_notify import tokenize as tk
from icp_notify.errors import DataFileError


def _outcome(parse: Callable[[bytes], tuple[dict[str, int], int]], data: bytes) -> object:
    try:
        freq, total = parse(data)
    except Exception as exc:  # the two ways must fail alike
        return (type(exc), str(exc))
    return (list(freq.items()), total)


def _bulk(data: bytes) -> tuple[dict[str, int], int]:
    return tk._parse_dictionary(data, "userdict.txt")


def _lines(data: bytes) -> tuple[dict[str, int], int]:
    return tk._parse_dictionary_lines(data.decode("utf-8"), "userdict.txt")


def test_the_shipped_dictionary_reads_the_same_in_bulk() -> None:
    data = tk.dictionary_path().read_bytes()
    assert tk._CANONICAL_DICTIONARY.fullmatch(data.decode("utf-8")) is not None  # the bulk way
    bulk = _outcome(_bulk, data)
    assert bulk == _outcome(_lines, data)
    assert len(bulk[0]) > 20_000  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        "# c\n备案 100 n\n备案号 5 n\n备 7 n\n",  # a word after its prefix was added
        "备案号 5 n\n备 7 n\n备案 100 n\n",
        "备案 100 n\n备案 3 v\n",  # listed twice: the last count, both in the total
        "\n\n# c\n\n备案 100 n\n\n取消 007 v\n",
        "# only a comment\n",
        "",
        "备案 0 n\n",
        "备案 100 n\n坏行没有频率\n",
        "备案 100\n",  # no tag
        "备案 100 n x\n",  # two tags
        " 备案 100 n\n",  # leading space
        "备案  100 n\n",
        "备案\t100 n\n",
        "备案 100 n\r\n取消 5 v\r\n",
        "备案 100 n",  # no final newline
        "备案 ² n\n",
        "备案 100 n\n# a comment after the words\n取消 5 v\n",
        "#x\u2028备案 1 n\n",
        "备案 100 n\x85取消 5 v\n",
        "a#b 3 n\n",
    ],
)
def test_bulk_and_line_loop_agree(text: str) -> None:
    data = text.encode("utf-8")
    assert _outcome(_bulk, data) == _outcome(_lines, data)


def test_bulk_and_line_loop_agree_on_random_files() -> None:
    rng = random.Random(14)
    alphabet = ["备", "案", "号", "a", "#", " ", "\n", "1", "0", "7", "n", "\t", "\r", "²"]
    seen_canonical = 0
    for _ in range(3000):
        if rng.random() < 0.5:  # well-formed lines, sometimes with a flaw
            lines = [
                "".join(rng.choice("备案号取消") for _ in range(rng.randint(1, 4)))
                + f" {rng.randint(0, 30)} n"
                for _ in range(rng.randint(0, 6))
            ]
            if rng.random() < 0.3:
                lines.insert(rng.randint(0, len(lines)), rng.choice(["# c", "", " x 1 n", "y 2"]))
            text = "\n".join(lines) + "\n"
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        seen_canonical += tk._CANONICAL_DICTIONARY.fullmatch(text) is not None
        data = text.encode("utf-8")
        assert _outcome(_bulk, data) == _outcome(_lines, data), text
    assert seen_canonical > 500  # both ways were exercised


def test_a_bad_line_is_reported_with_its_number() -> None:
    with pytest.raises(DataFileError, match="line 3"):
        _bulk("# c\n备案 100 n\n坏行 x n\n".encode())
