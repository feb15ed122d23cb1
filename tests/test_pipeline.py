"""Pipeline: parse → classify → advise; Pipeline.default() shared; the analyze and demo commands."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _advice_fakes import FakeClassifier

import icp_notify
from icp_notify import cli
from icp_notify.advisor import Advisor
from icp_notify.errors import InputError
from icp_notify.examples import DEMO_NOW, load_examples, run_examples
from icp_notify.models import (
    Action,
    Context,
    Kind,
    RawMessage,
    Report,
    Situation,
    Urgency,
)
from icp_notify.pipeline import Pipeline, analyze

GENERIC = "【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
CONTEXT = {
    "operations": [
        {
            "kind": "new_domain",
            "submitted_at": "2025-02-24T10:00:00+08:00",
            "domain": "notes.example.cn",
        }
    ]
}


@pytest.fixture
def fake() -> Pipeline:
    return Pipeline(FakeClassifier(), Advisor.default())


def test_analyze_builds_a_report(fake: Pipeline) -> None:
    r = fake.analyze(GENERIC, sender="12381", received_at="2025-03-04T08:05:00+08:00", lang="en")
    assert isinstance(r, Report)
    assert r.version == icp_notify.__version__
    assert r.notice.sender == "12381"
    assert r.classification.ambiguous
    assert r.advice.action is Action.CHECK_CANDIDATES
    assert r.advice.urgency is Urgency.CRITICAL
    assert r.advice.lang == "en"


def test_context_as_dict_reaches_the_classifier(fake: Pipeline) -> None:
    r = fake.analyze(
        GENERIC,
        received_at="2025-03-04T19:10:00+08:00",
        context=CONTEXT,
        now="2025-03-04T22:30:00+08:00",
    )
    calls = fake.classifier.calls  # type: ignore[attr-defined]
    assert isinstance(calls[-1][1], Context)
    assert r.classification.situation is Situation.NEW_DOMAIN
    assert r.advice.reachable_after is not None
    assert r.advice.reachable_after.isoformat() == "2025-03-05T02:10:00+08:00"
    assert r.advice.wait is not None
    assert int(r.advice.wait.total_seconds()) == 3 * 3600 + 40 * 60


def test_context_of_a_raw_message_is_used(fake: Pipeline) -> None:
    raw = RawMessage(
        text=GENERIC,
        received_at="2025-03-04T19:10:00+08:00",
        context=Context.model_validate(CONTEXT),
    )
    assert fake.analyze(raw).classification.situation is Situation.NEW_DOMAIN


def test_bad_context_is_an_input_error(fake: Pipeline) -> None:
    with pytest.raises(InputError) as exc:
        fake.analyze(
            GENERIC, context={"operations": [{"kind": "teleport", "submitted_at": "2025-01-01"}]}
        )
    assert exc.value.where == "context.operations.0.kind"
    with pytest.raises(InputError):
        fake.analyze(GENERIC, context=["not", "a", "dict"])  # type: ignore[arg-type]


def test_empty_input_is_an_input_error(fake: Pipeline) -> None:
    with pytest.raises(InputError):
        fake.analyze("   ")


def test_analyze_notice_skips_parsing(fake: Pipeline) -> None:
    from icp_notify.parse import parse

    notice = parse(
        "【腾讯云】备案核查通知：请于2025年3月5日前登录备案控制台更新信息，逾期将取消接入。",
        received_at="2025-03-02T11:00:00+08:00",
    )
    r = fake.analyze_notice(notice, now="2025-03-04T22:30:00+08:00", lang="zh")
    assert r.notice is notice
    assert r.classification.kind is Kind.CHECK_REQUEST
    assert r.advice.deadline is not None
    assert r.advice.deadline.isoformat() == "2025-03-05T23:59:59+08:00"


def test_default_is_built_once_and_shared_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import icp_notify.classifier as classifier_module

    built: list[object] = []

    def slow_default(cls: Any = None) -> FakeClassifier:
        time.sleep(0.05)  # widen the window in which a second thread could build another one
        built.append(object())
        return FakeClassifier()

    monkeypatch.setattr(classifier_module.Classifier, "default", staticmethod(slow_default))
    monkeypatch.setattr(Pipeline, "_default", None)
    seen: list[Pipeline] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        seen.append(Pipeline.default())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert len(seen) == 8
    assert all(p is seen[0] for p in seen)
    assert Pipeline.default() is seen[0]


def test_module_level_analyze_uses_the_default(
    monkeypatch: pytest.MonkeyPatch, fake: Pipeline
) -> None:
    monkeypatch.setattr(Pipeline, "_default", fake)
    r = analyze(GENERIC, lang="en")
    assert r.advice.lang == "en"
    assert icp_notify.analyze is analyze


# --------------------------------------------------------------------------- the real pipeline


def test_real_pipeline_generic_notice_is_ambiguous_and_critical() -> None:
    r = icp_notify.analyze(
        GENERIC, sender="12381", received_at="2025-03-04T08:05:00+08:00", lang="en"
    )
    assert r.classification.ambiguous
    assert r.advice.action is Action.CHECK_CANDIDATES
    assert r.advice.urgency is Urgency.CRITICAL
    assert r.advice.steps[0].startswith("If you filed nothing recently")


def test_every_example_is_classified_as_labelled() -> None:
    wrong = [
        (ex.id, r.classification.situation, r.classification.kind)
        for ex, r in run_examples(lang="en")
        if not (
            r.classification.ambiguous
            if ex.expect.ambiguous
            else (r.classification.situation, r.classification.kind)
            == (ex.expect.situation, ex.expect.kind)
        )
    ]
    assert wrong == []


def test_examples_cover_every_situation_and_kind() -> None:
    examples = load_examples()
    assert {ex.expect.kind for ex in examples} == set(Kind)
    assert {ex.expect.situation for ex in examples if ex.expect.situation} == set(Situation)
    assert any(ex.expect.ambiguous for ex in examples)
    assert sum(ex.context is not None for ex in examples) >= 4
    assert len({ex.id for ex in examples}) == len(examples)


# --------------------------------------------------------------------------- CLI


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_equals_report_dump(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps(CONTEXT), encoding="utf-8")
    args = [
        "--received-at",
        "2025-03-04T11:10:00Z",
        "--now",
        "2025-03-04T14:30:00Z",
        "--lang",
        "en",
    ]
    code, out, _ = run_cli(["analyze", GENERIC, *args, "--context", str(ctx), "--json"], capsys)
    assert code == 0
    expected = Pipeline.default().analyze(
        GENERIC,
        received_at="2025-03-04T11:10:00Z",
        now="2025-03-04T14:30:00Z",
        lang="en",
        context=CONTEXT,
    )
    assert out.strip() == expected.model_dump_json()
    report = Report.model_validate_json(out)
    assert report.advice.reachable_after is not None
    assert report.advice.reachable_after.isoformat() == "2025-03-05T02:10:00+08:00"


def test_analyze_card_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        [
            "analyze",
            "【阿里云】尊敬的用户，您的网站 shop.example.cn（浙ICP备2020012345号-1）已在阿里云完成取消接入。",
            "--lang",
            "en",
        ],
        capsys,
    )
    assert code == 0
    for label in (
        "situation",
        "confidence",
        "urgency",
        "what to do",
        "why",
        "references",
        "decided by",
    ):
        assert f" {label}" in out
    assert "access_cancelled" in out
    assert "CRITICAL" in out
    assert "https://beian.aliyun.com/" in out
    assert "\n             1. " in out


def test_analyze_card_shows_times_in_shanghai(capsys: pytest.CaptureFixture[str]) -> None:
    text = "【腾讯云】尊敬的用户，您的备案订单中新增网站 docs.example.cn 已通过管局审核，备案号：粤ICP备2023107755号-4。"
    code, out, _ = run_cli(
        [
            "analyze",
            text,
            "--received-at",
            "2025-03-04T13:40:00+00:00",
            "--now",
            "2025-03-04T16:00:00+00:00",
        ],
        capsys,
    )
    assert code == 0
    assert "预计可访问 2025-03-05 04:40 Asia/Shanghai (还剩 4 小时 40 分)" in out


def test_analyze_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(GENERIC.encode("gb18030"))))
    code, out, _ = run_cli(["analyze", "-", "--json"], capsys)
    assert code == 0
    assert Report.model_validate_json(out).classification.ambiguous


def test_analyze_bad_input_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run_cli(["analyze", GENERIC, "--now", "yesterday"], capsys)
    assert code == 1
    assert "--now" in err
    assert "Traceback" not in err
    bad = tmp_path / "ctx.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run_cli(["analyze", GENERIC, "--context", str(bad)], capsys)
    assert code == 1
    assert f"{bad}: the context file is not JSON" in err
    assert "(code: invalid_json)" in err
    bad.write_text('{"operations": [{"kind": "cancel"}]}', encoding="utf-8")
    code, _, err = run_cli(["classify", GENERIC, "--context", str(bad)], capsys)
    assert code == 1
    assert "context.operations.0.kind: invalid context:" in err


def test_demo_prints_every_card_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["demo", "--lang", "en"], capsys)
    assert code == 0
    n = len(load_examples())
    assert out.count("━━━ [") == n
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"{n} notices: ")
    assert f"{n}/{n} classified as labelled" in last
    assert DEMO_NOW.strftime("%Y-%m-%d %H:%M") in out.splitlines()[0]


def test_demo_json_is_one_report_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["demo", "--json"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(load_examples())
    reports = [Report.model_validate_json(line) for line in lines]
    assert {r.advice.lang for r in reports} == {"zh"}


def test_demo_output_is_stable(capsys: pytest.CaptureFixture[str]) -> None:
    _, a, _ = run_cli(["demo"], capsys)
    _, b, _ = run_cli(["demo"], capsys)
    assert a == b
    assert "示例标注" in a
