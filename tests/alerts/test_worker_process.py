"""The real service with ``--alerts``, SIGKILLed while an alert is being delivered to a real
HTTP receiver on 127.0.0.1, then restarted: every alert arrives at least once, each with its
idempotency key, and no alert whose 2xx was recorded is sent again."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from _alert_receiver import OK, Received, receiver
from _serve_process import FAKE_ENV, HOST, TOKEN, free_port, start, wait_ready

httpx = pytest.importorskip("httpx")

N = 8
HOLD_AT = 3  # the receiver holds the 3rd request open until the server is killed


def _alerts(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT idempotency_key, state FROM alerts").fetchall())
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_during_delivery_loses_nothing_and_resends_nothing_delivered(
    tmp_path: Path,
) -> None:
    db, log = tmp_path / "notices.sqlite3", tmp_path / "server.log"
    in_flight, release = threading.Event(), threading.Event()
    count = 0
    lock = threading.Lock()

    def respond(req: Received) -> tuple[int, dict[str, str], bytes]:
        nonlocal count
        with lock:
            count += 1
            mine = count
        if mine == HOLD_AT:
            in_flight.set()
            release.wait(15)  # bounded: the test releases it right after the kill
        return OK

    with receiver(respond) as rx:
        alerts_file = tmp_path / "alerts.toml"
        alerts_file.write_text(
            f"""
[delivery]
poll_s = 0.05
backoff_base_s = 0.05
backoff_cap_s = 0.5
timeout_s = 20

[channels.hook]
type = "webhook"
url = "{rx.url}/alerts"
secret_env = "ICPN_PROCESS_HOOK_SECRET"

[[routes]]
channels = ["hook"]
min_urgency = "info"
""",
            encoding="utf-8",
        )
        env = {
            **FAKE_ENV,
            "ICP_NOTIFY_ALERTS": str(alerts_file),
            "ICPN_PROCESS_HOOK_SECRET": "whsec-process",
        }
        port = free_port()
        base = f"http://{HOST}:{port}"
        proc = start(db, port, log, env)
        try:
            assert wait_ready(proc, base, log)
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
            ) as client:
                for i in range(N):
                    r = client.post(
                        "/v1/notices",
                        json={
                            "filing": "shop-example-cn",
                            "text": f"【云栈科技】您的网站 site{i}.example.cn 接入备案已审核通过。",
                            "message_id": f"m-{i}",
                        },
                    )
                    assert r.status_code == 201, r.text
            assert in_flight.wait(20), log.read_text(errors="replace")
            proc.send_signal(signal.SIGKILL)  # while request HOLD_AT is open
            proc.wait(timeout=10)
            release.set()
            before = _alerts(db)
            assert len(before) == N
            delivered_before = {k for k, s in before.items() if s == "delivered"}
            assert "sending" in before.values()  # the alert in flight was not recorded
            assert len(delivered_before) == HOLD_AT - 1

            proc = start(db, port, log, env)
            assert wait_ready(proc, base, log)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                after = _alerts(db)
                if all(s == "delivered" for s in after.values()):
                    break
                time.sleep(0.05)
            assert set(after.values()) == {"delivered"}, after
        finally:
            release.set()
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)

    received = Counter(r.headers["idempotency-key"] for r in rx.requests)
    assert set(received) == set(after)  # every alert at least once
    for key in delivered_before:
        assert received[key] == 1, f"{key} was re-sent after its 2xx was recorded"
    repeated = {k for k, n in received.items() if n > 1}
    assert repeated
    assert repeated.isdisjoint(delivered_before)
    assert max(received.values()) == 2
    for r in rx.requests:  # each delivery is signed and carries its key in the body too
        assert r.json()["idempotency_key"] == r.headers["idempotency-key"]  # type: ignore[index]
