"""The service with the real pipeline: the filing's history decides the generic notice."""

from __future__ import annotations

import argparse
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

TOKEN = "pipeline-test-token"
FILING = "京ICP备2031000123号"
PROVIDER_ACCESS = (
    "【腾讯云】尊敬的用户，您的网站 shop-demo.cn 接入备案已审核通过，现已成功接入腾讯云。"
)
GENERIC = "【工信部】尊敬的用户王**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def _pipeline_or_skip() -> None:
    try:
        from icp_notify.pipeline import Pipeline

        Pipeline.default()
    except Exception as exc:  # the model or classifier may not be built in this checkout
        pytest.skip(f"the real pipeline cannot load: {type(exc).__name__}: {exc}")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    _pipeline_or_skip()
    app = create_app(Settings(db=tmp_path / "seq.sqlite3", token=TOKEN))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_readyz_with_the_real_model(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["ready"] is True
    assert body["model_version"]


def test_sequence_access_operation_provider_notice_then_generic_is_access_cancelled(
    client: TestClient,
) -> None:
    op = {
        "kind": "access_domain",
        "submitted_at": "2025-03-01T10:00:00+08:00",
        "domain": "shop-demo.cn",
        "provider": "腾讯云",
        "from_provider": "阿里云",
    }
    assert (
        client.post("/v1/operations", json={"filing": FILING, "operation": op}).status_code == 201
    )
    access = client.post(
        "/v1/notices",
        json={
            "filing": FILING,
            "text": PROVIDER_ACCESS,
            "channel": "sms",
            "sender": "10690000123",
            "received_at": "2025-03-04T10:00:00+08:00",
        },
    )
    assert access.status_code == 201
    assert access.json()["report"]["classification"]["situation"] == "access_domain"
    generic = client.post(
        "/v1/notices",
        json={
            "filing": FILING,
            "text": GENERIC,
            "channel": "sms",
            "sender": "12381",
            "received_at": "2025-03-20T10:00:00+08:00",
        },
    )
    assert generic.status_code == 201
    cls = generic.json()["report"]["classification"]
    assert cls["situation"] == "access_cancelled"
    assert "context" in cls["decided_by"]
    # the same generic notice for a filing with no history stays ambiguous
    alone = client.post(
        "/v1/notices",
        json={"filing": "another", "text": GENERIC, "received_at": "2025-03-20T10:00:00+08:00"},
    )
    assert alone.json()["report"]["classification"]["ambiguous"] is True
    listed = client.get("/v1/notices", params={"filing": FILING, "situation": "access_cancelled"})
    assert [n["id"] for n in listed.json()["items"]] == [generic.json()["id"]]


def test_smsforwarder_template_lines_are_stripped_by_the_parser(client: TestClient) -> None:
    content = f"12381\n{GENERIC}\nSIM1_中国移动_138****0000\nSubId：1\n2025-06-24 09:41:07\nMi-Test"
    r = client.post(
        "/v1/ingest/smsforwarder?filing=f",
        data={"from": "12381", "content": content, "timestamp": "1750729267000"},
    )
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert notice["raw_text"] == content
    parsed = notice["report"]["notice"]
    assert "SIM1" not in parsed["text"]
    assert "SubId" not in parsed["text"]
    assert notice["report"]["classification"]["kind"] == "change_notice_generic"


def test_reclassify_command(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from icp_notify.commands import reclassify

    client.post("/v1/notices", json={"filing": "f", "text": GENERIC})
    client.post("/v1/notices", json={"filing": "f", "text": PROVIDER_ACCESS})
    code = reclassify.run(argparse.Namespace(db=str(tmp_path / "seq.sqlite3"), context_notices=20))
    assert code == 0
    assert capsys.readouterr().out.strip() == "reclassified 2 notices: 0 changed"
