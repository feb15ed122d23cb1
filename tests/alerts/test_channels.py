"""Each alert channel: its signature (pinned against values computed here, independently of the
code under test), its message format and size limit, and how it reads the receiver's answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

import pytest

httpx = pytest.importorskip("httpx")

from _alert_receiver import Received, receiver  # noqa: E402

from icp_notify.alerts import dingtalk, feishu, webhook, wecom  # noqa: E402
from icp_notify.alerts.card import Change, build_card  # noqa: E402
from icp_notify.alerts.sample import sample_report  # noqa: E402
from icp_notify.models import Situation, Urgency  # noqa: E402

KEY = "icpn-0123456789abcdef"
FILING = "shop-example-cn"


def _card(lang: str = "zh", text: str | None = None):  # type: ignore[no-untyped-def]
    report = sample_report(lang)  # type: ignore[arg-type]
    if text is not None:
        report = report.model_copy(
            update={"notice": report.notice.model_copy(update={"raw_text": text})}
        )
    return build_card(report, filing=FILING, notice_id=42)


# ---------------------------------------------------------------- signatures


def test_dingtalk_sign_matches_the_worked_example() -> None:
    # 加签: base64(HMAC-SHA256(key=secret, msg="{timestamp}\n{secret}")), then URL-encoded
    secret, ts = "SECexample", 1700000000000
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert expected == "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0="
    assert dingtalk.sign(secret, ts) == quote_plus(expected)
    assert unquote(dingtalk.sign(secret, ts)) == expected


def test_feishu_sign_is_keyed_with_timestamp_and_secret_over_empty_message() -> None:
    secret, ts = "SECexample", 1700000000
    expected = base64.b64encode(
        hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert feishu.sign(secret, ts) == expected == "giaCP81WKcKmxS0uSLlrqVVwRIDJGES6GpFgEr4g4C4="


def test_webhook_signature_is_hex_hmac_of_the_raw_body() -> None:
    body = '{"title": "取消接入"}'.encode()
    expected = hmac.new(b"whsec-example", body, hashlib.sha256).hexdigest()
    assert webhook.signature("whsec-example", body) == expected


# ---------------------------------------------------------------- sending to a receiver


def test_dingtalk_request_is_signed_in_the_url_and_carries_the_key() -> None:
    sender = dingtalk.DingTalkSender("ops", "", "SECexample", clock=lambda: 1700000000.0)
    with receiver() as rx, httpx.Client() as client:
        sender.url = f"{rx.url}/robot/send?access_token=tok-example"
        result = sender.send(_card(), KEY, client)
    assert result.ok
    assert result.status == 200
    (req,) = rx.requests
    query = parse_qs(urlsplit(req.path).query)
    assert query["access_token"] == ["tok-example"]
    assert query["timestamp"] == ["1700000000000"]
    assert query["sign"] == ["uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0="]  # parse_qs decodes
    body = req.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["text"].startswith("### [CRITICAL] access_cancelled · shop-example-cn")
    assert body["markdown"]["text"].endswith(f"消息编号: {KEY}")
    assert "取消接入" in body["markdown"]["text"]
    assert req.headers["idempotency-key"] == KEY


def test_feishu_body_has_timestamp_sign_and_an_interactive_card() -> None:
    sender = feishu.FeishuSender("lark", "", "lark-secret", clock=lambda: 1700000000.9)
    with receiver(lambda r: (200, {}, b'{"code": 0, "msg": "success"}')) as rx, httpx.Client() as c:
        sender.url = f"{rx.url}/open-apis/bot/v2/hook/abc"
        assert sender.send(_card("en"), KEY, c).ok
    body = rx.requests[0].json()
    assert body["timestamp"] == "1700000000"
    assert (
        body["sign"]
        == base64.b64encode(
            hmac.new(b"1700000000\nlark-secret", b"", hashlib.sha256).digest()
        ).decode()
    )
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["template"] == "red"
    content = body["card"]["elements"][0]["content"]
    assert "Alibaba Cloud" in content
    assert content.endswith(f"Message id: {KEY}")


def test_wecom_key_goes_in_the_url() -> None:
    with receiver() as rx, httpx.Client() as c:
        sender = wecom.WeComSender("wx", f"{rx.url}/cgi-bin/webhook/send", "693a91f6-7xxx-example")
        assert sender.send(_card(), KEY, c).ok
    req = rx.requests[0]
    assert parse_qs(urlsplit(req.path).query)["key"] == ["693a91f6-7xxx-example"]
    assert req.json()["msgtype"] == "markdown"  # type: ignore[index]


def test_webhook_signs_the_exact_bytes_it_sends() -> None:
    with receiver(lambda r: (204, {}, b"")) as rx, httpx.Client() as c:
        sender = webhook.WebhookSender("hook", f"{rx.url}/alerts", "whsec-example")
        result = sender.send(_card("en"), KEY, c)
    assert result.ok
    assert result.status == 204
    req = rx.requests[0]
    expected = hmac.new(b"whsec-example", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-signature"] == expected
    assert req.headers["idempotency-key"] == KEY
    body = req.json()
    assert body["idempotency_key"] == KEY
    assert body["urgency"] == "critical"


# ---------------------------------------------------------------- answers


def _answer(status: int, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def respond(_: Received) -> tuple[int, dict[str, str], bytes]:
        return status, headers or {}, body

    return respond


def test_robot_error_code_in_a_200_is_a_failure() -> None:
    bad_sign = b'{"errcode": 310000, "errmsg": "sign not match"}'
    with receiver(_answer(200, bad_sign)) as rx, httpx.Client() as c:
        result = dingtalk.DingTalkSender("ops", f"{rx.url}/robot/send?access_token=t").send(
            _card(), KEY, c
        )
    assert not result.ok
    assert result.status == 200
    assert result.error == "robot error 310000: sign not match"


def test_429_with_retry_after_is_reported() -> None:
    with receiver(_answer(429, b"slow down", {"Retry-After": "17"})) as rx, httpx.Client() as c:
        result = webhook.WebhookSender("hook", rx.url).send(_card(), KEY, c)
    assert (result.ok, result.status, result.retry_after) == (False, 429, 17.0)


def test_robot_rate_limit_code_waits_a_minute() -> None:
    freq = b'{"errcode": 45009, "errmsg": "api freq out of limit"}'
    with receiver(_answer(200, freq)) as rx, httpx.Client() as c:
        result = wecom.WeComSender("wx", rx.url, "k").send(_card(), KEY, c)
    assert not result.ok
    assert result.retry_after == 60.0


def test_unreachable_receiver_is_a_failure_not_an_exception() -> None:
    with receiver() as rx:
        url = rx.url
    with httpx.Client(timeout=2) as c:
        result = webhook.WebhookSender("hook", url).send(_card(), KEY, c)
    assert not result.ok
    assert result.status is None
    assert "ConnectError" in (result.error or "")


# ---------------------------------------------------------------- size limits


LONG = "【云栈科技】" + "您的网站 shop.example.cn 的备案信息需要核查。" * 900  # about 60 KB


def test_wecom_content_is_cut_to_2048_bytes_keeping_the_key() -> None:
    content = wecom.render(_card(text=LONG), KEY)["markdown"]["content"]  # type: ignore[index]
    assert len(content.encode()) <= wecom.MAX_CONTENT_BYTES
    lines = content.splitlines()
    assert lines[-1] == f"消息编号: {KEY}"
    assert lines[-2] == "…（已截断）"
    assert lines[0].startswith('### <font color="warning">[CRITICAL]')


def test_feishu_body_stays_under_20_kb() -> None:
    body = feishu.render(_card(text=LONG), KEY, (1700000000, "s"))
    assert len(body) <= feishu.MAX_BODY_BYTES
    content = json.loads(body)["card"]["elements"][0]["content"]
    assert content.endswith(f"消息编号: {KEY}")
    assert "…（已截断）" in content


def test_short_cards_are_not_cut() -> None:
    text = wecom.render(_card(), KEY)["markdown"]["content"]  # type: ignore[index]
    assert "已截断" not in text


def test_follow_up_card_says_what_changed() -> None:
    card = build_card(
        sample_report("en"),
        filing=FILING,
        notice_id=42,
        change=Change(
            old_situation=None,
            new_situation=Situation.ACCESS_CANCELLED,
            old_urgency=Urgency.HIGH,
            new_urgency=Urgency.CRITICAL,
        ),
    )
    assert card.title.startswith("[ESCALATED] [CRITICAL]")
    assert card.change == "undecided → access_cancelled; high → critical"
    assert "**What changed**: undecided → access_cancelled; high → critical" in card.markdown()
