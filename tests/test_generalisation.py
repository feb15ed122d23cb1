"""Generalisation fixes: domains under any TLD the parser knows, and the e-mail subject.

The example texts are our own (made up), not taken from any held-out or blind set.
"""

from __future__ import annotations

import pytest

from icp_notify import entities
from icp_notify.classifier import Classifier
from icp_notify.models import Notice, RawMessage, Situation
from icp_notify.parse import parse
from icp_notify.textmodel import model_text, notice_tokens
from icp_notify.tokenize import PLACEHOLDERS, tokenize

DOMAIN = PLACEHOLDERS["DOMAIN"]


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("您的网站 qinghe-notes.dev 已取消接入。", "qinghe-notes.dev"),
        ("Your site tidepool.io has been added to our ICP access records.", "tidepool.io"),
        ("域名 shanlan.hk 的接入备案已通过。", "shanlan.hk"),
        ("新增网站 lumen-lab.ai 备案已通过管局审核。", "lumen-lab.ai"),
        ("站点 notes.maple-yard.app 已变更接入信息。", "notes.maple-yard.app"),
        ("Website: aurora-lane.example has been approved.", "aurora-lane.example"),
        ("域名demo-site.test已转入我司。", "demo-site.test"),
        ("域名 xn--fiqs8s.xn--55qx5d 已注销。", "xn--fiqs8s.xn--55qx5d"),
        ("访问 示例商城.中国 查看。", "示例商城.中国"),
        ("网站 yunmu.cloud 已完成迁移。", "yunmu.cloud"),
    ],
)
def test_domain_becomes_one_placeholder_without_its_letters(text: str, domain: str) -> None:
    tokens = tokenize(text)
    assert DOMAIN in tokens
    labels = {label for label in domain.split(".") if label}
    assert not labels & set(tokens), tokens
    assert not any(label in token for token in tokens for label in labels if len(label) > 2)


def test_every_parser_tld_is_a_domain_for_the_tokenizer() -> None:
    # the tokenizer reads the parser's lists, so the two cannot drift apart
    for tld in {*entities.TLDS}:
        assert tokenize(f"见 shili-demo.{tld} 。") == ["见", DOMAIN, "。"], tld
    for tld in {*entities.CN_TLDS}:
        assert DOMAIN in tokenize(f"见 shili.{tld}"), tld


@pytest.mark.parametrize("text", ["readme.md", "photo.jpg", "setup.exe", "v1.2", "3.14"])
def test_file_names_and_numbers_are_no_domains(text: str) -> None:
    assert DOMAIN not in tokenize(f"附件 {text} 已上传")


def test_model_text_puts_the_subject_first() -> None:
    notice = Notice(raw_text="x", text="我们已处理完毕。", subject="取消接入处理完成")
    assert model_text(notice) == "取消接入处理完成\n我们已处理完毕。"
    assert notice_tokens(notice)[0] == "取消接入"
    assert model_text(Notice(raw_text="x", text="已处理")) == "已处理"


def test_parsed_subject_reaches_the_model() -> None:
    notice = parse(
        RawMessage(
            text="您好，处理结果见标题。",
            subject="Fwd: 取消接入处理完成",
            channel="email",
            sender="noreply@yunshan-demo.cn",
        )
    )
    assert "取消接入" in notice_tokens(notice)


class _RecordingModel:
    """A fake model that records the tokens it is given and answers one kind."""

    version = "fake"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def predict_proba(self, tokens: list[str]) -> dict[str, float]:
        self.seen.append(list(tokens))
        return {"provider_access_cancelled": 0.9, "unrelated": 0.1}


def test_classifier_feeds_the_subject_to_the_model() -> None:
    model = _RecordingModel()
    classifier = Classifier(model=model)
    raw = RawMessage(text="您好，处理结果见标题。", subject="取消接入处理完成", channel="email")
    classifier.classify_notice(parse(raw))
    assert model.seen
    assert model.seen[-1][:1] == ["取消接入"]


@pytest.mark.parametrize(
    ("subject", "body", "situation"),
    [
        (
            "取消接入处理完成",
            "尊敬的客户，您提交的工单（编号 20250311-7781）我们已处理完毕，如有疑问请回复本邮件。",
            Situation.ACCESS_CANCELLED,
        ),
        (
            "ICP access transfer completed",
            "Dear customer, the request for qinghe-notes.dev has been processed. Thank you.",
            Situation.ACCESS_DOMAIN,
        ),
    ],
)
def test_subject_only_notice_is_classified_by_the_shipped_pipeline(
    subject: str, body: str, situation: Situation
) -> None:
    raw = RawMessage(text=body, subject=subject, channel="email", sender="noreply@yunshan-demo.cn")
    result = Classifier.default().classify_notice(parse(raw))
    assert result.situation is situation, result
    assert not result.ambiguous
    # the body alone says nothing
    alone = Classifier.default().classify_notice(parse(RawMessage(text=body, channel="email")))
    assert alone.situation is not situation or alone.ambiguous
