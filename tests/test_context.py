"""Context rules: each rule of icp_notify.context with dated operations and earlier notices."""

from __future__ import annotations

from typing import Any

import pytest

from icp_notify.context import DEFAULT_ORDER, ContextVerdict, prior_kind, weigh
from icp_notify.models import Context, Kind, Notice, PriorNotice, Situation

GENERIC = "尊敬的用户张**,您的备案信息已被变更,详情请咨询您的接入服务提供商。"
NOW = "2025-03-20T09:00:00+08:00"

S = Situation


def _notice(received_at: str | None = NOW, text: str = GENERIC) -> Notice:
    return Notice(raw_text=text, text=text, received_at=received_at)


def _op(kind: str, at: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "submitted_at": at, **more}


def _prior(text: str, at: str, sender: str | None = None) -> dict[str, Any]:
    return {"text": text, "received_at": at, "sender": sender}


def _weigh(ops: list[dict[str, Any]], prior: list[dict[str, Any]] | None = None) -> ContextVerdict:
    ctx = Context.model_validate({"operations": ops, "previous_notices": prior or []})
    return weigh(_notice(), ctx)


ACCESS_OK = "【某云】您的接入备案已审核通过,网站demo-move.cn已成功接入某云,备案号不变。"
CODE = "【工信部】验证码482913,由某云发起的张**的新增网站已提交,请于24小时内登录 https://beian.miit.gov.cn 完成核验。"
PROGRESS = "【某云】您的变更备案订单已初审通过并提交至通信管理局审核。"


def test_no_context_is_all_four_in_the_documented_order() -> None:
    v = weigh(_notice(), None)
    assert v.situation is None
    assert v.candidates == DEFAULT_ORDER
    assert v.rule == "unexplained"
    assert set(DEFAULT_ORDER) == {
        S.NEW_DOMAIN,
        S.MODIFY_DOMAIN,
        S.ACCESS_DOMAIN,
        S.ACCESS_CANCELLED,
    }


def test_explicit_text_is_not_weighed() -> None:
    v = weigh(_notice(text="您的新增网站备案已审核通过。"), Context())
    assert v.rule == "not_generic"
    assert not v.applies
    assert v.candidates == ()


def test_no_receive_time_cannot_place_operations() -> None:
    ctx = Context.model_validate({"operations": [_op("new_domain", "2025-03-10T10:00:00")]})
    v = weigh(_notice(received_at=None), ctx)
    assert v.situation is None
    assert v.rule == "no_received_at"
    assert v.candidates == DEFAULT_ORDER


# ----------------------------------------------------------------- rule 1: validity


@pytest.mark.parametrize(
    "at",
    [
        "2025-03-19T15:00:00+08:00",  # 18 hours before: too recent
        "2025-03-21T10:00:00+08:00",  # after the notice
    ],
)
def test_rule1_an_operation_too_recent_or_later_cannot_explain(at: str) -> None:
    v = _weigh([_op("new_domain", at)])
    assert v.situation is None
    assert v.rule == "unexplained"
    assert v.candidates == DEFAULT_ORDER


def test_rule1_just_over_a_day_is_valid() -> None:
    v = _weigh([_op("new_domain", "2025-03-19T08:00:00+08:00")])
    assert v.situation is S.NEW_DOMAIN
    assert v.evidence[0].id == "operations[0]"


def test_rule1_the_too_recent_op_is_ignored_and_the_older_one_decides() -> None:
    v = _weigh(
        [
            _op("modify_domain", "2025-03-16T10:00:00+08:00"),
            _op("new_domain", "2025-03-19T21:00:00+08:00"),
        ]
    )
    assert v.situation is S.MODIFY_DOMAIN
    assert [e.id for e in v.evidence if e.id != "chain"] == ["operations[0]"]


# ----------------------------------------------------------------- rule 3: one kind


@pytest.mark.parametrize("kind", ["new_domain", "modify_domain", "access_domain"])
def test_rule3_unused_ops_of_one_kind_decide(kind: str) -> None:
    v = _weigh([_op(kind, "2025-03-05T10:00:00+08:00"), _op(kind, "2025-03-15T10:00:00+08:00")])
    assert v.situation is Situation(kind)
    assert v.candidates == (Situation(kind),)
    assert v.rule == "recent_operations"
    assert {e.source for e in v.evidence} == {"context"}


def test_rule3_window_is_twenty_days() -> None:
    v = _weigh([_op("new_domain", "2025-02-25T10:00:00+08:00")])  # 23 days before
    assert v.situation is None
    assert v.rule == "narrowed"
    assert v.candidates[0] is S.NEW_DOMAIN


def test_rule3_two_kinds_stay_ambiguous_between_them() -> None:
    v = _weigh(
        [
            _op("new_domain", "2025-03-08T10:00:00+08:00"),
            _op("modify_domain", "2025-03-12T10:00:00+08:00"),
        ]
    )
    assert v.situation is None
    assert v.rule == "narrowed"
    assert v.candidates == (S.NEW_DOMAIN, S.MODIFY_DOMAIN)


# ----------------------------------------------------------------- rule 2: use-up


def test_rule2_an_earlier_ambiguous_notice_leaves_both_readings_open() -> None:
    # the 03-14 notice may have been either operation's approval: the next one stays ambiguous
    # (v1 guessed that the oldest was used up and decided modify_domain)
    v = _weigh(
        [
            _op("new_domain", "2025-03-05T10:00:00+08:00"),
            _op("modify_domain", "2025-03-12T10:00:00+08:00"),
        ],
        [_prior(GENERIC, "2025-03-14T09:00:00+08:00", "12381")],
    )
    assert v.situation is None
    assert v.rule == "narrowed"
    assert v.candidates == (S.MODIFY_DOMAIN, S.NEW_DOMAIN)


def test_rule2_all_ops_used_up_leaves_nothing_to_explain() -> None:
    v = _weigh(
        [_op("new_domain", "2025-03-05T10:00:00+08:00")],
        [_prior(GENERIC, "2025-03-08T09:00:00+08:00", "12381")],
    )
    assert v.situation is None
    assert v.rule == "unexplained"


@pytest.mark.parametrize("text", [CODE, PROGRESS])
def test_rule2_codes_and_progress_use_up_nothing(text: str) -> None:
    v = _weigh(
        [_op("new_domain", "2025-03-05T10:00:00+08:00")],
        [_prior(text, "2025-03-06T09:00:00+08:00")],
    )
    assert v.situation is S.NEW_DOMAIN


def test_rule2_prior_notices_after_the_notice_are_ignored() -> None:
    v = _weigh(
        [_op("new_domain", "2025-03-05T10:00:00+08:00")],
        [_prior(GENERIC, "2025-03-25T09:00:00+08:00", "12381")],
    )
    assert v.situation is S.NEW_DOMAIN


def test_prior_kind_uses_the_rules() -> None:
    assert (
        prior_kind(PriorNotice(text=CODE, received_at="2025-03-06T09:00:00"))
        is Kind.VERIFICATION_CODE
    )
    assert (
        prior_kind(PriorNotice(text=ACCESS_OK, received_at="2025-03-06T09:00:00"))
        is Kind.PROVIDER_ACCESS_DOMAIN
    )


# ----------------------------------------------------------------- rule 4: confirmed move


def test_rule4_a_confirmed_access_makes_the_next_generic_notice_a_cancellation() -> None:
    v = _weigh(
        [
            _op(
                "access_domain",
                "2025-03-05T10:00:00+08:00",
                domain="demo-move.cn",
                provider="某云",
                from_provider="旧云",
            )
        ],
        [_prior(ACCESS_OK, "2025-03-17T15:00:00+08:00", "106900001111")],
    )
    assert v.situation is S.ACCESS_CANCELLED
    assert v.rule == "confirmed_move"
    assert {e.id for e in v.evidence} == {"operations[0]", "previous_notices[0]", "chain"}


def test_rule4_without_the_confirmation_the_access_op_itself_decides() -> None:
    v = _weigh([_op("access_domain", "2025-03-05T10:00:00+08:00", from_provider="旧云")])
    assert v.situation is S.ACCESS_DOMAIN


def test_rule4_only_the_next_generic_notice_is_the_cancellation() -> None:
    # confirmed on 03-07, the cancellation came on 03-09; a new-domain op of 03-10 explains today's
    v = _weigh(
        [
            _op("access_domain", "2025-03-01T10:00:00+08:00", from_provider="旧云"),
            _op("new_domain", "2025-03-10T10:00:00+08:00"),
        ],
        [
            _prior(ACCESS_OK, "2025-03-07T15:00:00+08:00"),
            _prior(GENERIC, "2025-03-09T09:00:00+08:00", "12381"),
        ],
    )
    assert v.situation is S.NEW_DOMAIN


# ----------------------------------------------------------------- rule 5: late cancellation


def test_rule5_an_old_move_and_nothing_recent_is_a_late_cancellation() -> None:
    v = _weigh(
        [_op("access_domain", "2024-10-01T10:00:00+08:00", provider="新云", from_provider="旧云")]
    )
    assert v.situation is S.ACCESS_CANCELLED
    assert v.rule == "late_cancellation"
    assert v.evidence[0].id == "operations[0]"


def test_rule6_an_old_confirmed_access_is_cancelled_once() -> None:
    # the 11-12 notice was the old provider's cancellation; a move is cancelled only once
    ctx = Context.model_validate(
        {
            "operations": [
                _op("access_domain", "2024-11-01T10:00:00+08:00", domain="demo-move.cn")
            ],
            "previous_notices": [
                _prior(ACCESS_OK, "2024-11-10T10:00:00+08:00"),
                _prior(GENERIC, "2024-11-12T10:00:00+08:00", "12381"),
            ],
        }
    )
    first = weigh(_notice("2024-11-12T10:00:00+08:00"), ctx)
    assert (first.situation, first.rule) == (S.ACCESS_CANCELLED, "confirmed_move")
    v = weigh(_notice(), ctx)
    assert v.situation is None
    assert v.rule == "unexplained"


def test_rule6_an_old_confirmed_access_without_a_later_notice_is_a_move() -> None:
    v = _weigh(
        [_op("access_domain", "2024-11-01T10:00:00+08:00", domain="demo-move.cn")],
        [_prior(ACCESS_OK, "2024-11-10T10:00:00+08:00")],
    )
    assert v.situation is S.ACCESS_CANCELLED
    assert v.rule == "confirmed_move"


def test_rule5_does_not_apply_with_a_valid_op_in_the_last_sixty_days() -> None:
    v = _weigh(
        [
            _op("access_domain", "2024-10-01T10:00:00+08:00", from_provider="旧云"),
            _op("modify_domain", "2025-02-01T10:00:00+08:00"),  # 47 days before, unused
        ]
    )
    assert v.situation is None
    assert v.rule == "narrowed"
    assert v.candidates == (S.MODIFY_DOMAIN, S.ACCESS_CANCELLED)


def test_rule5_needs_a_move() -> None:
    v = _weigh([_op("new_domain", "2024-10-01T10:00:00+08:00")])
    assert v.situation is None
    assert v.candidates == DEFAULT_ORDER


def test_rule5_an_op_after_the_notice_does_not_count() -> None:
    v = _weigh(
        [
            _op("access_domain", "2024-11-21T10:00:00+08:00", from_provider="旧云"),
            _op("modify_domain", "2025-03-21T09:00:00+08:00"),
        ]
    )
    assert v.situation is S.ACCESS_CANCELLED


# ----------------------------------------------------------------- rule 6: narrowed


def test_family1_a_move_explained_by_a_generic_notice_is_completed() -> None:
    v = _weigh(
        [
            _op("access_domain", "2025-02-20T10:00:00+08:00", from_provider="旧云"),
            _op("access_domain", "2025-03-19T20:00:00+08:00"),  # too recent
        ],
        [_prior(GENERIC, "2025-03-01T10:00:00+08:00", "12381")],
    )
    # the move's access op was used up by the 03-01 notice: family 1, a completed move
    # (v1 left this ambiguous with access_cancelled first)
    assert v.situation is S.ACCESS_CANCELLED
    assert v.rule == "completed_move"
