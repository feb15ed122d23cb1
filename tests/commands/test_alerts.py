"""``icp-notify alerts test``: a sample card to each channel, each answer printed, exit 1 when
any channel failed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("httpx")

from _alert_receiver import OK, Received, receiver

from icp_notify.cli import main


def _respond(req: Received) -> tuple[int, dict[str, str], bytes]:
    if req.path.startswith("/robot"):
        return 200, {}, b'{"errcode": 310000, "errmsg": "keywords not in content"}'
    return OK


def test_alerts_test_reports_each_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiver(_respond) as rx:
        monkeypatch.setenv("ICPN_CLI_DINGTALK_URL", f"{rx.url}/robot/send?access_token=tok")
        monkeypatch.setenv("ICPN_CLI_DINGTALK_SECRET", "SECexample")
        monkeypatch.setenv("ICPN_CLI_HOOK_SECRET", "whsec")
        config = tmp_path / "alerts.toml"
        config.write_text(
            f"""
[channels.ops-dingtalk]
type = "dingtalk"
url_env = "ICPN_CLI_DINGTALK_URL"
secret_env = "ICPN_CLI_DINGTALK_SECRET"
[channels.hook]
type = "webhook"
url = "{rx.url}/hook"
secret_env = "ICPN_CLI_HOOK_SECRET"
[[routes]]
channels = ["ops-dingtalk"]
[[routes]]
channels = ["hook"]
lang = "en"
""",
            encoding="utf-8",
        )
        code = main(["alerts", "test", "--config", str(config)])
        out, err = capsys.readouterr()
        assert code == 1
        assert out.splitlines() == [
            "ops-dingtalk\tdingtalk\tFAILED\t200\trobot error 310000: keywords not in content",
            "hook\twebhook\tok\t200",
        ]
        assert "1 of 2 channel(s) failed" in err
        assert main(["alerts", "test", "--config", str(config), "--channel", "hook"]) == 0
    ding, hook, _ = rx.requests
    assert "sign" in parse_qs(urlsplit(ding.path).query)
    assert ding.json()["markdown"]["title"].startswith("[测试] [CRITICAL]")  # type: ignore[index]
    assert hook.json()["title"].startswith("[TEST] [CRITICAL] access_cancelled")  # type: ignore[index]
    assert hook.headers["x-signature"] == hmac.new(b"whsec", hook.body, hashlib.sha256).hexdigest()


def test_alerts_test_names_a_missing_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ICPN_CLI_WECOM_KEY", raising=False)
    config = tmp_path / "alerts.toml"
    config.write_text(
        '[channels.wx]\ntype = "wecom"\nkey_env = "ICPN_CLI_WECOM_KEY"\n[[routes]]\nchannels = ["wx"]\n',
        encoding="utf-8",
    )
    assert main(["alerts", "test", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "channels.wx.key_env: environment variable ICPN_CLI_WECOM_KEY is not set" in err


def test_reclassify_with_alerts_enqueues_the_follow_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from _server_fakes import GENERIC, PROVIDER_ACCESS, FakePipeline

    from icp_notify.commands import reclassify
    from icp_notify.models import Operation, Situation
    from icp_notify.server.service import NoticeService
    from icp_notify.server.store import SqliteStore

    db = tmp_path / "n.sqlite3"
    store = SqliteStore(db)  # no alerts configured when these were stored
    svc = NoticeService(store, FakePipeline())
    svc.ingest(filing="shop-example-cn", source="api", text=PROVIDER_ACCESS)
    svc.ingest(filing="shop-example-cn", source="api", text=GENERIC)
    store.add_operation(
        "shop-example-cn",
        Operation(kind=Situation.ACCESS_DOMAIN, submitted_at="2025-03-01T10:00:00+08:00"),
    )
    store.close()
    config = tmp_path / "alerts.toml"
    config.write_text(
        '[channels.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:9/"\n'
        '[[routes]]\nchannels = ["hook"]\nmin_urgency = "critical"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(reclassify, "_load_pipeline", FakePipeline)
    assert main(["reclassify", "--db", str(db), "--alerts", str(config)]) == 0
    assert "reclassified 2 notices: 1 changed" in capsys.readouterr().out
    store = SqliteStore(db)
    try:
        (alert,) = store.list_alerts()[0]
    finally:
        store.close()
    assert (alert.channel, alert.state, alert.urgency.value) == ("hook", "pending", "critical")
    assert alert.event == "escalation:high>critical:ambiguous>access_cancelled"
