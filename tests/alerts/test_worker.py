"""The alert outbox: written in the notice's transaction, delivered by the worker with retries,
backoff, Retry-After and a dead state; follow-ups on escalation; ``GET /v1/alerts``."""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from _alert_receiver import receiver
from _server_fakes import FakePipeline

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's httpx2 deprecation notice
    from fastapi.testclient import TestClient

from icp_notify.alerts.base import Delivery
from icp_notify.alerts.card import AlertCard
from icp_notify.alerts.config import AlertsConfig, DeliveryConfig
from icp_notify.alerts.routing import Router
from icp_notify.alerts.worker import DeliveryWorker
from icp_notify.models import Operation, Situation
from icp_notify.server.app import create_app
from icp_notify.server.service import NoticeService
from icp_notify.server.settings import Settings
from icp_notify.server.store import ReplayError, SqliteStore

GENERIC = "【工信部】尊敬的用户赵**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
ACCESS_OK = "【云栈科技】您的网站 shop.example.cn 接入备案已审核通过，已成功接入。"
CANCELLED_TEXT = "已被变更"  # FakePipeline: with an access operation + approval → access_cancelled

CONFIG = """
[channels.ops]
type = "webhook"
url = "http://127.0.0.1:9/never-called"

[channels.night]
type = "webhook"
url = "http://127.0.0.1:9/never-called"

[[routes]]
filings = ["shop-*"]
channels = ["ops"]

[[routes]]
filings = ["shop-*"]
channels = ["night"]
min_urgency = "critical"
"""


class FakeSender:
    """Answers from a script (then ``ok``) and records each card."""

    kind = "fake"

    def __init__(self, name: str, answers: list[Delivery] | None = None) -> None:
        self.name = name
        self.answers = list(answers or [])
        self.sent: list[tuple[AlertCard, str]] = []

    def send(self, card: AlertCard, key: str, client: Any) -> Delivery:
        self.sent.append((card, key))
        return self.answers.pop(0) if self.answers else Delivery(True, 200)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "n.sqlite3")
    s.alert_router = Router(AlertsConfig.from_toml(CONFIG))
    yield s
    s.close()


def _service(store: SqliteStore) -> NoticeService:
    return NoticeService(store, FakePipeline())


def _states(store: SqliteStore) -> list[tuple[str, str, str, int]]:
    items, _ = store.list_alerts(limit=500)
    return sorted((a.channel, a.event, a.state, a.attempts) for a in items)


def test_alert_rows_are_written_with_the_notice(store: SqliteStore) -> None:
    svc = _service(store)
    record, created = svc.ingest(filing="shop-example-cn", source="api", text=GENERIC)
    assert created
    # ambiguous generic notice: urgency high → the `ops` route (min high), not `night` (critical)
    assert _states(store) == [("ops", "notice", "pending", 0)]
    svc.ingest(filing="shop-example-cn", source="api", text=GENERIC)  # duplicate: no new alert
    svc.ingest(filing="shop-example-cn", source="api", text=ACCESS_OK)  # info: below minimum
    svc.ingest(filing="blog-example-cn", source="api", text=GENERIC + "（二）")  # no route
    assert _states(store) == [("ops", "notice", "pending", 0)]
    (alert,) = store.list_alerts()[0]
    assert alert.notice_id == record.id
    assert alert.idempotency_key.startswith("icpn-")


def test_notice_and_alert_commit_together(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("disk full while writing the outbox")

    monkeypatch.setattr(SqliteStore, "_enqueue", staticmethod(broken))
    with pytest.raises(RuntimeError):
        _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    assert store.count_notices() == 0  # rolled back with the outbox row


def test_a_replayed_signature_stores_no_alert(store: SqliteStore) -> None:
    svc = _service(store)
    svc.ingest(filing="shop-example-cn", source="smsforwarder", text=GENERIC, signature=(1, "s"))
    with pytest.raises(ReplayError):
        svc.ingest(
            filing="shop-example-cn", source="smsforwarder", text=GENERIC + "!", signature=(1, "s")
        )
    assert len(store.list_alerts()[0]) == 1


def _worker(
    store: SqliteStore, senders: dict[str, FakeSender], clock: Clock, **cfg: Any
) -> DeliveryWorker:
    config = DeliveryConfig(**{"backoff_base_s": 30, "backoff_cap_s": 600, **cfg})
    return DeliveryWorker(store, senders, config, clock=clock, rng=lambda: 0.0)


def test_delivered_once_and_never_again(store: SqliteStore) -> None:
    _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    ops = FakeSender("ops")
    worker = _worker(store, {"ops": ops}, Clock())
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    (alert,) = store.list_alerts(state="delivered")[0]
    assert alert.attempts == 1
    assert alert.last_status == 200
    assert alert.delivered_at is not None
    assert [key for _, key in ops.sent] == [alert.idempotency_key]


def test_retries_back_off_then_the_alert_is_dead(store: SqliteStore) -> None:
    _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    fail = Delivery(False, 503, "HTTP 503: busy")
    ops = FakeSender("ops", [fail] * 3)
    clock = Clock()
    worker = _worker(store, {"ops": ops}, clock, max_attempts=3)
    waits = []
    for _ in range(3):
        assert worker.run_once() == 1
        items = store.list_alerts()[0]
        if items[0].state == "retry":
            assert items[0].next_attempt_at is not None
            waits.append((items[0].next_attempt_at - clock.now).total_seconds())
            assert worker.run_once() == 0  # not due yet
            clock.advance(waits[-1])
    assert waits == pytest.approx([15.0, 30.0])  # 30 s * 2**(n-1), jitter factor 0.5 (rng=0)
    (dead,) = store.list_alerts(state="dead")[0]
    assert dead.attempts == 3
    assert dead.last_status == 503
    assert dead.last_error == "HTTP 503: busy"
    clock.advance(3600)
    assert worker.run_once() == 0
    assert len(ops.sent) == 3


def test_retry_after_is_honoured(store: SqliteStore) -> None:
    _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    ops = FakeSender("ops", [Delivery(False, 429, "HTTP 429: slow down", retry_after=120)])
    clock = Clock()
    worker = _worker(store, {"ops": ops}, clock)
    worker.run_once()
    (alert,) = store.list_alerts(state="retry")[0]
    assert alert.next_attempt_at is not None
    assert (alert.next_attempt_at - clock.now).total_seconds() == pytest.approx(120)
    clock.advance(119)
    assert worker.run_once() == 0
    clock.advance(1)
    assert worker.run_once() == 1
    assert _states(store) == [("ops", "notice", "delivered", 2)]


def test_an_interrupted_delivery_is_retried_after_restart(store: SqliteStore) -> None:
    _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    store.claim_alerts(dt.datetime.now(dt.UTC))  # the process dies before recording the answer
    assert _states(store) == [("ops", "notice", "sending", 1)]
    assert store.requeue_interrupted() == 1
    worker = _worker(store, {"ops": FakeSender("ops")}, Clock())
    assert worker.run_once() == 1
    assert _states(store) == [("ops", "notice", "delivered", 2)]


def test_escalation_on_reclassification_sends_a_follow_up(store: SqliteStore) -> None:
    svc = _service(store)
    svc.ingest(filing="shop-example-cn", source="api", text=ACCESS_OK)
    svc.ingest(filing="shop-example-cn", source="api", text=GENERIC)  # ambiguous, high
    op = Operation(kind=Situation.ACCESS_DOMAIN, submitted_at="2025-03-01T10:00:00+08:00")
    store.add_operation("shop-example-cn", op)
    seen, changed = svc.reclassify()  # generic → access_cancelled (critical)
    assert (seen, changed) == (2, 1)
    escalation = "escalation:high>critical:ambiguous>access_cancelled"
    assert _states(store) == [
        ("night", escalation, "pending", 0),
        ("ops", escalation, "pending", 0),
        ("ops", "notice", "pending", 0),
    ]
    assert svc.reclassify() == (2, 0)  # nothing changed: no further follow-up
    assert len(store.list_alerts()[0]) == 3
    senders = {"ops": FakeSender("ops"), "night": FakeSender("night")}
    _worker(store, senders, Clock()).run_once()  # type: ignore[arg-type]
    card, _ = senders["night"].sent[0]
    assert card.change == "未定 → access_cancelled（取消接入）; high（高） → critical（紧急）"
    assert card.title.startswith("[升级] [CRITICAL] access_cancelled · shop-example-cn")


def _app_settings(tmp_path: Path, url: str, **kw: Any) -> Settings:
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        f"""
[delivery]
poll_s = 0.05
backoff_base_s = 0.05
[channels.hook]
type = "webhook"
url = "{url}/alerts"
secret_env = "ICPN_TEST_HOOK_SECRET"
[[routes]]
channels = ["hook"]
lang = "en"
""",
        encoding="utf-8",
    )
    return Settings(db=tmp_path / "n.sqlite3", alerts=alerts, **kw)


def test_api_lists_alerts_by_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICPN_TEST_HOOK_SECRET", "whsec-example")
    token = {"Authorization": "Bearer t0ken"}
    with receiver() as rx:
        settings = _app_settings(tmp_path, rx.url, token="t0ken")
        with TestClient(create_app(settings, pipeline=FakePipeline())) as client:
            r = client.post(
                "/v1/notices", json={"filing": "shop-example-cn", "text": GENERIC}, headers=token
            )
            assert r.status_code == 201
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                page = client.get("/v1/alerts?state=delivered", headers=token).json()
                if page["items"]:
                    break
                time.sleep(0.02)
            assert [a["notice_id"] for a in page["items"]] == [r.json()["id"]]
            assert client.get("/v1/alerts?state=pending", headers=token).json()["items"] == []
            assert client.get("/v1/alerts").status_code == 401
            bad = client.get("/v1/alerts?state=lost", headers=token)
            assert bad.status_code == 422
            assert bad.json()["error"]["where"] == "query.state"
    (req,) = rx.requests
    assert req.headers["idempotency-key"] == page["items"][0]["idempotency_key"]
    # the fake pipeline's advice differs from the shipped advisor's, so the card is not
    # translated (it must not contradict the stored report): still urgency high
    assert req.json()["title"] == "[HIGH] 未定? · shop-example-cn"  # type: ignore[index]
    assert req.json()["urgency"] == "high"  # type: ignore[index]


def test_a_missing_secret_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from icp_notify.errors import InputError

    monkeypatch.delenv("ICPN_TEST_HOOK_SECRET", raising=False)
    with pytest.raises(InputError) as info:
        create_app(_app_settings(tmp_path, "http://127.0.0.1:9"), pipeline=FakePipeline())
    assert info.value.where == "channels.hook.secret_env"


class HeldRouter:
    """Every notice → one alert to `ops`, held for an hour (as quiet hours do)."""

    def for_notice(self, filing: str, report: Any, at: dt.datetime) -> list[Any]:
        from icp_notify.server.outbox import AlertDraft

        return [
            AlertDraft(
                channel="ops",
                event="notice",
                lang="zh",
                urgency=report.advice.urgency,
                report_json=report.model_dump_json(),
                not_before=at + dt.timedelta(hours=1),
            )
        ]

    def for_change(self, filing: str, old: Any, new: Any, at: dt.datetime) -> list[Any]:
        return []


def test_a_held_alert_waits_until_its_time(store: SqliteStore) -> None:
    store.alert_router = HeldRouter()
    _service(store).ingest(filing="shop-example-cn", source="api", text=GENERIC)
    (alert,) = store.list_alerts()[0]
    assert alert.state == "pending"
    assert alert.next_attempt_at is not None
    clock = Clock()
    worker = _worker(store, {"ops": FakeSender("ops")}, clock)
    assert worker.run_once() == 0
    clock.advance(3600 + 1)
    assert worker.run_once() == 1
    assert _states(store) == [("ops", "notice", "delivered", 1)]


def test_a_version_2_database_gains_the_outbox(tmp_path: Path) -> None:
    import sqlite3

    from icp_notify.server.store import MIGRATIONS

    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, statements in MIGRATIONS[:2]:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    conn.commit()
    conn.close()
    s = SqliteStore(path)
    try:
        assert s.schema_version == 3
        s.alert_router = Router(AlertsConfig.from_toml(CONFIG))
        _service(s).ingest(filing="shop-example-cn", source="api", text=GENERIC)
        assert _states(s) == [("ops", "notice", "pending", 0)]
    finally:
        s.close()
