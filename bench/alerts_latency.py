"""How long until the operator hears: POST /v1/notices → the alert reaches a webhook receiver.

Starts ``icp-notify serve --alerts`` (the real pipeline) on loopback with a webhook channel
pointing at a receiver in this process, posts ``--count`` notices that route (a provider's
access cancellation, urgency ``critical``) one by one, and prints the POST latency and the
time from the POST's 2xx to the receiver seeing the alert (median, p95, max). Then the same
POSTs without ``--alerts``, to show what the outbox row adds to the notice's transaction.

    .venv/bin/python bench/alerts_latency.py --count 100

Nothing here is a test; figures go into docs/server.md ("Alerts").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from _alert_receiver import OK, Received, receiver  # noqa: E402
from _serve_process import HOST, TOKEN, free_port  # noqa: E402

TEXT = (
    "【阿里云】尊敬的用户，您的网站 shop{i}.example.cn 已在阿里云完成取消接入。"
    "如网站已迁移至其他接入商，请确认新接入商处的接入备案已通过，否则您的备案可能被注销。"
)


def _serve(db: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "icp_notify.cli", "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--db", str(db), "--log-level", "warning"]
    return subprocess.Popen(cmd, env={**os.environ, "ICP_NOTIFY_TOKEN": TOKEN, **env})


def _ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server not ready")


def _pct(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms"


def run(count: int, alerts: bool, tmp: Path) -> None:
    arrived: dict[str, float] = {}

    def respond(req: Received) -> tuple[int, dict[str, str], bytes]:
        body = req.json()
        assert isinstance(body, dict)
        arrived[str(body["notice_text"])] = time.monotonic()
        return OK

    with receiver(respond) as rx:
        env: dict[str, str] = {}
        if alerts:
            cfg = tmp / "alerts.toml"
            cfg.write_text(
                f'[channels.hook]\ntype = "webhook"\nurl = "{rx.url}/a"\n'
                '[[routes]]\nchannels = ["hook"]\n',
                encoding="utf-8",
            )
            env["ICP_NOTIFY_ALERTS"] = str(cfg)
        port = free_port()
        base = f"http://{HOST}:{port}"
        proc = _serve(tmp / f"bench-{alerts}.sqlite3", port, env)
        try:
            _ready(base)
            posts, sent = [], {}
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
                for i in range(count):
                    text = TEXT.format(i=i)
                    t0 = time.monotonic()
                    r = c.post("/v1/notices", json={"filing": "shop-example-cn", "text": text})
                    t1 = time.monotonic()
                    assert r.status_code == 201, r.text
                    posts.append(t1 - t0)
                    sent[text] = t1
                    time.sleep(0.05)
            print(f"alerts={'on ' if alerts else 'off'} POST /v1/notices: {_pct(posts)}")
            if alerts:
                deadline = time.monotonic() + 30
                while len(arrived) < count and time.monotonic() < deadline:
                    time.sleep(0.05)
                lags = [arrived[t] - sent[t] for t in sent if t in arrived]
                print(f"  2xx → receiver ({len(lags)}/{count} arrived): {_pct(lags)}")
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args.count, True, Path(tmp))
        run(args.count, False, Path(tmp))


if __name__ == "__main__":
    main()
