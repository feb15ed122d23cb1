"""The examples in docs/classification.md run."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "classification.md"
MODEL = Path(__file__).parents[1] / "icp_notify" / "data" / "model" / "model.json"


@pytest.mark.skipif(not MODEL.exists(), reason="the text model is not shipped yet")
def test_classification_doc_examples_run() -> None:
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 10
    assert result.failed == 0
