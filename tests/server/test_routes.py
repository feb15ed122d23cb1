"""The service's routes are a contract: their paths, methods, tags and answers are pinned here.

``create_app`` only wires the routers of ``icp_notify.server.routes``; moving a route between
modules must not change what a client sees in ``/openapi.json``. Change :data:`ROUTES` only on
purpose, with docs/server.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from icp_notify.server.app import create_app
from icp_notify.server.settings import Settings

_E = "ErrorBody"
#: (method, path, tag, {status: schema of the answer}) in the order of /openapi.json.
ROUTES: list[tuple[str, str, str, dict[str, str | None]]] = [
    ("GET", "/v1/alerts", "alerts", {"200": "AlertPage", "401": _E, "413": _E, "422": _E}),
    ("GET", "/healthz", "health", {"200": "Health"}),
    ("GET", "/readyz", "health", {"200": "Readiness", "503": "Readiness"}),
    ("POST", "/v1/analyze", "notices", {"200": "Report", "401": _E, "413": _E, "422": _E}),
    (
        "POST",
        "/v1/notices",
        "notices",
        {"200": "StoredNotice", "201": "StoredNotice", "401": _E, "413": _E, "422": _E},
    ),
    ("GET", "/v1/notices", "notices", {"200": "NoticePage", "401": _E, "413": _E, "422": _E}),
    (
        "GET",
        "/v1/notices/{notice_id}",
        "notices",
        {"200": "StoredNotice", "401": _E, "404": _E, "413": _E, "422": _E},
    ),
    (
        "POST",
        "/v1/operations",
        "operations",
        {
            "200": "OperationRegistered",
            "201": "OperationRegistered",
            "401": _E,
            "413": _E,
            "422": _E,
        },
    ),
    (
        "GET",
        "/v1/operations",
        "operations",
        {"200": "OperationList", "401": _E, "413": _E, "422": _E},
    ),
    (
        "GET",
        "/v1/filings/{filing}/timeline",
        "operations",
        {"200": "FilingTimeline", "401": _E, "413": _E, "422": _E},
    ),
    (
        "POST",
        "/v1/ingest/smsforwarder",
        "webhooks",
        {"200": "IngestResult", "201": "IngestResult", "401": _E, "409": _E, "413": _E, "422": _E},
    ),
    (
        "POST",
        "/v1/ingest/generic",
        "webhooks",
        {"200": "IngestResult", "201": "IngestResult", "401": _E, "409": _E, "413": _E, "422": _E},
    ),
]

#: The routes that do not document the bearer token.
OPEN = {("GET", "/healthz"), ("GET", "/readyz")}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db: Path = tmp_path_factory.mktemp("routes") / "notices.db"
    schema: dict[str, Any] = create_app(Settings(db=db, token="t")).openapi()
    return schema


def _schema_name(answer: dict[str, Any]) -> str | None:
    ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[-1]


def test_the_openapi_paths_methods_and_answers_are_the_pinned_ones(
    openapi: dict[str, Any],
) -> None:
    found = [
        (
            method.upper(),
            path,
            operation["tags"][0],
            {code: _schema_name(answer) for code, answer in sorted(operation["responses"].items())},
        )
        for path, methods in openapi["paths"].items()
        for method, operation in methods.items()
    ]
    assert found == ROUTES


def test_every_route_but_the_open_ones_needs_the_bearer_token(openapi: dict[str, Any]) -> None:
    secured = {
        (method.upper(), path)
        for path, methods in openapi["paths"].items()
        for method, operation in methods.items()
        if operation.get("security") == [{"HTTPBearer": []}]
    }
    everything = {(method, path) for method, path, _, _ in ROUTES}
    # the smsforwarder webhook documents the token too (it also accepts a signature instead)
    assert everything - secured == OPEN


def test_the_operation_ids_keep_the_route_function_names(openapi: dict[str, Any]) -> None:
    ids = [op["operationId"] for methods in openapi["paths"].values() for op in methods.values()]
    assert ids == [
        "list_alerts_v1_alerts_get",
        "healthz_healthz_get",
        "readyz_readyz_get",
        "analyze_v1_analyze_post",
        "post_notice_v1_notices_post",
        "list_notices_v1_notices_get",
        "get_notice_v1_notices__notice_id__get",
        "post_operation_v1_operations_post",
        "list_operations_v1_operations_get",
        "get_timeline_v1_filings__filing__timeline_get",
        "ingest_smsforwarder_v1_ingest_smsforwarder_post",
        "ingest_generic_v1_ingest_generic_post",
    ]


def test_the_web_page_stays_out_of_the_schema(openapi: dict[str, Any]) -> None:
    assert not [path for path in openapi["paths"] if path.startswith("/ui")]
