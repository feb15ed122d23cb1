"""The filing's timeline over HTTP, and re-explanation of its stored notices on POST /v1/operations."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's httpx2 deprecation notice
    from fastapi.testclient import TestClient

from icp_notify.server import create_app
from icp_notify.server.settings import Settings

TOKEN = "timeline-test-token"
FILING = "浙ICP备2031000456号"
GENERIC = "【工信部】尊敬的用户钱**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
ACCESS_OP = {
    "kind": "access_domain",
    "submitted_at": "2025-04-02T10:00:00+08:00",
    "domain": "lanshan-tea.cn",
    "provider": "华为云",
    "from_provider": "西部数码",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    try:
        from icp_notify.pipeline import Pipeline

        Pipeline.default()
    except Exception as exc:  # the model may not be built in this checkout
        pytest.skip(f"the real pipeline cannot load: {type(exc).__name__}: {exc}")
    app = create_app(Settings(db=tmp_path / "tl.sqlite3", token=TOKEN))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def _notice(client: TestClient, at: str, text: str = GENERIC) -> dict[str, object]:
    r = client.post(
        "/v1/notices",
        json={"filing": FILING, "text": text, "sender": "12381", "received_at": at},
    )
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def test_a_late_operation_escalates_the_second_notice_to_access_cancelled(
    client: TestClient,
) -> None:
    first = _notice(client, "2025-04-11T09:00:00+08:00")
    second = _notice(client, "2025-06-20T09:00:00+08:00")
    for body in (first, second):
        assert body["report"]["classification"]["ambiguous"] is True  # type: ignore[index]

    r = client.post("/v1/operations", json={"filing": FILING, "operation": ACCESS_OP})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["reexplained"] is True
    changed = {c["notice_id"]: c for c in answer["changed"]}
    assert set(changed) == {first["id"], second["id"]}
    assert changed[first["id"]]["new_situation"] == "access_domain"
    escalation = changed[second["id"]]
    assert escalation["old_situation"] is None
    assert escalation["new_situation"] == "access_cancelled"
    assert escalation["new_urgency"] == "critical"
    assert "原接入商取消接入" in escalation["why"]

    # the stored reports changed too
    stored = client.get(f"/v1/notices/{second['id']}").json()
    assert stored["report"]["classification"]["situation"] == "access_cancelled"

    # registering the same operation again changes nothing more
    again = client.post("/v1/operations", json={"filing": FILING, "operation": ACCESS_OP})
    assert again.status_code == 200
    assert again.json()["changed"] == []


def test_timeline_attributes_every_notice(client: TestClient) -> None:
    client.post("/v1/operations", json={"filing": FILING, "operation": ACCESS_OP})
    a = _notice(client, "2025-04-11T09:00:00+08:00")
    b = _notice(client, "2025-06-20T09:00:00+08:00")
    r = client.get(f"/v1/filings/{FILING}/timeline")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["notice_ids"] == [a["id"], b["id"]]
    tl = body["timeline"]
    assert tl["time_zone"] == "Asia/Shanghai"
    first, second = tl["notices"]
    assert (first["situation"], first["rule"], first["operation"]) == (
        "access_domain",
        "recent_operations",
        "operations[0]",
    )
    assert (second["situation"], second["rule"], second["cause"]) == (
        "access_cancelled",
        "completed_move",
        "cancellation",
    )
    assert second["related"] == ["notices[0]"]
    op = tl["operations"][0]
    assert op["explained"] == "notices[0]"
    assert op["cancelled_by"] == "notices[1]"


def test_timeline_of_an_unknown_filing_is_empty(client: TestClient) -> None:
    body = client.get("/v1/filings/nothing-here/timeline").json()
    assert body["notice_ids"] == []
    assert body["timeline"]["notices"] == []


def test_timeline_needs_the_token(client: TestClient) -> None:
    r = client.get(f"/v1/filings/{FILING}/timeline", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_operations_past_the_documented_limit_are_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import icp_notify.server.explain as explain_module

    monkeypatch.setattr(explain_module, "MAX_OPERATIONS", 2)
    for day in ("01", "02"):
        op = {**ACCESS_OP, "submitted_at": f"2025-04-{day}T10:00:00+08:00"}
        assert (
            client.post("/v1/operations", json={"filing": FILING, "operation": op}).status_code
            == 201
        )
    op = {**ACCESS_OP, "submitted_at": "2025-04-03T10:00:00+08:00"}
    r = client.post("/v1/operations", json={"filing": FILING, "operation": op})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "too_many"
    assert len(client.get(f"/v1/operations?filing={FILING}").json()["items"]) == 2


def test_an_escalation_by_a_late_operation_sends_a_follow_up_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /v1/operations re-explains the filing through NoticeService.replace_report, whose
    store update queues the follow-up: the escalation to access_cancelled reaches the outbox
    as an alert that says what changed (the receiver is down, so it waits there)."""
    try:
        from icp_notify.pipeline import Pipeline

        Pipeline.default()
    except Exception as exc:
        pytest.skip(f"the real pipeline cannot load: {type(exc).__name__}: {exc}")
    monkeypatch.setenv("ICPN_TL_HOOK_SECRET", "whsec-example")
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        """
[delivery]
poll_s = 30
[channels.ops]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret_env = "ICPN_TL_HOOK_SECRET"
[[routes]]
channels = ["ops"]
min_urgency = "critical"
""",
        encoding="utf-8",
    )
    settings = Settings(db=tmp_path / "esc.sqlite3", token=TOKEN, alerts=alerts)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        _notice(c, "2025-04-11T09:00:00+08:00")
        second = _notice(c, "2025-06-20T09:00:00+08:00")
        # an unexplained generic notice may be the cancellation: each alerts as critical
        before = c.get("/v1/alerts", params={"filing": FILING}).json()["items"]
        assert {a["event"] for a in before} == {"notice"}
        r = c.post("/v1/operations", json={"filing": FILING, "operation": ACCESS_OP})
        assert r.status_code == 201, r.text
        after = c.get("/v1/alerts", params={"filing": FILING}).json()["items"]
        follow_ups = [a for a in after if a["event"] != "notice"]
        assert [(a["notice_id"], a["urgency"]) for a in follow_ups] == [(second["id"], "critical")]
        assert follow_ups[0]["event"] == ("escalation:critical>critical:ambiguous>access_cancelled")
