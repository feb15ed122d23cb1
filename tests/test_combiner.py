"""The learned combination of rules and model (icp_notify.combiner) and its use by the classifier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import icp_notify
from icp_notify import combiner as cb
from icp_notify.classifier import Classifier
from icp_notify.errors import ModelArtifactError
from icp_notify.models import Evidence, Kind, Situation
from icp_notify.parse import parse

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
FOUR = {"access_domain", "modify_domain", "new_domain", "access_cancelled"}


def rule(rule_id: str, kind: Kind, weight: float) -> Evidence:
    from icp_notify.models import KIND_SITUATION

    return Evidence(
        source="rule", id=rule_id, kind=kind, situation=KIND_SITUATION[kind], weight=weight
    )


class Fixed:
    """A text model that always answers the same probabilities."""

    version = "m"

    def __init__(self, probs: dict[Kind, float]) -> None:
        self.probs = probs

    def predict_proba(self, tokens: object) -> dict[Kind, float]:
        return dict(self.probs)


def trusting(feature: str, situation: Situation, weight: float = 8.0) -> cb.Combiner:
    """A combiner that reads one feature as strong evidence for one situation."""
    classes = tuple(Situation)
    return cb.Combiner(
        model_version="m",
        classes=classes,
        features=(feature,),
        coef=tuple((weight if s is situation else 0.0,) for s in classes),
        intercept=tuple(0.0 for _ in classes),
    )


def test_features_name_the_rules_the_model_and_the_structure() -> None:
    sure = rule("filing.footer_reminder", Kind.FOOTER_REMINDER, 0.91)
    hint = rule("signal.user_question", Kind.UNRELATED, 0.5)
    timed_out = rule("provider.access_approved", Kind.PROVIDER_ACCESS_DOMAIN, 0.96).model_copy(
        update={"timed_out": True}
    )
    f = cb.combiner_features(
        [sure, hint, timed_out],
        {Kind.PROVIDER_NEW_DOMAIN: 0.7, Kind.CHANGE_NOTICE_GENERIC: 0.2, Kind.MARKETING: 0.1},
        text="New site approved 新增网站已通过",
        subject="ICP",
        channel="email",
    )
    assert f["m:new_domain"] == pytest.approx(0.7)
    assert f["m:generic"] == pytest.approx(0.2)
    assert "s:access_domain" not in f  # the timed-out match counts for nothing
    assert f["s:other"] == 1.0
    assert f["h:other"] == 1.0
    assert f["best:other"] == 1.0
    assert f["caution"] == 1.0  # a sure `other` rule
    assert "agree" not in f  # the model reads a new site, the rule a side topic
    assert 0.4 < f["latin"] < 0.7
    assert f["subject"] == 1.0
    assert f["ch:email"] == 1.0


def test_combiner_validates_its_weights() -> None:
    ok = trusting("x", Situation.NEW_DOMAIN)
    assert ok.probabilities({"x": 1.0})[Situation.NEW_DOMAIN] > 0.99
    data = ok.model_dump(mode="json")
    for change, message in [
        ({"coef": data["coef"][:-1]}, "one row per class"),
        ({"coef": [[1.0, 2.0]] * 5}, "one weight per feature"),
        ({"intercept": [0.0, 0.0, 0.0, 0.0, float("nan")]}, "finite"),
        (
            {"classes": ["other", "other", "new_domain", "modify_domain", "access_domain"]},
            "distinct",
        ),
        ({"feature_version": cb.FEATURE_VERSION + 1}, "feature version"),
    ]:
        with pytest.raises(ValidationError, match=message):
            cb.Combiner.model_validate({**data, **change})


def test_fit_matches_scikit_learn_probabilities() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    names = ["a", "b", "c"]
    situations = [Situation.OTHER, Situation.NEW_DOMAIN, Situation.ACCESS_CANCELLED]
    samples = []
    for _ in range(120):
        s = situations[int(rng.integers(3))]
        f = {
            n: float(rng.random()) + (1.0 if n == names[situations.index(s)] else 0.0)
            for n in names
        }
        samples.append((f, s))
    fitted = cb.fit_combiner(samples, model_version="m", c=1.0)
    x = np.array([[f[n] for n in fitted.features] for f, _ in samples])
    order = sorted(situations, key=list(Situation).index)
    lr = LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(
        x, [order.index(s) for _, s in samples]
    )
    expected = lr.predict_proba(x)
    for row, (f, _) in zip(expected, samples, strict=True):
        got = fitted.probabilities(f)
        assert [got[s] for s in order] == pytest.approx(list(row), abs=1e-4)
        assert got[Situation.MODIFY_DOMAIN] == 0.0


def test_the_combiner_weighs_a_sure_rule_but_never_a_hard_veto() -> None:
    text = "【示例云】您的新增网站备案已提交管局审核，请耐心等待。"
    model = Fixed({Kind.PROGRESS: 0.6, Kind.PROVIDER_NEW_DOMAIN: 0.4})
    plain = Classifier(model=model).classify_notice(parse(text))
    combined = Classifier(
        model=model, combiner=trusting("m:new_domain", Situation.NEW_DOMAIN, 20.0)
    ).classify_notice(parse(text))
    assert plain.situation is Situation.OTHER
    assert plain.kind is Kind.PROGRESS
    assert combined.situation is Situation.NEW_DOMAIN
    assert combined.kind is Kind.PROVIDER_NEW_DOMAIN
    code = "【示例云】验证码 482913，您正在办理网站取消接入，5分钟内有效，请勿泄露。"
    vetoed = Classifier(
        model=Fixed({Kind.PROVIDER_ACCESS_CANCELLED: 0.9, Kind.VERIFICATION_CODE: 0.1}),
        combiner=trusting("m:access_cancelled", Situation.ACCESS_CANCELLED, 50.0),
    ).classify_notice(parse(code))
    assert vetoed.situation is Situation.OTHER
    assert vetoed.kind is Kind.VERIFICATION_CODE


def test_the_generic_notice_stays_ambiguous_over_four_with_a_combiner() -> None:
    c = Classifier(
        model=Fixed({Kind.CHANGE_NOTICE_GENERIC: 0.9, Kind.PROGRESS: 0.1}),
        combiner=trusting("m:other", Situation.OTHER, 50.0),
    ).classify_notice(parse(GENERIC))
    assert c.ambiguous
    assert {s.value for s in c.candidates} == FOUR


def test_an_unsupported_cancellation_stays_capped_with_a_combiner() -> None:
    c = Classifier(
        model=Fixed({Kind.PROVIDER_ACCESS_CANCELLED: 0.99, Kind.UNRELATED: 0.01}),
        combiner=trusting("m:access_cancelled", Situation.ACCESS_CANCELLED, 50.0),
    ).classify_notice(parse("您的业务已处理完毕。"))
    assert c.situation is Situation.ACCESS_CANCELLED
    assert c.confidence <= 0.85


def test_default_combiner_refuses_another_model_and_bad_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "combiner.json"
    monkeypatch.setattr(cb, "default_path", lambda: path)
    assert cb.default_combiner("m") is None
    c = trusting("x", Situation.OTHER)
    path.write_text(json.dumps(c.model_dump(mode="json")), encoding="utf-8")
    assert cb.default_combiner("m") == c
    with pytest.raises(ModelArtifactError, match="fitted for model m, not other"):
        cb.default_combiner("other")
    bad = tmp_path / "bad.json"
    bad.write_text('{"model_version": "m", "classes": ["other"]}', encoding="utf-8")
    monkeypatch.setattr(cb, "default_path", lambda: bad)
    with pytest.raises(ModelArtifactError, match="invalid combiner"):
        cb.default_combiner("m")


def test_shipped_combiner_fits_the_shipped_model_and_is_used_by_default() -> None:
    from icp_notify.textmodel import default_model

    assert cb.default_path().exists(), "run `icp-notify calibrate` after training"
    model = default_model()
    shipped = cb.default_combiner(model.version)
    assert shipped is not None
    assert set(shipped.classes) == set(Situation)
    assert Classifier.default().combiner == shipped
    c = icp_notify.classify(
        "【示例云】您的网站 qingmu-demo.cn 接入备案已通过管局审核，已成功接入示例云。"
    )
    assert c.situation is Situation.ACCESS_DOMAIN
    assert c.confidence >= 0.9
    generic = icp_notify.classify(GENERIC)
    assert generic.ambiguous
    assert {s.value for s in generic.candidates} == FOUR


def test_classify_with_the_combiner_never_imports_sklearn() -> None:
    code = (
        "import sys\n"
        "import icp_notify\n"
        "icp_notify.classify('【示例云】您的网站 a-demo.cn 已完成取消接入。')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
