"""The context engine (icp_notify.context): each rule with dated operations and earlier notices,
the replay's three families, the timeline and bad context."""

from __future__ import annotations

from typing import Any

import pytest
from _helpers import ROOT

import icp_notify
from icp_notify.context import (
    DEFAULT_ORDER,
    MAX_OPERATIONS,
    ContextVerdict,
    Timeline,
    check_context,
    explain_timeline,
    prior_kind,
    weigh,
)
from icp_notify.errors import InputError
from icp_notify.models import Context, Kind, Notice, Operation, PriorNotice, Situation

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


# --------------------------------------------------------------------------- the replay
# The three families (completed move, late cancellation, cancellation due), regulator-style
# explicit texts, the timeline, bad input, the docs' examples and the command line.


MIIT_GENERIC = "【工信部】尊敬的用户孙**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"

LANJING_OK = "【蓝鲸IDC】您的网站 chayuan-demo.cn 接入备案已通过管局审核，已成功接入蓝鲸IDC。"

MOVE = {
    "kind": "access_domain",
    "submitted_at": "2025-03-01T10:00:00+08:00",
    "domain": "chayuan-demo.cn",
    "provider": "蓝鲸IDC",
}


def _ctx(ops: list[dict[str, Any]], prior: list[tuple[str, str]] | None = None) -> Context:
    return Context.model_validate(
        {
            "operations": ops,
            "previous_notices": [
                {"text": t, "received_at": at, "sender": "12381"} for t, at in prior or []
            ],
        }
    )


def _generic(at: str) -> Notice:
    return Notice(raw_text=MIIT_GENERIC, text=MIIT_GENERIC, received_at=at)


def test_family1_a_move_used_up_by_a_generic_notice_is_completed() -> None:
    ctx = _ctx([MOVE], [(MIIT_GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-06-02T09:00:00+08:00"), ctx)  # three months later
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "completed_move")
    assert v.chain is not None
    assert v.chain.related == ("previous_notices[0]",)


def test_family1_the_success_notice_after_the_generic_does_not_forget_the_move() -> None:
    ctx = _ctx(
        [MOVE],
        [(MIIT_GENERIC, "2025-03-09T11:00:00+08:00"), (LANJING_OK, "2025-03-09T18:00:00+08:00")],
    )
    v = weigh(_generic("2025-04-20T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "completed_move")


def test_family1_the_provider_notice_first_then_miits_notice_of_the_same_approval() -> None:
    ctx = _ctx([MOVE], [(LANJING_OK, "2025-03-09T08:00:00+08:00")])
    same = weigh(_generic("2025-03-09T13:00:00+08:00"), ctx)
    assert (same.situation, same.rule) == (S.ACCESS_DOMAIN, "same_approval")
    later = weigh(_generic("2025-05-09T13:00:00+08:00"), ctx)
    assert (later.situation, later.rule) == (S.ACCESS_CANCELLED, "confirmed_move")


def test_family2_an_old_access_operation_is_a_settled_move() -> None:
    v = weigh(_generic("2025-06-15T09:00:00+08:00"), _ctx([MOVE]))  # 106 days later
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "late_cancellation")


def test_family2_an_added_provider_is_not_followed_by_a_cancellation() -> None:
    added = {**MOVE, "keeps_previous_provider": True}
    v = weigh(_generic("2025-06-15T09:00:00+08:00"), _ctx([added]))
    assert v.situation is None
    assert v.rule == "unexplained"
    assert Operation.model_validate(added).keeps_previous_provider is True


def test_family3_a_pending_operation_cannot_decide_while_a_cancellation_is_due() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-04-10T10:00:00+08:00"}
    ctx = _ctx([MOVE, modify], [(MIIT_GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-04-18T09:00:00+08:00"), ctx)
    assert v.situation is None
    assert v.rule == "cancellation_due"
    assert v.candidates == (S.MODIFY_DOMAIN, S.ACCESS_CANCELLED)


def test_family3_once_the_cancellation_was_read_the_pending_kind_decides() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-05-10T10:00:00+08:00"}
    ctx = _ctx(
        [MOVE, modify],
        [(MIIT_GENERIC, "2025-03-09T11:00:00+08:00"), (MIIT_GENERIC, "2025-04-02T11:00:00+08:00")],
    )
    v = weigh(_generic("2025-05-18T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.MODIFY_DOMAIN, "recent_operations")


def test_family3_is_over_after_120_days() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-08-10T10:00:00+08:00"}
    ctx = _ctx([MOVE, modify], [(MIIT_GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-08-18T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.MODIFY_DOMAIN, "recent_operations")


def test_a_regulator_style_explicit_text_is_read_by_what_it_says() -> None:
    text = (
        "【工信部】尊敬的用户孙**，您的网站备案（苏ICP备2031008877号）已新增接入服务商“蓝鲸IDC”，"
        "详情请咨询您的接入服务提供商。"
    )
    pending = {"modify_domain": {"kind": "modify_domain", "submitted_at": "2025-04-01T10:00:00"}}
    c = icp_notify.classify(
        text,
        received_at="2025-04-05T09:00:00",
        context={"operations": list(pending.values())},
    )
    assert c.situation is S.ACCESS_DOMAIN
    assert c.kind.value == "provider_access_domain"
    plain = icp_notify.classify(MIIT_GENERIC, received_at="2025-04-05T09:00:00")
    assert plain.ambiguous
    assert plain.kind.value == "change_notice_generic"


def test_timeline_attributes_each_notice_with_what_came_before_it() -> None:
    ctx = _ctx([MOVE, {"kind": "new_domain", "submitted_at": "2025-05-02T10:00:00+08:00"}])
    notices = [
        PriorNotice(text=MIIT_GENERIC, received_at="2025-03-09T11:00:00+08:00"),
        PriorNotice(text=LANJING_OK, received_at="2025-03-09T15:00:00+08:00", sender="1069"),
        PriorNotice(text=MIIT_GENERIC, received_at="2025-04-20T11:00:00+08:00"),
        PriorNotice(text=MIIT_GENERIC, received_at="2025-05-12T11:00:00+08:00"),
    ]
    tl = explain_timeline(ctx, notices)
    assert isinstance(tl, Timeline)
    got = [(n.id, n.situation, n.rule, n.cause, n.operation) for n in tl.notices]
    assert got == [
        ("notices[0]", S.ACCESS_DOMAIN, "recent_operations", "operation", "operations[0]"),
        ("notices[1]", S.ACCESS_DOMAIN, "text", "text", "operations[0]"),
        ("notices[2]", S.ACCESS_CANCELLED, "completed_move", "cancellation", "operations[0]"),
        ("notices[3]", S.NEW_DOMAIN, "recent_operations", "operation", "operations[1]"),
    ]
    move, new = tl.operations
    assert (move.move, move.explained, move.confirmed_by, move.cancelled_by) == (
        True,
        "notices[0]",
        None,
        "notices[2]",
    )
    assert new.explained == "notices[3]"
    # weigh() is the same replay for one notice
    last = weigh(
        _generic("2025-05-12T11:00:00+08:00"),
        Context(operations=ctx.operations, previous_notices=tuple(notices[:3])),
    )
    assert (last.situation, last.rule) == (S.NEW_DOMAIN, "recent_operations")
    assert tl.model_dump(mode="json")["time_zone"] == "Asia/Shanghai"


def test_the_advice_names_the_chain_in_both_languages() -> None:
    report = icp_notify.analyze(
        MIIT_GENERIC,
        received_at="2025-06-02T09:00:00",
        context={
            "operations": [MOVE],
            "previous_notices": [{"text": MIIT_GENERIC, "received_at": "2025-03-09T11:00:00"}],
        },
        lang="en",
    )
    assert report.classification.situation is S.ACCESS_CANCELLED
    assert report.advice.why.startswith(
        "The access filing submitted on 1 Mar 2025 at 蓝鲸IDC took effect with the notice of"
        " 9 Mar 2025; this notice is most likely the old provider cancelling its access."
    )


def test_operations_in_any_order_are_replayed_in_time_order() -> None:
    later = {"kind": "new_domain", "submitted_at": "2025-05-01T10:00:00", "domain": "x.cn"}
    v = weigh(_generic("2025-05-08T09:00:00"), _ctx([later, MOVE]))
    assert (v.situation, v.rule) == (S.NEW_DOMAIN, "recent_operations")
    assert v.chain is not None
    assert v.chain.operation == "operations[0]"
    tl = explain_timeline(_ctx([later, MOVE]))
    assert [o.id for o in tl.operations] == ["operations[0]", "operations[1]"]


def test_duplicate_operations_are_refused() -> None:
    with pytest.raises(InputError) as err:
        check_context(_ctx([MOVE, MOVE]))
    assert err.value.code == "duplicate"
    assert "operations[0]" in err.value.message


def test_an_unknown_kind_is_an_input_error_naming_the_field() -> None:
    with pytest.raises(InputError) as err:
        icp_notify.classify(
            MIIT_GENERIC,
            context={"operations": [{"kind": "move_house", "submitted_at": "2025-03-01"}]},
        )
    assert err.value.where == "context.operations.0.kind"


def test_ten_thousand_operations_are_refused_with_the_documented_limit() -> None:
    ops = tuple(
        Operation(kind="modify_domain", submitted_at="2025-01-01T00:00:00+08:00", domain=f"d{i}.cn")
        for i in range(10_000)
    )
    with pytest.raises(InputError) as err:
        icp_notify.classify(
            MIIT_GENERIC, received_at="2025-06-01T09:00:00", context=Context(operations=ops)
        )
    assert err.value.code == "too_many"
    assert str(MAX_OPERATIONS) in err.value.message


def test_the_limit_itself_is_handled() -> None:
    ops = tuple(
        Operation(kind="new_domain", submitted_at="2024-01-01T00:00:00+08:00", domain=f"d{i}.cn")
        for i in range(MAX_OPERATIONS)
    )
    v = weigh(_generic("2025-06-01T09:00:00"), Context(operations=ops))
    assert v.situation is None


def test_a_time_without_zone_is_read_as_shanghai() -> None:
    op = Operation(kind="new_domain", submitted_at="2025-03-01T10:00:00")
    assert op.submitted_at.isoformat() == "2025-03-01T10:00:00+08:00"
    assert explain_timeline(Context(operations=(op,))).time_zone == "Asia/Shanghai"


def test_the_context_doc_examples_run() -> None:
    import doctest

    doc = ROOT / "docs" / "context.md"
    result = doctest.testfile(
        str(doc), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 3
    assert result.failed == 0


def test_the_cli_prints_the_chain_and_the_simulation_table(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from icp_notify.cli import main

    ctx = tmp_path / "ctx.json"
    ctx.write_text(
        json.dumps(
            {
                "operations": [MOVE],
                "previous_notices": [{"text": MIIT_GENERIC, "received_at": "2025-03-09T11:00:00"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    args = ["classify", MIIT_GENERIC, "--received-at", "2025-06-02T09:00:00", "--context", str(ctx)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "chain (zh):  2025年3月1日提交的蓝鲸IDC接入备案已于2025年3月9日的通知生效" in out
    assert "chain (en):  The access filing submitted on 1 Mar 2025" in out

    assert main(["simulate", "--histories", "12", "--seed", "3", "--p", "1.0"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| p | histories | generic notices | decided right")
    assert table[2].startswith("| 1.0 | 12 |")
    with pytest.raises(SystemExit):
        main(["simulate", "--histories", "0"])  # a usage error, not a traceback
