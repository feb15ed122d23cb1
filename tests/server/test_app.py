"""HTTP service: every route, status code and error, with a fake pipeline (no model needed)."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from _helpers import ROOT, all_notices
from _server_fakes import GENERIC, PROVIDER_ACCESS, SECRET, TOKEN, FakePipeline

pytest.importorskip("fastapi")
with warnings.catch_warnings():
    # starlette >= 1.x asks for the `httpx2` fork; httpx works the same for the TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from icp_notify.errors import InputError
from icp_notify.models import (
    Context,
    Report,
    Situation,
)
from icp_notify.server import create_app
from icp_notify.server.service import NoticeService
from icp_notify.server.settings import Settings
from icp_notify.server.store import MIGRATIONS, SqliteStore
from icp_notify.server.webhooks import smsforwarder_sign

VECTOR_TS = 1_700_000_000_000
VECTOR_SIGN = "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0="
TEMPLATE = "12381\n{sms}\nSIM1_中国移动_138****0000\nSubId：1\n2025-06-24 09:41:07\nMi-Test-Phone"


class BrokenPipeline:
    def analyze(self, data: str, **kw: Any) -> Report:
        raise RuntimeError("model missing")


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(db=tmp_path / "n.sqlite3", **kw)


@pytest.fixture
def fake() -> FakePipeline:
    return FakePipeline()


@pytest.fixture
def client(tmp_path: Path, fake: FakePipeline) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path, token=TOKEN), pipeline=fake)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


@pytest.fixture
def hook(tmp_path: Path, fake: FakePipeline) -> Iterator[TestClient]:
    """A client with a signing secret and a clock fixed 5 s after the test vector."""
    app = create_app(
        _settings(tmp_path, token=TOKEN, smsforwarder_secret=SECRET),
        pipeline=fake,
        clock=lambda: VECTOR_TS / 1000 + 5,
    )
    with TestClient(app) as c:
        yield c


def _error(response: Any, status: int, code: str, where: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    err = response.json()["error"]
    assert err["code"] == code, err
    if where is not None:
        assert err["where"] == where, err
    return err  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- health, auth


def test_healthz_needs_no_token(client: TestClient) -> None:
    r = client.get("/healthz", headers={"Authorization": ""})
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readyz_reports_store_pipeline_and_model(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["ready"]
    assert body["store_writable"]
    assert body["pipeline_loaded"]
    assert body["model_version"] == "fake-1"
    assert body["schema_version"] == MIGRATIONS[-1][0]


def test_readyz_is_503_when_the_pipeline_fails(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path), pipeline=BrokenPipeline())  # type: ignore[arg-type]
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["pipeline_loaded"] is False


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic czNjcmV0", f"bearer{TOKEN}"])
def test_v1_routes_need_the_token(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {"Authorization": ""}
    for method, path in [
        ("post", "/v1/analyze"),
        ("post", "/v1/notices"),
        ("get", "/v1/notices"),
        ("get", "/v1/notices/1"),
        ("post", "/v1/operations"),
        ("get", "/v1/operations?filing=x"),
        ("post", "/v1/ingest/generic"),
        ("post", "/v1/ingest/smsforwarder"),
    ]:
        r = getattr(client, method)(
            path, headers=headers, **({"json": {}} if method == "post" else {})
        )
        _error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"


def test_refuses_non_loopback_without_token(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        create_app(_settings(tmp_path, host="0.0.0.0"), pipeline=FakePipeline())
    assert info.value.code == "no_token"
    create_app(_settings(tmp_path, host="0.0.0.0", token="t"), pipeline=FakePipeline())


def test_settings_from_environment(tmp_path: Path) -> None:
    env = {
        "ICP_NOTIFY_TOKEN": "abc",
        "ICP_NOTIFY_MAX_BODY_BYTES": "4096",
        "ICP_NOTIFY_TIMESTAMP_WINDOW_S": "60",
        "ICP_NOTIFY_GENERIC_FIELDS": '{"text": ["msg_body"]}',
        "ICP_NOTIFY_DB": str(tmp_path / "x.db"),
    }
    s = Settings.from_env(env, port=9001)
    assert s.token is not None
    assert s.token.get_secret_value() == "abc"
    assert (s.max_body_bytes, s.timestamp_window_s, s.port) == (4096, 60, 9001)
    assert s.generic_fields["text"] == ("msg_body",)
    assert s.generic_fields["sender"][0] == "from"
    with pytest.raises(InputError, match="ICP_NOTIFY_PORT"):
        Settings.from_env({"ICP_NOTIFY_PORT": "eighty"})
    with pytest.raises(InputError, match="unknown field"):
        Settings.from_env({"ICP_NOTIFY_GENERIC_FIELDS": '{"subject": ["s"]}'})


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "server.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"ICP_NOTIFY_{name.upper()}" in doc, name


# ----------------------------------------------------------------------------- analyze


def test_analyze_returns_the_report_and_stores_nothing(client: TestClient) -> None:
    r = client.post("/v1/analyze", json={"text": PROVIDER_ACCESS, "channel": "sms"})
    assert r.status_code == 200
    report = Report.model_validate(r.json())
    assert report.classification.situation == Situation.ACCESS_DOMAIN
    assert client.get("/v1/notices").json()["items"] == []


def test_analyze_runs_long_texts_off_the_event_loop(client: TestClient, fake: FakePipeline) -> None:
    from icp_notify.server.app import INLINE_ANALYZE_CHARS

    long_text = PROVIDER_ACCESS + "。" * (INLINE_ANALYZE_CHARS - len(PROVIDER_ACCESS) + 1)
    for text in (PROVIDER_ACCESS, long_text, PROVIDER_ACCESS):
        r = client.post("/v1/analyze", json={"text": text})
        assert r.status_code == 200, r.text
        assert r.json()["classification"]["situation"] == "access_domain"
    loop, worker, loop_again = fake.threads[-3:]  # (start-up warm-up calls come first)
    assert loop == loop_again  # short texts: the event loop's own thread
    assert worker != loop  # a long text: a thread-pool worker, so the loop stays free


def test_analyze_passes_the_given_context(client: TestClient, fake: FakePipeline) -> None:
    ctx = {
        "operations": [{"kind": "access_domain", "submitted_at": "2025-03-01T10:00:00"}],
        "previous_notices": [{"text": PROVIDER_ACCESS, "received_at": "2025-03-03T10:00:00"}],
    }
    r = client.post("/v1/analyze", json={"text": GENERIC, "context": ctx})
    assert r.json()["classification"]["situation"] == "access_cancelled"
    assert fake.contexts[-1] is not None
    assert len(fake.contexts[-1].operations) == 1


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({}, "invalid_field", "body.text"),
        ({"text": ""}, "invalid_field", "body.text"),
        ({"text": "x", "channel": "fax"}, "invalid_field", "body.channel"),
        ({"text": "x", "received_at": "yesterday"}, "invalid_field", "body.received_at"),
        ({"text": "x", "colour": "red"}, "invalid_field", "body.colour"),
        ({"text": "x", "lang": "fr"}, "invalid_field", "body.lang"),
        ({"text": "x", "context": {"operations": [{"kind": "cook"}]}}, "invalid_field", None),
        ({"text": "   "}, "empty", "text"),
        ({"text": "备案" * 20_001}, "too_long", "text"),
    ],
)
def test_analyze_client_mistakes_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], code: str, where: str | None
) -> None:
    err = _error(client.post("/v1/analyze", json=body), 422, code, where)
    assert err["message"]


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b'{"text": "x",', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"text=x", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies_are_422_never_500(client: TestClient, content: bytes, ctype: str) -> None:
    for path in ("/v1/analyze", "/v1/notices", "/v1/operations"):
        r = client.post(path, content=content, headers={"Content-Type": ctype})
        assert r.status_code == 422, (path, content, r.text)
        assert r.json()["error"]["where"]


def test_body_cap_by_content_length_and_by_streamed_size(client: TestClient) -> None:
    big = json.dumps({"text": "备" * 100_000}).encode()  # 300 kB > 256 KiB
    _error(
        client.post("/v1/analyze", content=big, headers={"Content-Type": "application/json"}),
        413,
        "too_large",
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for i in range(0, len(big), 16_384):
            yield big[i : i + 16_384]

    _error(
        client.post("/v1/analyze", content=chunks(), headers={"Content-Type": "application/json"}),
        413,
        "too_large",
    )
    _error(
        client.post(
            "/v1/ingest/smsforwarder",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        413,
        "too_large",
    )


def test_unknown_route_and_method_are_json_errors(client: TestClient) -> None:
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.delete("/v1/notices/1"), 405, "method_not_allowed")


def test_openapi_carries_the_pydantic_schemas(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in (
        "Report",
        "Classification",
        "StoredNotice",
        "NoticePage",
        "IngestResult",
        "NoticeIn",
        "AnalyzeRequest",
        "OperationIn",
        "ErrorBody",
        "Readiness",
    ):
        assert name in schemas, name
    post = spec["paths"]["/v1/notices"]["post"]
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StoredNotice"
    )
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


# ----------------------------------------------------------------------------- notices


def test_post_notice_is_stored_exactly_and_idempotent(client: TestClient) -> None:
    raw = "  " + GENERIC + "\r\n回T退订 😀\t"
    body = {
        "filing": "京ICP备2024012345号",
        "text": raw,
        "sender": "12381",
        "received_at": "2025-03-05T09:00:00+08:00",
        "channel": "sms",
    }
    first = client.post("/v1/notices", json=body)
    assert first.status_code == 201, first.text
    record = first.json()
    assert record["raw_text"] == raw
    assert record["filing"] == "京ICP备2024012345号"
    assert record["source"] == "api"
    assert record["report"]["classification"]["ambiguous"] is True
    again = client.post("/v1/notices", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == record["id"]
    later = client.post("/v1/notices", json={**body, "received_at": "2025-03-06T09:00:00+08:00"})
    assert later.status_code == 201
    assert client.get(f"/v1/notices/{record['id']}").json() == record
    assert len(client.get("/v1/notices").json()["items"]) == 2


def test_message_id_decides_idempotency(client: TestClient) -> None:
    a = client.post("/v1/notices", json={"filing": "f", "text": GENERIC, "message_id": "m-1"})
    b = client.post("/v1/notices", json={"filing": "f", "text": GENERIC + "!", "message_id": "m-1"})
    c = client.post("/v1/notices", json={"filing": "f", "text": GENERIC, "message_id": "m-2"})
    assert (a.status_code, b.status_code, c.status_code) == (201, 200, 201)
    assert b.json()["raw_text"] == GENERIC


def test_get_notice_errors(client: TestClient) -> None:
    _error(client.get("/v1/notices/999"), 404, "not_found", "notice_id")
    _error(client.get("/v1/notices/abc"), 422, "invalid_field", "path.notice_id")


def test_notices_are_classified_with_the_filing_context(
    client: TestClient, fake: FakePipeline
) -> None:
    filing = "京ICP备2024012345号"
    op = {
        "kind": "access_domain",
        "submitted_at": "2025-03-01T10:00:00+08:00",
        "domain": "shop-demo.cn",
        "provider": "云栈科技",
        "from_provider": "老云",
    }
    assert (
        client.post("/v1/operations", json={"filing": filing, "operation": op}).status_code == 201
    )
    r1 = client.post(
        "/v1/notices",
        json={
            "filing": filing,
            "text": PROVIDER_ACCESS,
            "received_at": "2025-03-03T10:00:00+08:00",
        },
    )
    assert r1.json()["report"]["classification"]["situation"] == "access_domain"
    # a different filing does not see that history
    other = client.post("/v1/notices", json={"filing": "other", "text": GENERIC})
    assert other.json()["report"]["classification"]["situation"] is None
    r2 = client.post(
        "/v1/notices",
        json={"filing": filing, "text": GENERIC, "received_at": "2025-05-20T10:00:00+08:00"},
    )
    assert r2.status_code == 201
    assert r2.json()["report"]["classification"]["situation"] == "access_cancelled"
    ctx = fake.contexts[-1]
    assert ctx is not None
    assert [o.domain for o in ctx.operations] == ["shop-demo.cn"]
    assert [p.text for p in ctx.previous_notices] == [PROVIDER_ACCESS]


def test_list_filters_and_cursor_pagination(client: TestClient) -> None:
    for day in range(1, 8):
        text = GENERIC if day % 2 else PROVIDER_ACCESS
        r = client.post(
            "/v1/notices",
            json={
                "filing": "a" if day < 6 else "b",
                "text": text,
                "received_at": f"2025-03-0{day}T09:00:00+08:00",
            },
        )
        assert r.status_code == 201
    seen = [n["id"] for n in all_notices(client, limit=3)]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 7
    assert len(client.get("/v1/notices", params={"filing": "b"}).json()["items"]) == 2
    amb = client.get("/v1/notices", params={"situation": "ambiguous", "filing": "a"}).json()
    assert len(amb["items"]) == 3
    acc = client.get("/v1/notices", params={"situation": "access_domain"}).json()
    assert len(acc["items"]) == 3
    assert len(client.get("/v1/notices", params={"urgency": "high"}).json()["items"]) == 4
    window = client.get(
        "/v1/notices", params={"since": "2025-03-02T00:00:00+08:00", "until": "2025-03-04T00:00:00"}
    ).json()
    assert [n["received_at"][:10] for n in window["items"]] == ["2025-03-03", "2025-03-02"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"situation": "maybe"}, "query.situation"),
        ({"urgency": "asap"}, "query.urgency"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"since": "last week"}, "query.since"),
    ],
)
def test_list_bad_parameters_are_422(
    client: TestClient, params: dict[str, Any], where: str
) -> None:
    _error(client.get("/v1/notices", params=params), 422, "invalid_field", where)


# ----------------------------------------------------------------------------- operations


def test_operations_register_idempotently_and_list(client: TestClient) -> None:
    op = {"kind": "new_domain", "submitted_at": "2025-03-01T10:00:00", "domain": "例子.中国"}
    a = client.post("/v1/operations", json={"filing": "f", "operation": op})
    b = client.post("/v1/operations", json={"filing": "f", "operation": op})
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["id"] == b.json()["id"]
    assert a.json()["operation"]["submitted_at"] == "2025-03-01T10:00:00+08:00"
    items = client.get("/v1/operations", params={"filing": "f"}).json()["items"]
    assert [i["operation"]["domain"] for i in items] == ["例子.中国"]
    assert client.get("/v1/operations", params={"filing": "g"}).json()["items"] == []


def test_operation_errors(client: TestClient) -> None:
    _error(client.get("/v1/operations"), 422, "invalid_field", "query.filing")
    bad_kind = {
        "filing": "f",
        "operation": {"kind": "access_cancelled", "submitted_at": "2025-03-01"},
    }
    _error(
        client.post("/v1/operations", json=bad_kind), 422, "invalid_field", "body.operation.kind"
    )
    _error(
        client.post("/v1/operations", json={"filing": "", "operation": {}}), 422, "invalid_field"
    )


# ----------------------------------------------------------------------------- SmsForwarder


def _form(
    sms: str = GENERIC, ts: int = VECTOR_TS, sign: str | None = VECTOR_SIGN, sender: str = "12381"
) -> dict[str, str]:
    body = {"from": sender, "content": TEMPLATE.format(sms=sms), "timestamp": str(ts)}
    if sign is not None:
        body["sign"] = sign
    return body


def test_smsforwarder_form_as_the_app_posts_it(hook: TestClient) -> None:
    # the app URL-encodes the sign itself, then the HTTP client form-encodes the field again
    body = urlencode(_form(sign=quote(VECTOR_SIGN, safe="")))
    r = hook.post(
        "/v1/ingest/smsforwarder?filing=team-a",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["status"] == "stored"
    notice = result["notice"]
    assert notice["filing"] == "team-a"
    assert notice["source"] == "smsforwarder"
    assert notice["sender"] == "12381"
    assert notice["channel"] == "sms"
    assert notice["raw_text"] == TEMPLATE.format(sms=GENERIC)  # exactly as received
    assert notice["received_at"] is not None


@pytest.mark.parametrize("encodings", [0, 1, 2])
def test_smsforwarder_sign_raw_or_encoded_once_or_twice(hook: TestClient, encodings: int) -> None:
    sign = VECTOR_SIGN
    for _ in range(encodings):
        sign = quote(sign, safe="")
    r = hook.post("/v1/ingest/smsforwarder", data=_form(sign=sign))
    assert r.status_code == 201, r.text
    assert r.json()["notice"]["filing"] == "default"


def test_smsforwarder_json_template_prefers_org_content(hook: TestClient) -> None:
    payload = {
        "from": "12381",
        "content": TEMPLATE.format(sms=GENERIC),
        "org_content": GENERIC,
        "timestamp": VECTOR_TS,
        "sign": VECTOR_SIGN,
        "device_mark": "Mi-Test-Phone",
    }
    r = hook.post("/v1/ingest/smsforwarder?filing=f", json=payload)
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert notice["raw_text"] == GENERIC
    assert notice["extra"]["content"].startswith("12381\n")
    assert notice["extra"]["device_mark"] == "Mi-Test-Phone"


def test_smsforwarder_replay_is_409(hook: TestClient) -> None:
    assert hook.post("/v1/ingest/smsforwarder", data=_form()).status_code == 201
    _error(hook.post("/v1/ingest/smsforwarder", data=_form()), 409, "replay")
    # the same pair with another message is a replay too
    _error(hook.post("/v1/ingest/smsforwarder", data=_form(sms=PROVIDER_ACCESS)), 409, "replay")


def test_smsforwarder_retry_with_new_signature_is_a_duplicate(hook: TestClient) -> None:
    first = hook.post("/v1/ingest/smsforwarder", data=_form())
    ts = VECTOR_TS + 30_000
    retry = hook.post(
        "/v1/ingest/smsforwarder", data=_form(ts=ts, sign=smsforwarder_sign(SECRET, ts))
    )
    assert retry.status_code == 200
    assert retry.json()["status"] == "duplicate"
    assert retry.json()["notice"]["id"] == first.json()["notice"]["id"]


def test_smsforwarder_stale_timestamp(hook: TestClient) -> None:
    ts = VECTOR_TS - 3_600_000 - 10_000
    err = _error(
        hook.post("/v1/ingest/smsforwarder", data=_form(ts=ts, sign=smsforwarder_sign(SECRET, ts))),
        401,
        "stale_timestamp",
        "timestamp",
    )
    assert "window 3600" in err["message"]
    future = VECTOR_TS + 2 * 3_600_000
    _error(
        hook.post(
            "/v1/ingest/smsforwarder", data=_form(ts=future, sign=smsforwarder_sign(SECRET, future))
        ),
        401,
        "stale_timestamp",
    )


def test_smsforwarder_bad_or_missing_sign(hook: TestClient) -> None:
    _error(
        hook.post(
            "/v1/ingest/smsforwarder", data=_form(sign=smsforwarder_sign("other", VECTOR_TS))
        ),
        401,
        "bad_signature",
        "sign",
    )
    _error(hook.post("/v1/ingest/smsforwarder", data=_form(ts=VECTOR_TS + 1)), 401, "bad_signature")
    _error(hook.post("/v1/ingest/smsforwarder", data=_form(sign=None)), 401, "unauthorized")
    # the token works instead of a signature
    r = hook.post(
        "/v1/ingest/smsforwarder",
        data=_form(sign=None),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 201


def test_smsforwarder_without_token_but_with_secret_requires_sign(tmp_path: Path) -> None:
    app = create_app(
        _settings(tmp_path, smsforwarder_secret=SECRET),
        pipeline=FakePipeline(),
        clock=lambda: VECTOR_TS / 1000,
    )
    with TestClient(app) as c:
        _error(
            c.post("/v1/ingest/smsforwarder", data=_form(sign=None)), 401, "unauthorized", "sign"
        )
        assert c.post("/v1/ingest/smsforwarder", data=_form()).status_code == 201


@pytest.mark.parametrize(
    ("sender", "text"),
    [
        ("com.tencent.mm", "李**: 今晚开会"),
        ("com.android.phone", "来电提醒 13800001111"),
        ("13800001111", "未接来电 13800001111"),
    ],
)
def test_smsforwarder_calls_and_app_notifications_are_ignored(
    hook: TestClient, sender: str, text: str
) -> None:
    payload = {"from": sender, "content": text, "timestamp": str(VECTOR_TS), "sign": VECTOR_SIGN}
    r = hook.post("/v1/ingest/smsforwarder", data=payload)
    assert r.status_code == 200
    assert r.json()["status"] == "ignored"
    assert r.json()["notice"] is None
    assert (
        hook.get("/v1/notices", headers={"Authorization": f"Bearer {TOKEN}"}).json()["items"] == []
    )
    _error(hook.post("/v1/ingest/smsforwarder", data=payload), 409, "replay")


@pytest.mark.parametrize(
    ("kwargs", "code", "where"),
    [
        (
            {
                "content": b'{"from": "12381", "content": ',
                "headers": {"Content-Type": "application/json"},
            },
            "malformed_json",
            "body",
        ),
        (
            {"json": {"from": "12381", "timestamp": str(VECTOR_TS), "sign": VECTOR_SIGN}},
            "invalid_field",
            "content",
        ),
        (
            {"json": {"from": "12381", "content": "x", "timestamp": "soon", "sign": VECTOR_SIGN}},
            "invalid_field",
            "timestamp",
        ),
        ({"json": {"from": "12381", "content": {"nested": 1}}}, "invalid_field", "content"),
        (
            {
                "content": b"from=12381&content=%FF%FE",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            "malformed_form",
            "body",
        ),
    ],
)
def test_smsforwarder_malformed_payloads_are_422(
    hook: TestClient, kwargs: dict[str, Any], code: str, where: str
) -> None:
    r = hook.post(
        "/v1/ingest/smsforwarder",
        headers={"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})},
        **kwargs,
    )
    _error(r, 422, code, where)


def test_smsforwarder_malformed_payload_without_auth_is_401(hook: TestClient) -> None:
    _error(
        hook.post(
            "/v1/ingest/smsforwarder",
            content=b"{oops",
            headers={"Content-Type": "application/json"},
        ),
        401,
        "unauthorized",
    )


def test_smsforwarder_multipart_form(hook: TestClient) -> None:
    r = hook.post("/v1/ingest/smsforwarder", files={k: (None, v) for k, v in _form().items()})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "junk",
    [b"\xed\xa0\x80", b"\xff", "接入备案".encode("gb18030")],
    ids=["cesu8-surrogate", "stray-byte", "gb18030"],
)
def test_multipart_field_that_is_not_utf8_is_422_not_mojibake(
    client: TestClient, junk: bytes
) -> None:
    b = "Bnd7"
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'.encode()
        + "【云栈科技】您的网站 shop-demo.cn ".encode()
        + junk
        + f"\r\n--{b}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={b}"}
    r = client.post("/v1/ingest/generic?filing=f-mp", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["where"]) == ("malformed_form", "text")
    ok = body.replace(junk, "接入备案已审核通过".encode())
    r = client.post("/v1/ingest/generic?filing=f-mp", content=ok, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["notice"]["raw_text"] == "【云栈科技】您的网站 shop-demo.cn 接入备案已审核通过"


def test_multipart_latin1_range_text_sent_as_utf8_is_kept(client: TestClient) -> None:
    r = client.post(
        "/v1/ingest/generic?filing=f-mp",
        files={"text": (None, "Café déjà vu, ½ prix ©".encode())},
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"]["raw_text"] == "Café déjà vu, ½ prix ©"


# ----------------------------------------------------------------------------- generic


def test_generic_sms_gateway_payload(client: TestClient) -> None:
    payload = {
        "event": "sms:received",
        "deviceId": "dev-1",
        "payload": {
            "message": GENERIC,
            "phoneNumber": "12381",
            "messageId": "abc-1",
            "receivedAt": "2025-06-24T09:41:07.000+08:00",
        },
    }
    r = client.post("/v1/ingest/generic?filing=team-b", json=payload)
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert (notice["sender"], notice["message_id"], notice["source"]) == (
        "12381",
        "abc-1",
        "generic",
    )
    assert notice["received_at"] == "2025-06-24T09:41:07+08:00"
    again = client.post("/v1/ingest/generic?filing=team-b", json=payload)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")


def test_generic_shortcut_form_and_filing_in_body(client: TestClient) -> None:
    r = client.post(
        "/v1/ingest/generic",
        data={
            "sender": "95187",
            "body": PROVIDER_ACCESS,
            "filing": "shop",
            "date": "1750729267000",
        },
    )
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert notice["filing"] == "shop"
    assert notice["received_at"].startswith("2025-06-24T09:41:07")


def test_generic_custom_field_mapping(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        generic_fields={
            **Settings().generic_fields,
            "text": ("data.sms_text",),
            "sender": ("data.who",),
        },
    )
    with TestClient(create_app(settings, pipeline=FakePipeline())) as c:
        r = c.post("/v1/ingest/generic", json={"data": {"sms_text": GENERIC, "who": "12381"}})
        assert r.status_code == 201, r.text
        assert r.json()["notice"]["sender"] == "12381"
        err = _error(
            c.post("/v1/ingest/generic", json={"text": GENERIC}), 422, "invalid_field", "text"
        )
        assert "data.sms_text" in err["message"]


def test_generic_errors(client: TestClient) -> None:
    _error(client.post("/v1/ingest/generic", json={"from": "12381"}), 422, "invalid_field", "text")
    _error(
        client.post("/v1/ingest/generic", json={"text": "x", "received_at": "someday"}),
        422,
        "invalid_field",
        "received_at",
    )
    _error(client.post("/v1/ingest/generic", json={"text": "备" * 20_001}), 422, "too_long", "text")


# ----------------------------------------------------------------------------- logs, store


def test_personal_data_is_masked_in_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from icp_notify.server.logs import MaskingFilter

    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="icp_notify.server"):
        client.post("/v1/notices", json={"filing": "f", "text": GENERIC, "sender": "13812345678"})
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text


def test_store_migrates_an_old_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0][1]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    assert store.schema_version == MIGRATIONS[-1][0]
    store.close()
    conn = sqlite3.connect(path)
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert versions == [v for v, _ in MIGRATIONS]
    assert "notices_situation" in indexes
    assert SqliteStore(path).schema_version == MIGRATIONS[-1][0]  # reopening is a no-op


def test_concurrent_posts_neither_lose_nor_duplicate(tmp_path: Path) -> None:
    fake = FakePipeline()
    app = create_app(_settings(tmp_path, token=TOKEN), pipeline=fake)
    errors: list[str] = []
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:

        def post(i: int) -> None:
            # every notice posted twice, from different threads
            body = {"filing": f"f{(i // 2) % 3}", "text": f"{GENERIC} #{i // 2}"}
            r = c.post("/v1/notices", json=body)
            if r.status_code not in (200, 201):
                errors.append(r.text)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        store: SqliteStore = app.state.store
        assert store.count_notices() == 30
        texts = [n.raw_text for n in store.iter_notices()]
        assert len(texts) == len(set(texts)) == 30


def test_reclassify_counts_changes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.sqlite3")
    old = NoticeService(store, FakePipeline("v1"))
    old.ingest(filing="f", source="api", text=PROVIDER_ACCESS)
    old.ingest(filing="f", source="api", text=GENERIC)
    old.ingest(filing="g", source="api", text=GENERIC)
    store.add_operation(
        "f",
        Context.model_validate(
            {"operations": [{"kind": "access_domain", "submitted_at": "2025-03-01T10:00:00"}]}
        ).operations[0],
    )
    seen, changed = NoticeService(store, FakePipeline("v2")).reclassify()
    assert (seen, changed) == (3, 1)  # only f's generic notice gains the operation
    reports = [n.report for n in store.iter_notices()]
    assert [r.classification.model_version for r in reports] == ["v2"] * 3
    assert reports[1].classification.situation == Situation.ACCESS_CANCELLED
    assert NoticeService(store, FakePipeline("v2")).reclassify() == (3, 0)
    store.close()


# ----------------------------------------------------------------------------- found by fuzzing


def test_notice_id_beyond_sqlite_integer_is_422_not_500(client: TestClient) -> None:
    # schemathesis: GET /v1/notices/227799943831472013312 overflowed SQLite's INTEGER → 500
    _error(client.get("/v1/notices/227799943831472013312"), 422, "invalid_field", "path.notice_id")
    _error(client.get(f"/v1/notices/{2**63}"), 422, "invalid_field", "path.notice_id")
    _error(client.get("/v1/notices/0"), 422, "invalid_field", "path.notice_id")
    _error(client.get(f"/v1/notices/{2**63 - 1}"), 404, "not_found", "notice_id")


@pytest.mark.parametrize("number", ["9" * 30, str(2**63), "١٢", "²"])
def test_cursor_beyond_sqlite_integer_is_422(client: TestClient, number: str) -> None:
    cursor = base64.urlsafe_b64encode(f"n:{number}".encode()).decode().rstrip("=")
    r = client.get("/v1/notices", params={"cursor": cursor})
    _error(r, 422, "invalid_field", "cursor")


def test_signed_webhook_with_a_huge_timestamp_is_stale_not_500(tmp_path: Path) -> None:
    ts = 10**400  # validly signed, but no float can hold it
    app = create_app(_settings(tmp_path, smsforwarder_secret=SECRET), pipeline=FakePipeline())
    with TestClient(app) as c:
        body = {"from": "12381", "content": GENERIC, "timestamp": str(ts)}
        r = c.post("/v1/ingest/smsforwarder", data={**body, "sign": smsforwarder_sign(SECRET, ts)})
    err = _error(r, 401, "stale_timestamp", "timestamp")
    assert "more than" in err["message"]


@pytest.mark.parametrize("route", ["/v1/ingest/generic", "/v1/ingest/smsforwarder"])
def test_webhook_json_with_a_lone_surrogate_is_422_not_500(client: TestClient, route: str) -> None:
    # "\ud800" is valid JSON but no UTF-8 text: it could neither be stored nor answered
    body = b'{"text": "\\ud800 x", "content": "\\ud800 x", "from": "12381"}'
    r = client.post(route, content=body, headers={"Content-Type": "application/json"})
    _error(r, 422, "malformed_json", "body")
    assert client.get("/v1/notices").json()["items"] == []


def test_signed_webhook_without_timestamp_and_without_token_is_401(hook: TestClient) -> None:
    # schemathesis ignored_auth: an unauthenticated request must not get past auth with a 422
    r = hook.post("/v1/ingest/smsforwarder", data={"from": "12381", "content": "x", "sign": "x"})
    _error(r, 401, "unauthorized", "timestamp")


def test_openapi_documents_the_webhook_bodies(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    sms = paths["/v1/ingest/smsforwarder"]["post"]["requestBody"]["content"]
    assert set(sms) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
    }
    schema = sms["application/json"]["schema"]
    assert {"from", "content", "org_content", "timestamp", "sign"} <= set(schema["properties"])
    generic = paths["/v1/ingest/generic"]["post"]["requestBody"]["content"]["application/json"]
    props = generic["schema"]["properties"]
    assert {"text", "content", "message", "phoneNumber", "messageId"} <= set(props)
    assert "message" in props["payload"]["properties"]  # payload.message, nested
    # a body with one of the text fields is accepted as the schema says
    r = client.post("/v1/ingest/generic", json={"payload": {"message": GENERIC}})
    assert r.status_code == 201, r.text
