"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis, in-process over ASGI).

Every operation of ``/openapi.json`` gets generated requests, valid and invalid, with the
bearer token; each answer must not be a 5xx, must have a documented status code and content
type, and must match the response schema declared for that status. The fake pipeline keeps it
fast; the seed is fixed and generation derandomized, so a failure reproduces.
``docs/server.md`` shows the same checks run against a real ``icp-notify serve`` process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("schemathesis")


import schemathesis
from _server_fakes import SECRET, TOKEN, FakePipeline
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from icp_notify.server import create_app
from icp_notify.server.settings import Settings
from icp_notify.server.store import SqliteStore

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


class _KeepOpen(SqliteStore):
    """The store, left open across the app's lifespans (schemathesis runs one per request)."""

    def close(self) -> None:
        pass


_DB_DIR = tempfile.TemporaryDirectory(prefix="icp-notify-fuzz-")
_DB = Path(_DB_DIR.name) / "fuzz.sqlite3"
_STORE = _KeepOpen(_DB)
APP = create_app(
    Settings(db=_DB, token=TOKEN, smsforwarder_secret=SECRET),
    pipeline=FakePipeline(),
    store=_STORE,
)
# the schema is read at import: schemathesis' lazy `from_fixture` does not work with pytest 9
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    SqliteStore.close(_STORE)
    _DB_DIR.cleanup()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
