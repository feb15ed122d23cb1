"""The alerts file: validation errors name the key, secrets come from the environment, routing
(filing globs, minimum urgency, quiet hours that never hold a critical alert, language)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from _helpers import ROOT

from icp_notify.alerts.channels import build_senders
from icp_notify.alerts.config import AlertsConfig, load_config
from icp_notify.alerts.routing import Router
from icp_notify.alerts.sample import sample_report
from icp_notify.errors import InputError
from icp_notify.models import SHANGHAI, Urgency

EXAMPLE = """
timezone = "Asia/Shanghai"

[delivery]
max_attempts = 6
backoff_base_s = 20

[channels.ops-dingtalk]
type = "dingtalk"
url_env = "ICPN_DINGTALK_URL"
secret_env = "ICPN_DINGTALK_SECRET"

[channels.lark]
type = "feishu"
url_env = "ICPN_FEISHU_URL"
secret_env = "ICPN_FEISHU_SECRET"

[channels.wx]
type = "wecom"
key_env = "ICPN_WECOM_KEY"

[channels.hook]
type = "webhook"
url = "https://hooks.example.net/icp"
secret_env = "ICPN_HOOK_SECRET"

[channels.mail]
type = "email"
host = "smtp.example.net"
from = "icp-notify@example.net"
to = ["ops@example.net"]
username = "icp-notify"
password_env = "ICPN_SMTP_PASSWORD"

[[routes]]
filings = ["shop-*"]
channels = ["ops-dingtalk", "mail"]
quiet_hours = "23:00-08:00"

[[routes]]
filings = ["*"]
channels = ["lark", "wx", "hook"]
min_urgency = "critical"
lang = "en"
"""

ENV = {
    "ICPN_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=tok",
    "ICPN_DINGTALK_SECRET": "SECexample",
    "ICPN_FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
    "ICPN_FEISHU_SECRET": "lark",
    "ICPN_WECOM_KEY": "693a91f6",
    "ICPN_HOOK_SECRET": "whsec",
    "ICPN_SMTP_PASSWORD": "pw",
}


def test_the_documented_example_loads_and_builds_every_sender() -> None:
    config = AlertsConfig.from_toml(EXAMPLE)
    senders = build_senders(config, ENV)
    assert {n: s.kind for n, s in senders.items()} == {
        "ops-dingtalk": "dingtalk",
        "lark": "feishu",
        "wx": "wecom",
        "hook": "webhook",
        "mail": "email",
    }
    assert config.delivery.max_attempts == 6
    assert config.routes[0].min_urgency == Urgency.HIGH  # the default


def test_docs_example_is_the_tested_one() -> None:
    # docs/server.md shows this file's EXAMPLE; keep them the same
    docs = (ROOT / "docs" / "server.md").read_text("utf-8")
    assert EXAMPLE.strip() in docs


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[[routes]]\nchannels = ["x"]\nlang = "fr"', "routes.0.lang", "'zh' or 'en'"),
        (
            '[channels.a]\ntype = "dingtalk"\nurl_env = "A"\nsecret = "SEC…"\n[[routes]]\nchannels = ["a"]',
            "channels.a.secret",
            "Extra inputs are not permitted",
        ),
        ('[channels.a]\ntype = "sms"\n[[routes]]\nchannels = ["a"]', "channels.a", "'dingtalk'"),
        (
            '[channels.a]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\n[[routes]]\nchannels = ["a"]\nquiet_hours = "23h-8h"',
            "routes.0.quiet_hours",
            "HH:MM-HH:MM",
        ),
        (
            '[channels.a]\ntype = "email"\nhost = "smtp.example.net"\nfrom = "a@example.net"\nto = ["b@example.net"]\nstarttls = false\n[[routes]]\nchannels = ["a"]',
            "channels.a",
            "loopback",
        ),
        ('[[routes]]\nchannels = ["ghost"]', "routes.0.channels", "unknown channel 'ghost'"),
        ("[delivery]\nmax_attempts = 0\n[[routes]]\nchannels = []", "delivery.max_attempts", ""),
        ("routes = [", "alerts config", "Invalid value"),
    ],
)
def test_errors_name_the_key(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        AlertsConfig.from_toml(text)
    assert where in (info.value.where or "")
    assert message in info.value.message


def test_missing_secret_names_the_key_and_the_variable() -> None:
    config = AlertsConfig.from_toml(EXAMPLE)
    env = {k: v for k, v in ENV.items() if k != "ICPN_FEISHU_SECRET"}
    with pytest.raises(InputError) as info:
        build_senders(config, env)
    assert info.value.code == "missing_secret"
    assert info.value.where == "channels.lark.secret_env"
    assert "ICPN_FEISHU_SECRET" in info.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_config(tmp_path / "nope.toml")
    assert info.value.code == "unreadable"


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, 4, hour, minute, tzinfo=SHANGHAI)


def _high(lang: str = "zh"):  # type: ignore[no-untyped-def]
    report = sample_report(lang)  # type: ignore[arg-type]
    return report.model_copy(
        update={"advice": report.advice.model_copy(update={"urgency": Urgency.HIGH})}
    )


def test_routes_by_filing_and_minimum_urgency() -> None:
    router = Router(AlertsConfig.from_toml(EXAMPLE))
    critical = [d.channel for d in router.for_notice("shop-example-cn", sample_report(), _at(12))]
    assert critical == ["ops-dingtalk", "mail", "lark", "wx", "hook"]
    high = [d.channel for d in router.for_notice("shop-example-cn", _high(), _at(12))]
    assert high == ["ops-dingtalk", "mail"]  # the second route wants critical only
    assert router.for_notice("blog-example-cn", _high(), _at(12)) == []


def test_quiet_hours_hold_high_but_never_critical() -> None:
    router = Router(AlertsConfig.from_toml(EXAMPLE))
    held = router.for_notice("shop-example-cn", _high(), _at(23, 30))
    assert {d.not_before for d in held} == {dt.datetime(2025, 3, 5, 8, 0, tzinfo=SHANGHAI)}
    early = router.for_notice("shop-example-cn", _high(), _at(7, 59))
    assert early[0].not_before == _at(8)
    assert router.for_notice("shop-example-cn", _high(), _at(8))[0].not_before is None
    critical = router.for_notice("shop-example-cn", sample_report(), _at(23, 30))
    assert [d.not_before for d in critical] == [None] * 5


def test_each_route_gets_the_advisor_texts_in_its_language() -> None:
    router = Router(AlertsConfig.from_toml(EXAMPLE))
    drafts = router.for_notice("shop-example-cn", sample_report("zh"), _at(12))
    by_channel = {d.channel: d for d in drafts}
    assert by_channel["mail"].lang == "zh"
    assert "阿里云" in by_channel["mail"].report_json
    en = sample_report("en").advice.summary
    assert by_channel["hook"].lang == "en"
    assert en[:40] in by_channel["hook"].report_json


def test_follow_up_only_when_urgency_rises() -> None:
    router = Router(AlertsConfig.from_toml(EXAMPLE))
    critical, high = sample_report(), _high()
    up = router.for_change("shop-example-cn", high, critical, _at(12))
    assert [d.channel for d in up] == ["ops-dingtalk", "mail", "lark", "wx", "hook"]
    assert up[0].event == "escalation:high>critical:access_cancelled>access_cancelled"
    assert '"old_urgency":"high"' in (up[0].change_json or "")
    assert router.for_change("shop-example-cn", critical, high, _at(12)) == []
    assert router.for_change("shop-example-cn", critical, critical, _at(12)) == []
