"""Calibrated, selective answers (icp_notify.calibration) and the shipped table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import icp_notify
from icp_notify import calibration as cal
from icp_notify.classifier import Classifier
from icp_notify.errors import ModelArtifactError
from icp_notify.models import Classification, Situation
from icp_notify.parse import parse

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def decided(
    situation: str, confidence: float, deciders: list[str], **probs: float
) -> Classification:
    kinds = {
        "access_domain": "provider_access_domain",
        "new_domain": "provider_new_domain",
        "other": "marketing",
    }
    return Classification(
        situation=situation,
        ambiguous=False,
        candidates=[situation],
        confidence=confidence,
        probabilities=probs or {situation: 1.0},
        kind=kinds[situation],
        decided_by=deciders,
    )


TABLE = cal.CalibrationTable(
    model_version="m",
    threshold=0.6,
    routes={"rules+model": ((0.5, 0.8), (0.96, 0.99)), "model": ((0.3, 0.2), (0.9, 0.7))},
    fallback=((0.0, 0.3), (1.0, 0.6)),
)


def test_table_refuses_bad_points() -> None:
    with pytest.raises(ValidationError, match="must increase"):
        cal.CalibrationTable(
            model_version="m", routes={"r": ((0.9, 0.5), (0.1, 0.6))}, fallback=((0.0, 0.5),)
        )
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        cal.CalibrationTable(model_version="m", routes={}, fallback=((0.0, 1.5),))
    with pytest.raises(ValidationError, match="no points"):
        cal.CalibrationTable(model_version="m", routes={"r": ()}, fallback=((0.0, 0.5),))


def test_value_interpolates_and_clips_per_route() -> None:
    assert TABLE.value("rules+model", 0.96) == 0.99
    assert TABLE.value("rules+model", 0.73) == pytest.approx(0.895, abs=1e-4)
    assert TABLE.value("rules+model", 0.1) == 0.8  # clipped below the first point
    assert TABLE.value("model", 0.99) == 0.7  # clipped above the last point
    assert TABLE.value("rules!", 0.5) == 0.45  # unknown route → fallback


def test_route_names_deciders_and_cautions() -> None:
    c = decided("access_domain", 0.96, ["rules", "model"])
    assert cal.route_of(c) == "model+rules"
    notice = parse("【示例云】您的接入备案已通过，请添加备案专员微信 demo_beian 领取备案证书。")
    raw = Classifier(model=None).classify_notice(notice)
    assert raw.situation is Situation.OTHER  # the fee/contact phishing rule outweighs the approval
    assert cal.route_of(raw).endswith("!")


def test_apply_above_threshold_recalibrates_and_keeps_probabilities_a_distribution() -> None:
    c = decided(
        "access_domain", 0.96, ["model", "rules"], access_domain=0.96, other=0.03, new_domain=0.01
    )
    out = cal.apply(
        c, TABLE.model_copy(update={"routes": {"model+rules": TABLE.routes["rules+model"]}})
    )
    assert out.situation is Situation.ACCESS_DOMAIN
    assert not out.ambiguous
    assert out.confidence == 0.99
    assert out.probabilities[Situation.ACCESS_DOMAIN] == 0.99
    assert sum(out.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert out.probabilities[Situation.OTHER] > out.probabilities[Situation.NEW_DOMAIN]


def test_apply_below_threshold_answers_ambiguous_with_other_as_a_candidate() -> None:
    c = decided("access_domain", 0.5, ["model"], access_domain=0.5, other=0.45, new_domain=0.05)
    out = cal.apply(c, TABLE)
    assert out.ambiguous
    assert out.situation is None
    assert out.candidates[:2] == (Situation.ACCESS_DOMAIN, Situation.OTHER)
    assert out.confidence == TABLE.value("model", 0.5) < TABLE.threshold
    assert out.kind.value == "provider_access_domain"


def test_apply_leaves_generic_context_and_ambiguous_answers_alone() -> None:
    generic = Classifier(model=None).classify_notice(parse(GENERIC))
    assert generic.ambiguous
    assert cal.apply(generic, TABLE) is generic
    ctx = icp_notify.classify(
        GENERIC,
        received_at="2025-03-10T09:00:00+08:00",
        context={
            "operations": [{"kind": "modify_domain", "submitted_at": "2025-03-04T10:00:00+08:00"}]
        },
    )
    assert ctx.situation is Situation.MODIFY_DOMAIN
    assert cal.apply(ctx, TABLE) is ctx
    assert cal.apply(decided("other", 0.9, ["model"]), None).confidence == 0.9


def test_fit_table_is_monotone_shrunk_and_pools_small_routes() -> None:
    samples = [("rules+model", 0.96, True)] * 95 + [("rules+model", 0.96, False)] * 5
    samples += [("model", 0.5 + i / 200, i % 3 != 0) for i in range(60)]
    samples += [("rules!", 0.96, False)] * 3  # too few for a map of its own
    table = cal.fit_table(samples, model_version="m", min_route=40)
    assert set(table.routes) == {"rules+model", "model"}
    ys = [y for _, y in table.routes["model"]]
    assert ys == sorted(ys)
    assert table.value("rules+model", 0.96) == pytest.approx(96 / 102, abs=1e-3)  # (95+1)/(100+2)
    assert table.measured["routes"]["rules!"] == {"n": 3, "accuracy": 0.0, "own_map": False}
    with pytest.raises(ValueError, match="no samples"):
        cal.fit_table([], model_version="m")


def test_default_table_refuses_another_model_and_bad_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calibration.json"
    monkeypatch.setattr(cal, "default_path", lambda: path)
    assert cal.default_table("m") is None  # no table: raw confidences
    path.write_text(json.dumps(TABLE.model_dump(mode="json")), encoding="utf-8")
    assert cal.default_table("m") == TABLE
    with pytest.raises(ModelArtifactError, match="fitted for model m, not other"):
        cal.default_table("other")
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"model_version": "m", "routes": {}, "fallback": [[0.5, 2.0]]}', encoding="utf-8"
    )
    monkeypatch.setattr(cal, "default_path", lambda: bad)
    with pytest.raises(ModelArtifactError, match="invalid calibration table"):
        cal.default_table("m")


def test_shipped_table_fits_the_shipped_model_and_is_used_by_default() -> None:
    from icp_notify.textmodel import default_model

    assert cal.default_path().exists(), "run `icp-notify calibrate` after training"
    model = default_model()
    table = cal.default_table(model.version)
    assert table is not None
    assert table.model_version == model.version
    from icp_notify.combiner import default_combiner

    text = "【示例云】您的网站 qingmu-demo.cn 接入备案已通过管局审核，已成功接入示例云。"
    raw = Classifier(model=model, combiner=default_combiner(model.version)).classify_notice(
        parse(text)
    )
    shipped = icp_notify.classify(text)
    assert shipped.confidence == table.value(cal.route_of(raw), raw.confidence)


def test_an_unsure_explicit_answer_is_advised_as_a_check_not_as_the_generic_notice() -> None:
    from icp_notify.advisor import advise

    c = decided("new_domain", 0.7, ["model"], new_domain=0.7, other=0.3)
    out = cal.apply(c, TABLE)
    assert [s.value for s in out.candidates] == ["new_domain", "other"]
    notice = parse("【示例云】恭喜，新网站那个事基本妥了 demo-site.cn")
    en = advise(out, notice, lang="en")
    assert en.action.value == "check_candidates"
    assert en.summary.startswith("This notice's wording does not let the tool be sure")
    assert "MIIT's notice does not say" not in en.summary
    assert any("new-site" in s or "new site" in s for s in en.steps)  # the candidates' own lines
    generic = advise(
        Classifier(model=None).classify_notice(parse(GENERIC)), parse(GENERIC), lang="en"
    )
    assert generic.summary.startswith("MIIT's notice does not say which change it is")


def test_calibration_keeps_the_policy_cap_on_an_unsupported_cancellation() -> None:
    generous = cal.CalibrationTable(
        model_version="m", routes={"model": ((0.5, 0.9), (0.85, 0.999))}, fallback=((0.0, 0.5),)
    )
    c = Classification(
        situation="access_cancelled",
        ambiguous=False,
        candidates=["access_cancelled"],
        confidence=0.85,  # the policy's cap: no rule supports the cancellation
        probabilities={"access_cancelled": 0.85, "other": 0.15},
        kind="provider_access_cancelled",
        decided_by=["model"],
    )
    out = cal.apply(c, generous)
    assert out.confidence == 0.85
    assert sum(out.probabilities.values()) == pytest.approx(1.0, abs=1e-12)
    shipped = icp_notify.classify("您的取消接入申请已撤回。")
    assert not (shipped.situation is Situation.ACCESS_CANCELLED and shipped.confidence >= 0.9)
