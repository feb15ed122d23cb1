"""``icp_notify.classify`` parses without the entities a classification does not read.

``parse_for_classification`` scans for URLs only (a classification reads whether a notice holds
a link, never the other entities or the recipient). These tests hold it to that: on every
record of the corpus and the hold-out sets, with and without its context, the notice is
``parse``'s but for the entities it skips, and the classification is byte-identical to the one
of the fully parsed notice.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from icp_notify import classify
from icp_notify.classifier import Classifier
from icp_notify.corpus import CorpusRecord, load_corpus
from icp_notify.entities import _sources, extract, extract_urls
from icp_notify.errors import InputError
from icp_notify.models import Defect, Entities, Notice, RawMessage
from icp_notify.parse import parse, parse_for_classification

HOLDOUT = Path(__file__).resolve().parent.parent / "corpus" / "holdout"
_ENTITY_DEFECTS = {"regex_timeout"}


def _records() -> list[CorpusRecord]:
    return load_corpus() + load_corpus(sorted(HOLDOUT.glob("*.jsonl")))


def _raw(record: CorpusRecord) -> RawMessage:
    return RawMessage(
        text=record.text,
        channel=record.channel,
        sender=record.sender,
        received_at=record.received_at,
        subject=record.subject,
    )


def _without_skipped(notice: Notice) -> dict[str, object]:
    """The notice's fields but the ones the lean parse leaves out."""
    values = notice.model_dump()
    values.pop("recipient")
    values["entities"] = {"urls": values["entities"]["urls"]}
    values["defects"] = [d for d in values["defects"] if d["code"] not in _ENTITY_DEFECTS]
    return values


def test_the_lean_notice_is_parse_but_for_the_skipped_entities() -> None:
    records = _records()
    assert len(records) > 3000
    with_urls = 0
    for record in records:
        full = parse(_raw(record))
        lean = parse_for_classification(_raw(record))
        assert lean.recipient is None
        assert lean.entities == Entities(urls=full.entities.urls), record.id
        assert _without_skipped(lean) == _without_skipped(full), record.id
        with_urls += bool(lean.entities.urls)
    assert with_urls > 50  # the link test is exercised, not only empty lists


def test_classify_is_the_classification_of_the_full_parse() -> None:
    classifier = Classifier.default()
    for record in _records():
        for context in (None, record.context) if record.context else (None,):
            want = classifier.classify_notice(parse(_raw(record)), context)
            got = classify(_raw(record), context=context)
            assert got.model_dump_json() == want.model_dump_json(), record.id


def test_keyword_arguments_reach_the_parse() -> None:
    text = "【某云】您的网站已取消接入，请在24小时内访问 https://beian.example-demo.cn/fix 处理。"
    for kwargs in (
        {"channel": "email", "sender": "noreply@example-demo.cn"},
        {"sender": "10690000123", "received_at": "2025-03-01 10:00"},
    ):
        lean = parse_for_classification(text, **kwargs)  # type: ignore[arg-type]
        full = parse(text, **kwargs)  # type: ignore[arg-type]
        assert _without_skipped(lean) == _without_skipped(full)
        assert classify(text, **kwargs).model_dump_json() == (  # type: ignore[arg-type]
            Classifier.default().classify_notice(full).model_dump_json()
        )


def test_subject_urls_are_merged_as_parse_merges_them() -> None:
    raw = RawMessage(
        text="您的接入备案已通过，详情 https://a.example-demo.cn/x",
        subject="见 https://b.example-demo.cn/y 和 https://a.example-demo.cn/x",
        channel="email",
    )
    assert parse_for_classification(raw).entities.urls == parse(raw).entities.urls
    assert [u.host for u in parse(raw).entities.urls] == ["a.example-demo.cn", "b.example-demo.cn"]


def test_extract_urls_is_extract_urls_only() -> None:
    for record in _records()[::7]:
        text = parse(record.text).text
        urls, defects = extract_urls(text)
        entities, _ = extract(text)
        assert urls == entities.urls
        assert all(isinstance(d, Defect) for d in defects)


@pytest.mark.parametrize("bad", ["", "   \u200b  ", "备" * (64 * 1024 + 1), 12381])
def test_errors_are_parse_errors(bad: object) -> None:
    with pytest.raises(InputError) as lean:
        parse_for_classification(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError) as full:
        parse(bad)  # type: ignore[arg-type]
    assert lean.value.code == full.value.code


def test_a_classification_compiles_only_the_url_entity_pattern() -> None:
    """In a new process, classifying compiles the URL pattern and no other entity pattern."""
    assert len(_sources()) > 10
    script = (
        "import icp_notify\n"
        "from icp_notify import entities\n"
        "icp_notify.classify('【工信部】尊敬的用户XX，您的备案信息已被变更，详情见 https://beian.miit.gov.cn')\n"
        "print(entities._pattern.cache_info().currsize)\n"
        "icp_notify.parse('您的网站 demo-site.cn 已接入，京ICP备12345678号')\n"
        "print(entities._pattern.cache_info().currsize)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out[0] == "1"
    assert int(out[1]) >= 4  # a full parse compiles what its gates let through (icp, domain …)
