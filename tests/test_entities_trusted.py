"""``entities.extract`` builds its models without validating them again (``construct_trusted``).

That is exact only when validation would return every value unchanged. These tests validate
every model ``extract`` builds, on every corpus notice and on texts holding every kind of entity,
and compare: the same values (of the same types), the same field order and the same set fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from _helpers import corpus_texts
from pydantic import BaseModel

from icp_notify.entities import extract
from icp_notify.models import Entities
from icp_notify.normalize import normalize_text

_EVERY_KIND = (
    "京ICP备2024012345号-3 粤ICP证123456号 京公网安备11010502000001号 京B2-20201234 "
    "https://beian.miit.gov.cn/x 域名example.cn 例子.中国 203.0.113.7 2001:db8::1 "
    "验证码: 483920 2025年3月1日 10:30 2025-03-02 3月4日 24小时内 三个工作日 "
    "13800138000 010-12345678 阿里云 aliyun 腾讯云"
)


def _revalidated(model: BaseModel) -> BaseModel:
    values = {name: getattr(model, name) for name in type(model).model_fields}
    return type(model)(**values)


def _check(model: BaseModel) -> int:
    fresh = _revalidated(model)
    assert fresh == model
    assert list(model.__dict__) == list(type(model).model_fields)
    assert model.model_fields_set == fresh.model_fields_set
    assert model.model_dump_json() == fresh.model_dump_json()
    checked = 1
    for name in type(model).model_fields:
        value: Any = getattr(model, name)
        assert type(value) is type(getattr(fresh, name)), name
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, BaseModel):
                checked += _check(item)
    return checked


def test_every_model_is_what_validation_makes() -> None:
    reference = dt.datetime(2025, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    checked = 0
    for text in [*corpus_texts(), _EVERY_KIND]:
        for body in (text, normalize_text(text)):
            for ref in (None, reference):
                entities, _ = extract(body, reference=ref)
                assert isinstance(entities, Entities)
                checked += _check(entities)
    assert checked > 10_000


def test_every_kind_is_built() -> None:
    entities, _ = extract(normalize_text(_EVERY_KIND))
    for name in type(entities).model_fields:
        assert getattr(entities, name), name
