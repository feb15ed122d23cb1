"""Issue 10: the three families, the timeline, regulator-style explicit texts, bad input, simulator."""

from __future__ import annotations

from typing import Any

import pytest

import icp_notify
from icp_notify.context import (
    MAX_OPERATIONS,
    Timeline,
    check_context,
    explain_timeline,
    weigh,
)
from icp_notify.errors import InputError
from icp_notify.models import Context, Notice, Operation, PriorNotice, Situation
from icp_notify.simulate import simulate

S = Situation
GENERIC = "【工信部】尊敬的用户孙**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
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
    return Notice(raw_text=GENERIC, text=GENERIC, received_at=at)


# ----------------------------------------------------------------- family 1


def test_family1_a_move_used_up_by_a_generic_notice_is_completed() -> None:
    ctx = _ctx([MOVE], [(GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-06-02T09:00:00+08:00"), ctx)  # three months later
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "completed_move")
    assert v.chain is not None
    assert v.chain.related == ("previous_notices[0]",)


def test_family1_the_success_notice_after_the_generic_does_not_forget_the_move() -> None:
    ctx = _ctx(
        [MOVE],
        [(GENERIC, "2025-03-09T11:00:00+08:00"), (LANJING_OK, "2025-03-09T18:00:00+08:00")],
    )
    v = weigh(_generic("2025-04-20T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "completed_move")


def test_family1_the_provider_notice_first_then_miits_notice_of_the_same_approval() -> None:
    ctx = _ctx([MOVE], [(LANJING_OK, "2025-03-09T08:00:00+08:00")])
    same = weigh(_generic("2025-03-09T13:00:00+08:00"), ctx)
    assert (same.situation, same.rule) == (S.ACCESS_DOMAIN, "same_approval")
    later = weigh(_generic("2025-05-09T13:00:00+08:00"), ctx)
    assert (later.situation, later.rule) == (S.ACCESS_CANCELLED, "confirmed_move")


# ----------------------------------------------------------------- family 2


def test_family2_an_old_access_operation_is_a_settled_move() -> None:
    v = weigh(_generic("2025-06-15T09:00:00+08:00"), _ctx([MOVE]))  # 106 days later
    assert (v.situation, v.rule) == (S.ACCESS_CANCELLED, "late_cancellation")


def test_family2_an_added_provider_is_not_followed_by_a_cancellation() -> None:
    added = {**MOVE, "keeps_previous_provider": True}
    v = weigh(_generic("2025-06-15T09:00:00+08:00"), _ctx([added]))
    assert v.situation is None
    assert v.rule == "unexplained"
    assert Operation.model_validate(added).keeps_previous_provider is True


# ----------------------------------------------------------------- family 3


def test_family3_a_pending_operation_cannot_decide_while_a_cancellation_is_due() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-04-10T10:00:00+08:00"}
    ctx = _ctx([MOVE, modify], [(GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-04-18T09:00:00+08:00"), ctx)
    assert v.situation is None
    assert v.rule == "cancellation_due"
    assert v.candidates == (S.MODIFY_DOMAIN, S.ACCESS_CANCELLED)


def test_family3_once_the_cancellation_was_read_the_pending_kind_decides() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-05-10T10:00:00+08:00"}
    ctx = _ctx(
        [MOVE, modify],
        [(GENERIC, "2025-03-09T11:00:00+08:00"), (GENERIC, "2025-04-02T11:00:00+08:00")],
    )
    v = weigh(_generic("2025-05-18T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.MODIFY_DOMAIN, "recent_operations")


def test_family3_is_over_after_120_days() -> None:
    modify = {"kind": "modify_domain", "submitted_at": "2025-08-10T10:00:00+08:00"}
    ctx = _ctx([MOVE, modify], [(GENERIC, "2025-03-09T11:00:00+08:00")])
    v = weigh(_generic("2025-08-18T09:00:00+08:00"), ctx)
    assert (v.situation, v.rule) == (S.MODIFY_DOMAIN, "recent_operations")


# ----------------------------------------------------------------- explicit text


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
    plain = icp_notify.classify(GENERIC, received_at="2025-04-05T09:00:00")
    assert plain.ambiguous
    assert plain.kind.value == "change_notice_generic"


# ----------------------------------------------------------------- the timeline


def test_timeline_attributes_each_notice_with_what_came_before_it() -> None:
    ctx = _ctx([MOVE, {"kind": "new_domain", "submitted_at": "2025-05-02T10:00:00+08:00"}])
    notices = [
        PriorNotice(text=GENERIC, received_at="2025-03-09T11:00:00+08:00"),
        PriorNotice(text=LANJING_OK, received_at="2025-03-09T15:00:00+08:00", sender="1069"),
        PriorNotice(text=GENERIC, received_at="2025-04-20T11:00:00+08:00"),
        PriorNotice(text=GENERIC, received_at="2025-05-12T11:00:00+08:00"),
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
        GENERIC,
        received_at="2025-06-02T09:00:00",
        context={
            "operations": [MOVE],
            "previous_notices": [{"text": GENERIC, "received_at": "2025-03-09T11:00:00"}],
        },
        lang="en",
    )
    assert report.classification.situation is S.ACCESS_CANCELLED
    assert report.advice.why.startswith(
        "The access filing submitted on 1 Mar 2025 at 蓝鲸IDC took effect with the notice of"
        " 9 Mar 2025; this notice is most likely the old provider cancelling its access."
    )


# ----------------------------------------------------------------- bad input


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
            GENERIC, context={"operations": [{"kind": "move_house", "submitted_at": "2025-03-01"}]}
        )
    assert err.value.where == "context.operations.0.kind"


def test_ten_thousand_operations_are_refused_with_the_documented_limit() -> None:
    ops = tuple(
        Operation(kind="modify_domain", submitted_at="2025-01-01T00:00:00+08:00", domain=f"d{i}.cn")
        for i in range(10_000)
    )
    with pytest.raises(InputError) as err:
        icp_notify.classify(
            GENERIC, received_at="2025-06-01T09:00:00", context=Context(operations=ops)
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


# ----------------------------------------------------------------- the simulator


def test_a_small_fixed_simulation_meets_the_targets() -> None:
    result = simulate(histories=150, seed=1)
    full, _, low = result.rows
    assert full.p == 1.0
    assert low.p == 0.7
    assert full.wrong == 0
    assert full.decided_share >= 0.90
    assert low.wrong_share <= 0.01
    assert low.truth_in_ambiguous_share >= 0.99
    assert simulate(histories=150, seed=1) == result  # fixed seeds: the same every run


def test_the_context_doc_examples_run() -> None:
    import doctest
    from pathlib import Path

    doc = Path(__file__).parents[1] / "docs" / "context.md"
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
                "previous_notices": [{"text": GENERIC, "received_at": "2025-03-09T11:00:00"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    args = ["classify", GENERIC, "--received-at", "2025-06-02T09:00:00", "--context", str(ctx)]
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


def test_simulation_is_the_same_with_two_workers() -> None:
    from icp_notify.simulate import simulate

    one = simulate(24, seed=3, ps=(1.0, 0.7))
    two = simulate(24, seed=3, ps=(1.0, 0.7), workers=2)
    assert one == two
    assert one.rows[0].generic > 24  # every history has generic notices to score


def test_the_simulator_memo_gives_the_answers_of_classify() -> None:
    """The simulator keeps each notice's text evidence and reuses an answer whose context is
    the same at two p's; scored without any of that, through classify(), nothing changes."""
    from icp_notify.simulate import _chunk_counts

    ps = (1.0, 0.9, 0.7)
    assert _chunk_counts(5, 0, 40, ps, memo=True) == _chunk_counts(5, 0, 40, ps, memo=False)
