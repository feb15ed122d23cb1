"""Request and response models of the HTTP API (pydantic, so ``/openapi.json`` carries them).

The analysis itself is :class:`icp_notify.models.Report`; these models wrap it with what the
service adds: the filing key, the stored record, pages and errors.

Examples
--------
>>> NoticeIn.model_validate({"filing": "京ICP备2024012345号", "text": "您的备案信息已被变更"}).lang
'zh'
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from icp_notify.models import (
    DATETIME_MAX,
    DATETIME_MIN,
    AwareDatetime,
    Channel,
    Context,
    Operation,
    Report,
)

Source = Literal["api", "smsforwarder", "generic"]
"""How a stored notice reached the service."""

FILING_FIELD = Field(
    min_length=1,
    max_length=200,
    description="the key the caller uses for one filing (主体 number, or a team's name for it)",
    examples=["京ICP备2024012345号"],
)


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class AnalyzeRequest(_In):
    """Body of ``POST /v1/analyze``: one notice and optional context; nothing is stored."""

    text: str = Field(min_length=1, description="the SMS or email text")
    channel: Channel | None = None
    sender: str | None = Field(default=None, max_length=320)
    received_at: AwareDatetime | None = None
    context: Context | None = None
    lang: Literal["zh", "en"] = "zh"


class NoticeIn(_In):
    """Body of ``POST /v1/notices``: one notice for a filing."""

    filing: str = FILING_FIELD
    text: str = Field(min_length=1, description="the SMS or email text, stored exactly as sent")
    channel: Channel | None = None
    sender: str | None = Field(default=None, max_length=320)
    received_at: AwareDatetime | None = None
    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="the caller's id for the message; re-posting it returns the stored record",
    )
    lang: Literal["zh", "en"] = "zh"


class StoredNotice(_Out):
    """A notice as the service keeps it: the raw text exactly as received, and its report."""

    id: int
    filing: str
    source: Source
    message_id: str | None = None
    channel: Channel
    sender: str | None = None
    received_at: AwareDatetime | None = None
    stored_at: AwareDatetime
    raw_text: str = Field(description="the text exactly as received")
    extra: dict[str, str] = Field(default_factory=dict, description="other fields received")
    report: Report


class NoticePage(_Out):
    """One page of ``GET /v1/notices`` (newest first); pass ``next_cursor`` for the next."""

    items: tuple[StoredNotice, ...]
    next_cursor: str | None = None


class OperationIn(_In):
    """Body of ``POST /v1/operations``: a filing operation the team submitted."""

    filing: str = FILING_FIELD
    operation: Operation


class StoredOperation(_Out):
    """A registered operation; it becomes context for later notices of its filing."""

    id: int
    filing: str
    operation: Operation
    created_at: AwareDatetime


class OperationList(_Out):
    """Answer of ``GET /v1/operations``."""

    items: tuple[StoredOperation, ...]


class IngestResult(_Out):
    """Answer of the webhook routes.

    ``status`` is ``stored`` (201), ``duplicate`` (200, the notice was already stored) or
    ``ignored`` (200, a call or app notification, acknowledged and not stored).
    """

    status: Literal["stored", "duplicate", "ignored"]
    reason: str | None = None
    notice: StoredNotice | None = None


_EPOCH_MS_MIN = int(DATETIME_MIN.timestamp()) * 1000
_EPOCH_MS_MAX = int(DATETIME_MAX.timestamp()) * 1000


class SmsForwarderPayload(BaseModel):
    """Body of ``POST /v1/ingest/smsforwarder`` as SmsForwarder posts it (form or JSON).

    It documents the webhook in ``/openapi.json``; the route reads the body itself, so a
    template's other fields are accepted and the known ones kept in ``extra``. One of
    ``content``, ``org_content`` or ``msg`` carries the text.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("content", "org_content", "msg")
            ]
        },
    )

    from_: str | None = Field(
        default=None, alias="from", description="the sender ([from]); an app's package name"
    )
    content: str | None = Field(
        default=None, pattern=r"\S", description="the template output ([content])"
    )
    org_content: str | None = Field(
        default=None, pattern=r"\S", description="the SMS exactly as received ([org_content])"
    )
    msg: str | None = Field(default=None, pattern=r"\S", description="older name of content")
    timestamp: (
        Annotated[int, Field(ge=_EPOCH_MS_MIN, lt=_EPOCH_MS_MAX)]
        | Annotated[str, Field(pattern=r"^[0-9]{12,13}$")]
        | None
    ) = Field(
        default=None,
        description="send time ([timestamp]), milliseconds since the epoch (1990 to 2100)",
    )
    sign: str | None = Field(
        default=None, description="base64 HMAC-SHA256 signature ([sign]), raw or URL-encoded"
    )


class Health(_Out):
    """Answer of ``GET /healthz``."""

    status: Literal["ok"] = "ok"
    version: str


class Readiness(_Out):
    """Answer of ``GET /readyz`` (503 when not ready)."""

    ready: bool
    store_writable: bool
    pipeline_loaded: bool
    model_version: str | None = None
    schema_version: int | None = None
    version: str


class ErrorDetail(_Out):
    """What went wrong: a machine-readable code, a sentence, the field at fault, a hint."""

    code: str
    message: str
    where: str | None = None
    hint: str | None = None


class ErrorBody(_Out):
    """Body of every error response."""

    error: ErrorDetail


def utcnow() -> dt.datetime:
    """The current time, aware (UTC).

    Returns
    -------
    datetime
    """
    return dt.datetime.now(dt.UTC)
