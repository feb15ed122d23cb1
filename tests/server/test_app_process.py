"""The real service: ``icp-notify serve`` in a process, SIGKILLed during a burst of posts.

Every notice that got a 2xx answer must be stored exactly once after a restart.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _helpers import all_notices
from _serve_process import FAKE_ENV, HOST, TOKEN, free_port, start, wait_ready

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


@pytest.fixture
def server_files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "notices.sqlite3", tmp_path / "server.log"


def _text(i: int) -> str:
    kinds = (
        "【工信部】尊敬的用户赵**，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
        "【云栈科技】您的网站 site{i}.example.cn 接入备案已审核通过，已成功接入。",
        "【云栈科技】您的备案申请已提交管局审核，请耐心等待。",
    )
    return f"{kinds[i % 3].format(i=i)}（编号{i}）"


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_and_duplicates_nothing(
    server_files: tuple[Path, Path],
) -> None:
    db, log = server_files
    port = free_port()
    base = f"http://{HOST}:{port}"
    extra: dict[str, str] = {}
    proc = start(db, port, log, extra)
    try:
        if not wait_ready(proc, base, log):
            extra = FAKE_ENV
            proc = start(db, port, log, extra)
            assert wait_ready(proc, base, log)
        acknowledged: dict[int, int] = {}  # notice number → id
        lock = threading.Lock()
        counter = iter(range(1_000_000))
        stop = threading.Event()
        killed = threading.Event()

        def worker() -> None:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
            ) as client:
                while not stop.is_set():
                    with lock:
                        i = next(counter)
                    body = {
                        "filing": f"filing-{i % 4}",
                        "text": _text(i),
                        "sender": "12381",
                        "message_id": f"msg-{i}",
                    }
                    try:
                        r = client.post("/v1/notices", json=body)
                    except httpx.HTTPError:
                        if killed.is_set():
                            return
                        continue
                    if 200 <= r.status_code < 300:
                        with lock:
                            acknowledged[i] = r.json()["id"]

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 15
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight
        killed.set()
        proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=15)
        assert len(acknowledged) >= 20, log.read_text(errors="replace")

        proc = start(db, port, log, extra)
        assert wait_ready(proc, base, log)
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ) as client:
            stored = all_notices(client, limit=500)
            # re-posting an acknowledged notice after the crash returns the same record
            first = min(acknowledged)
            again = client.post(
                "/v1/notices",
                json={
                    "filing": f"filing-{first % 4}",
                    "text": _text(first),
                    "sender": "12381",
                    "message_id": f"msg-{first}",
                },
            )
            assert again.status_code == 200
            assert again.json()["id"] == acknowledged[first]
        by_message = {}
        for item in stored:
            assert item["message_id"] not in by_message, f"duplicate {item['message_id']}"
            by_message[item["message_id"]] = item
        for i, notice_id in acknowledged.items():
            item = by_message.get(f"msg-{i}")
            assert item is not None, f"acknowledged notice {i} lost"
            assert item["id"] == notice_id
            assert item["raw_text"] == _text(i)
        conn = sqlite3.connect(db)
        dupes = conn.execute(
            "SELECT raw_text, COUNT(*) FROM notices GROUP BY raw_text HAVING COUNT(*) > 1"
        ).fetchall()
        conn.close()
        assert dupes == []
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
