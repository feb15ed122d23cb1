"""Where a message's time goes: µs per message for each stage of ``icp_notify.classify``.

Run from a checkout's root (it times that checkout's code)::

    .venv/bin/python bench/stages.py              # best of 5 passes, µs per message per stage

On a busy machine wall time is noisy; count instructions of one stage instead (the setup is
counted too, so subtract the ``none`` stage)::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/stages.py --once parse

The messages are the classify benchmark's: the distinct texts of the corpus test split and
``corpus/holdout/unseen.jsonl``. Stages: ``none`` (nothing), ``classify``, ``parse``, ``rules``
(``RuleSet.match`` on parsed notices), ``tokenize``, ``proba`` (the text model on tokens),
``classify_notice`` (rules + tokenizer + model + decision on parsed notices) and ``analyze``
(with advice, at a fixed ``now``). Nothing here is a test; figures go into docs/performance.md.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = "2026-01-15T12:00:00+08:00"


def stages() -> dict[str, tuple[Callable[[Any], object], Sequence[Any]]]:
    """Each stage's function and the inputs it is timed on (everything loaded and warmed up)."""
    import icp_notify
    from icp_notify.classifier import Classifier
    from icp_notify.corpus import load_corpus, split_of
    from icp_notify.parse import parse
    from icp_notify.tokenize import tokenize

    texts = [r.text for r in load_corpus() if split_of(r.id) == "test"]
    for line in (ROOT / "corpus" / "holdout" / "unseen.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            texts.append(json.loads(line)["text"])
    texts = list(dict.fromkeys(texts))
    classifier = Classifier.default()
    assert classifier.model is not None
    icp_notify.classify(texts[0])
    icp_notify.analyze(texts[0])
    notices = [parse(t) for t in texts]
    tokens = [tokenize(n.text) for n in notices]
    return {
        "none": (lambda x: None, texts),
        "classify": (icp_notify.classify, texts),
        "parse": (parse, texts),
        "rules": (classifier.rules.match, notices),
        "tokenize": (lambda n: tokenize(n.text), notices),
        "proba": (classifier.model.predict_proba, tokens),
        "classify_notice": (classifier.classify_notice, notices),
        "analyze": (lambda t: icp_notify.analyze(t, now=NOW), texts),
    }


def main(argv: list[str]) -> int:
    """Print µs per message for every stage, or run one stage once (``--once STAGE``)."""
    table = stages()
    if argv[:1] == ["--once"]:
        fn, inputs = table[argv[1]]
        for x in inputs:
            fn(x)
        return 0
    for name, (fn, inputs) in table.items():
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for x in inputs:
                fn(x)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:16s} {best / len(inputs) * 1e6:7.1f} µs/message")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
