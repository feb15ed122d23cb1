"""Helpers shared by several test files (imported as ``from _helpers import …``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from icp_notify.models import RawMessage, ReadError

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""

GENERIC_XX = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
"""MIIT's generic change notice, the one only context can settle."""


def corpus_texts() -> list[str]:
    """Every ``text`` of the corpus JSONL files under ``corpus/``, in file order.

    Returns
    -------
    list of str
    """
    texts: list[str] = []
    for path in sorted((ROOT / "corpus").glob("**/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def corpus_records() -> list[dict[str, Any]]:
    """Every record of ``corpus/*.jsonl`` and ``corpus/holdout/*.jsonl``, as read, in file order.

    Returns
    -------
    list of dict
    """
    paths = sorted((ROOT / "corpus").glob("*.jsonl")) + sorted(
        (ROOT / "corpus" / "holdout").glob("*.jsonl")
    )
    records: list[dict[str, Any]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def context_messages() -> list[RawMessage]:
    """Three arrivals of the generic notice; only the middle one carries context.

    Returns
    -------
    list of RawMessage
        Without context, with an ``access_domain`` operation as context, without context.
    """
    ctx = {"operations": [{"kind": "access_domain", "submitted_at": "2025-03-01T10:00:00"}]}
    return [
        RawMessage(text=GENERIC_XX, sender="12381", received_at="2025-03-02T10:00:00"),
        RawMessage(text=GENERIC_XX, sender="12381", received_at="2025-03-03T10:00:00", context=ctx),
        RawMessage(text=GENERIC_XX, sender="12381", received_at="2025-03-04T10:00:00"),
    ]


class _Getter(Protocol):
    def get(self, url: str, *, params: dict[str, Any]) -> Any: ...


def all_notices(client: _Getter, limit: int) -> list[dict[str, Any]]:
    """Every stored notice from ``GET /v1/notices``, following ``next_cursor`` page by page.

    Parameters
    ----------
    client : TestClient or httpx.Client
        A client of the service (authorised).
    limit : int
        The page size asked for.

    Returns
    -------
    list of dict
        The items of every page, in the order served.
    """
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/notices", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


Case = tuple[str, str, str | None]
"""A failure-type case: text, expected situation (``None``: ambiguous), expected kind or ``None``."""


def check_classified(text: str, situation: str | None, kind: str | None) -> None:
    """Assert ``icp_notify.classify(text)`` decides ``situation`` (and ``kind`` when given)."""
    import icp_notify

    c = icp_notify.classify(text)
    got = c.situation.value if c.situation is not None else None
    assert got == situation, (text, got, c.kind.value, c.ambiguous)
    if kind is not None:
        assert c.kind.value == kind, (text, c.kind.value)


ARCHIVES = ROOT / "tests" / "fixtures" / "archives"
"""The archive fixtures the readers and batch read (see ``tests/fixtures/make_archives.py``)."""


def messages(items: list[RawMessage | ReadError]) -> list[RawMessage]:
    """The messages a reader yielded, without its error rows."""
    return [i for i in items if isinstance(i, RawMessage)]


def errors(items: list[RawMessage | ReadError]) -> list[ReadError]:
    """The error rows a reader yielded."""
    return [i for i in items if isinstance(i, ReadError)]
