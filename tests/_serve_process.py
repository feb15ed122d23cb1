"""``icp-notify serve`` in a process, for the tests that kill it (``from _serve_process import …``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _helpers import ROOT

httpx = pytest.importorskip("httpx")

TOKEN = "process-test-token"
HOST = "127.0.0.1"
# used when the real classification pipeline cannot load (e.g. no model artefact): the
# crash-safety property does not depend on the model, so the test's fake pipeline stands in
FAKE_ENV = {
    "ICP_NOTIFY_PIPELINE": "_server_fakes:FakePipeline",
    "PYTHONPATH": str(ROOT / "tests"),
}  # e.g. ICP_NOTIFY_PIPELINE=<module:factory> when debugging


def free_port() -> int:
    """A free TCP port on :data:`HOST`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start(db: Path, port: int, log: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """``icp-notify serve`` on ``port`` with the database ``db``, its output appended to ``log``."""
    env = {**os.environ, "ICP_NOTIFY_TOKEN": TOKEN, **extra}
    with log.open("ab") as out:
        return subprocess.Popen(
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
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 25) -> bool:
    """Wait for /readyz; ``False`` (process stopped) when the pipeline cannot load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            r = httpx.get(f"{base}/readyz", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        if r.status_code == 200:
            return True
        if r.status_code == 503 and not r.json()["pipeline_loaded"]:
            proc.kill()
            proc.wait()
            return False
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"server not ready after {timeout} s:\n{log.read_text(errors='replace')}")
