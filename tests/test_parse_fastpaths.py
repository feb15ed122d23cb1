"""``parse`` builds its Notice without validating again what it built itself: the same Notice
as validation gives, and validation still meets what a caller passed unchecked."""

from __future__ import annotations

import datetime as dt

from _helpers import corpus_texts

from icp_notify.models import SHANGHAI, Notice, RawMessage
from icp_notify.parse import parse


def _validated(notice: Notice) -> Notice:
    return Notice(**{name: getattr(notice, name) for name in Notice.model_fields})


def test_the_notice_is_the_validated_one_on_the_corpus() -> None:
    for i, text in enumerate(corpus_texts()[::3]):
        kwargs = {"sender": "10690000123", "received_at": "2025-03-01 10:00"} if i % 2 else {}
        notice = parse(text, **kwargs)  # type: ignore[arg-type]
        again = _validated(notice)
        assert notice == again
        assert notice.model_fields_set == again.model_fields_set
        assert notice.model_dump_json() == again.model_dump_json()


def test_an_unvalidated_naive_arrival_time_is_still_read_as_shanghai() -> None:
    raw = RawMessage.model_construct(text="您的备案已通过", received_at=dt.datetime(2025, 3, 1, 10))
    assert parse(raw).received_at == dt.datetime(2025, 3, 1, 10, tzinfo=SHANGHAI)


def test_a_str_parses_as_its_validated_raw_message() -> None:
    # a plain str, a RawMessage and a str subclass: the notices must be the same
    class Text(str):
        pass

    for text in corpus_texts()[::7]:
        notice = parse(text)
        assert notice == parse(RawMessage(text=text))
        assert notice == parse(Text(text))
        assert notice.model_dump_json() == parse(RawMessage(text=text)).model_dump_json()
