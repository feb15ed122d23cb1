"""Load test of the real service on 127.0.0.1 (bounded: it stops by itself).

Starts ``icp-notify serve`` on a free loopback port with a temporary database (one uvicorn
worker), then sends a paced, realistic mix for ``--duration`` seconds over ``--connections``
connections: ``--analyze-rate`` requests per second to ``POST /v1/analyze`` and
``--notices-rate`` to ``POST /v1/notices`` (MIIT generic notices, provider approvals,
verification codes, marketing, SmsForwarder-wrapped texts; every tenth notice a re-post).
Latency is measured from each request's *scheduled* time, so a stalled server is not hidden.
At the end every acknowledged notice is looked up in the database: lost or duplicated notices
are reported.

Usage::

    .venv/bin/python bench/server_load.py --duration 30 --connections 32 \\
        --analyze-rate 200 --notices-rate 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
TOKEN = "bench-token"

TEXTS = [
    "【工信部】尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    "【云栈科技】尊敬的用户，您的网站 shop{n}.example.cn 接入备案已审核通过，已成功接入。",
    "【云栈科技】您的新增网站备案 blog{n}.example.cn 已审核通过，备案号京ICP备20310{n:05d}号-2。",
    "【工信部】您的短信核验码为{code}，请于24小时内登录 https://beian.miit.gov.cn 完成核验。",
    "【云栈科技】您的备案申请已提交管局审核，预计20个工作日内完成，请耐心等待。",
    "【云栈科技】双十一上云特惠，备案服务器低至99元/年，回T退订",
    "12381\n【工信部】尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。\n"
    "SIM1_中国移动_138****0000\nSubId：1\n2025-06-24 09:41:07\nMi-Bench",
    "【安盾CDN】您的域名 cdn{n}.example.cn 已成功接入加速服务。",
]
NAMES = ["王**", "李*", "XX", "张**", "陈*明"]


def _text(rng: random.Random, n: int) -> str:
    return rng.choice(TEXTS).format(name=rng.choice(NAMES), n=n, code=rng.randrange(100000, 999999))


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)

    def add_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def line(self, name: str, seconds: float) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{name}: no answers; errors {self.errors}"
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        n_err = sum(self.errors.values())
        return (
            f"| `{name}` | {len(lat) / seconds:.1f} | {p50:.1f} | {p99:.1f} | {max(lat) * 1000:.1f}"
            f" | {n_err} | {dict(sorted(self.statuses.items()))} |"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                r = await client.get(f"{base}/readyz")
                if r.status_code == 200:
                    body: dict[str, object] = r.json()
                    return body
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server not ready after 60 s")


async def _run(args: argparse.Namespace, base: str) -> tuple[Stats, Stats, dict[str, int], float]:
    rng = random.Random(args.seed)
    stats = {"analyze": Stats(), "notices": Stats()}
    acknowledged: dict[str, int] = {}  # message_id → id
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    slots = asyncio.Semaphore(args.connections)
    plan: list[tuple[float, str, dict[str, object]]] = []
    for kind, rate in (("analyze", args.analyze_rate), ("notices", args.notices_rate)):
        if rate <= 0:
            continue
        for i in range(int(rate * args.duration)):
            n = i if kind == "analyze" else (i - 1 if i % 10 == 9 else i)  # every 10th: a re-post
            text = _text(random.Random(f"{kind}-{n}"), n)
            if kind == "analyze":
                body: dict[str, object] = {"text": text, "channel": "sms", "sender": "12381"}
            else:
                body = {
                    "filing": f"bench-filing-{n % 20}",
                    "text": text,
                    "channel": "sms",
                    "sender": "12381",
                    "message_id": f"bench-{n}",
                }
            plan.append((i / rate + rng.random() * 0.001, kind, body))
    plan.sort(key=lambda item: item[0])

    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        start = time.perf_counter()

        async def one(at: float, kind: str, body: dict[str, object]) -> None:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            async with slots:
                try:
                    r = await client.post(f"/v1/{kind}", json=body)
                except httpx.HTTPError as exc:
                    stats[kind].add_error(type(exc).__name__)
                    return
            stats[kind].latencies.append(time.perf_counter() - (start + at))
            stats[kind].statuses[r.status_code] = stats[kind].statuses.get(r.status_code, 0) + 1
            if r.status_code >= 300:
                stats[kind].add_error(str(r.status_code))
            elif kind == "notices":
                acknowledged[str(body["message_id"])] = r.json()["id"]

        await asyncio.gather(*(one(at, kind, body) for at, kind, body in plan))
        elapsed = time.perf_counter() - start
    return stats["analyze"], stats["notices"], acknowledged, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (max 120)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--analyze-rate", type=float, default=200.0, help="req/s to /v1/analyze")
    parser.add_argument("--notices-rate", type=float, default=50.0, help="req/s to /v1/notices")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.duration = min(args.duration, 120.0)

    workdir = Path(tempfile.mkdtemp(prefix="icp-notify-bench-"))
    db = workdir / "bench.sqlite3"
    port = _free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, "ICP_NOTIFY_TOKEN": TOKEN}
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "icp_notify.cli",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--db",
            str(db),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready = asyncio.run(_wait_ready(base, proc))
        analyze, notices, acknowledged, elapsed = asyncio.run(_run(args, base))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT message_id, id FROM notices").fetchall()
    dupes = conn.execute(
        "SELECT COUNT(*) FROM (SELECT message_id FROM notices GROUP BY message_id HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    conn.close()
    stored = dict(rows)
    lost = sum(1 for mid, nid in acknowledged.items() if stored.get(mid) != nid)

    cpu = os.cpu_count()
    print(f"server: 1 uvicorn worker on {HOST}, model {ready.get('model_version')}, {cpu} CPUs")
    print(
        f"load: {args.duration:.0f} s, {args.connections} connections, "
        f"paced {args.analyze_rate:g} + {args.notices_rate:g} req/s (ran {elapsed:.1f} s)"
    )
    print()
    print("| route | req/s | p50 ms | p99 ms | max ms | errors | statuses |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(analyze.line("POST /v1/analyze", elapsed))
    print(notices.line("POST /v1/notices", elapsed))
    print()
    print(
        f"notices acknowledged: {len(acknowledged)} distinct, stored: {len(stored)}, "
        f"lost: {lost}, duplicated: {dupes}"
    )
    bad = lost or dupes or analyze.errors or notices.errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
