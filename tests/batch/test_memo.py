"""The text model's answers kept per token sequence (``batch/memo.py``) give exactly the plain
classifications: on every corpus record (with its context), and again on each record with its
digits changed — other codes, numbers and domains, the same tokens — where the memo answers
from notices with other entity values."""

from __future__ import annotations

import pytest

from icp_notify.batch.memo import ModelMemo, memo_classifier
from icp_notify.classifier import Classifier
from icp_notify.corpus import load_corpus
from icp_notify.models import RawMessage
from icp_notify.parse import parse

_SHIFT = str.maketrans("0123456789", "3456789012")


@pytest.mark.slow
def test_memo_classifications_equal_plain_ones_on_the_whole_corpus() -> None:
    plain = Classifier.default()
    memo = memo_classifier(plain)
    assert memo is not plain
    assert isinstance(memo.model, ModelMemo)
    records = load_corpus()
    changed = 0
    for shift in (False, True):
        for record in records:
            text = record.text.translate(_SHIFT) if shift else record.text
            changed += shift and text != record.text
            notice = parse(
                RawMessage(
                    text=text,
                    channel=record.channel,
                    sender=record.sender,
                    subject=record.subject,
                    received_at=record.received_at,
                )
            )
            for context in {None, record.context}:
                got = memo.classify_notice(notice, context)
                expected = plain.classify_notice(notice, context)
                assert got == expected, text
                assert got.model_dump_json() == expected.model_dump_json()
    assert changed > 1000  # records with other entity values
    assert memo.model.hits > 500  # the memo answered them (and the corpus' own repeats)


def test_a_classifier_without_a_text_model_is_left_as_it_is() -> None:
    plain = Classifier.default()
    rules_only = Classifier(plain.rules, None)
    assert memo_classifier(rules_only) is rules_only


def test_answers_are_copies() -> None:
    memo = ModelMemo(Classifier.default().model)
    tokens = ["您", "的", "⟨CODE⟩", "核验"]
    first = memo.predict_proba(tokens)
    first.clear()
    assert memo.predict_proba(tokens)
    kind = max(memo.predict_proba(tokens), key=memo.predict_proba(tokens).__getitem__)
    features = memo.top_features(tokens, kind, 3)
    features.clear()
    assert memo.top_features(tokens, kind, 3)
