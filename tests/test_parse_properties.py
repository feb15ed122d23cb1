"""Property tests: parse never raises anything but InputError; normalisation is idempotent;
a Notice survives a JSON round trip."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_notify.errors import InputError
from icp_notify.models import Notice
from icp_notify.normalize import normalize, normalize_text
from icp_notify.parse import parse

# Text that looks like notices: the alphabet of the domain plus anything at all.
_PIECES = [
    "【工信部】", "【阿里云】", "尊敬的用户", "张**", "，", "。", "备案", "備案", "京ICP备", "２０２４",
    "2024012345", "号-3", "京公网安备", "11010502000001", "example.cn", "https://", "beian.miit.gov.cn",
    "回T退订", "\n", "SIM1_中国移动_1", "SubId：1", "2025-06-24 09:41:07", "{", "}", '"content":',
    "> ", "在 2025年3月1日 写道：", "---------- Forwarded message ---------", "From: a@b.cn",
    "------------------ 原始邮件 ------------------", "<p>", "</p>", "\u200b", "\ufeff", "24小时内",
    "3月1日", "155****6357", "1.2.3.4", "::1", "验证码", "123456", "xn--fiqs8s", "例子.中国",
]  # fmt: skip
notice_like = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)), max_size=25).map(
    "".join
)
any_text = st.one_of(st.text(max_size=300), notice_like)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_parse_text_raises_only_input_error(text: str) -> None:
    try:
        notice = parse(text)
    except InputError as exc:
        code = exc.code
    else:
        assert isinstance(notice, Notice)
        assert notice.text == normalize_text(notice.text)
        return
    assert code in {"empty", "too_large", "undecodable", "not_a_message"}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), notice_like.map(lambda s: s.encode("gb18030"))))
def test_parse_bytes_raises_only_input_error(data: bytes) -> None:
    try:
        notice = parse(data)
    except InputError:
        return
    assert "\ufffd" not in notice.text or any(
        d.code in {"undecodable_bytes", "replacement_character"} for d in notice.defects
    )


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(notice_like)
def test_normalize_body_is_idempotent(text: str) -> None:
    """Normalising an already-normalised body returns it unchanged (wrappers, signature, tail)."""
    body = normalize(text).body
    assert normalize_text(body) == body
    assert normalize(body).body == body


@settings(max_examples=200, deadline=None)
@given(notice_like, st.sampled_from([None, "12381", "noreply@notice.aliyun.com"]))
def test_notice_json_round_trip(text: str, sender: str | None) -> None:
    try:
        notice = parse(text, sender=sender, received_at="2025-03-05T10:00:00")
    except InputError:
        return
    again = Notice.model_validate_json(notice.model_dump_json())
    assert again == notice
    assert again.model_dump_json() == notice.model_dump_json()
