"""``_join_cjk_spaces`` searches for a spaced-out run only in a line that may hold one.

``_SPACED_RUN`` begins with a look-behind on a CJK class, so the ``regex`` module tries it at
every position of every line with a space. Every match holds a space or tab, one CJK character
(never ASCII) and a space or tab in a row, which a stdlib search finds far faster; a line
without that is left as it is. These tests hold the gate to the full search on the corpus and
on lines built to sit at its edges.
"""

from __future__ import annotations

import random

from _helpers import corpus_texts

from icp_notify import normalize


def _ungated(line: str) -> str:
    """``_join_cjk_spaces`` as it was without the gate."""
    if " " not in line and "\t" not in line:
        return line
    if normalize._SPACED_RUN.search(line) is None:
        return line
    for _ in range(3):
        joined = normalize._CJK_SPACES.sub("", line)
        if joined == line:
            break
        line = joined
    return line


def test_every_spaced_run_holds_the_gate() -> None:
    rng = random.Random(14)
    cjk = "取消接入备案、。【】「」ｱｲ\u3000あア"
    pools = (cjk, " \t", "ab1,:;!?().")
    found = 0
    for _ in range(20000):
        weights = (5, 4, 1)
        line = "".join(
            rng.choice(rng.choices(pools, weights)[0]) for _ in range(rng.randrange(1, 14))
        )
        if normalize._SPACED_RUN.search(line) is not None:
            found += 1
            assert normalize._SPACED_RUN_GATE.search(line) is not None, repr(line)
        assert normalize._join_cjk_spaces(line) == _ungated(line), repr(line)
    assert found > 500  # the samples do hold spaced-out runs


def test_the_gate_changes_nothing_on_the_corpus() -> None:
    changed = 0
    for text in corpus_texts():
        for raw in normalize.normalize_text(text).split("\n") + text.split("\n"):
            line = " ".join(raw.split())
            assert normalize._join_cjk_spaces(line) == _ungated(line), line
            assert normalize._join_cjk_spaces(raw) == _ungated(raw), raw
            changed += _ungated(raw) != raw
    assert changed > 0
    assert normalize.normalize_text("取 消 接 入 成 功 ， 网 站") == "取消接入成功,网站"
