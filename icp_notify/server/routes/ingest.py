"""``/v1/ingest/...``: the webhooks phones forward notices to (SmsForwarder, and a generic one).

The routes read the body themselves (a JSON object, a urlencoded or a multipart form) and turn it
into a :class:`~icp_notify.server.webhooks.ForwardedMessage`; ``/v1/ingest/smsforwarder`` is
authorised by the bearer token or by SmsForwarder's signature (加签), whose ``(timestamp, sign)``
pair is accepted once.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from icp_notify.boundary import coerce_time
from icp_notify.errors import InputError
from icp_notify.models import Channel
from icp_notify.server.http import (
    ERROR_RESPONSES,
    ApiError,
    Credentials,
    Runtime,
    content_type,
    json_response,
    token_ok,
    unauthorized,
)
from icp_notify.server.schemas import ErrorBody, IngestResult, SmsForwarderPayload
from icp_notify.server.store import ReplayError
from icp_notify.server.webhooks import (
    ForwardedMessage,
    generic_message,
    smsforwarder_message,
    unquote_sign,
    verify_smsforwarder_sign,
)

__all__ = ["generic_body_schema", "router"]


def _replay(hint: str | None = None) -> ApiError:
    """409 for a webhook ``(timestamp, sign)`` pair that was already accepted."""
    return ApiError(409, "replay", "this (timestamp, sign) pair was already accepted", hint=hint)


def _request_body(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` declaring a body a route reads itself, as a form or as JSON."""
    content = {
        media: {"schema": schema}
        for media in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/json",
        )
    }
    return {"requestBody": {"required": True, "content": content}}


_SCALAR: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "pattern": r"\S"},
    "received_at": {"type": "string", "format": "date-time"},
    "filing": {"type": "string", "minLength": 1, "maxLength": 200},
}


def generic_body_schema(fields: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The JSON schema of ``/v1/ingest/generic``'s body under a field mapping.

    Every mapped name is a property (dotted names nest); one of the ``text`` names is required;
    other fields are allowed.

    Parameters
    ----------
    fields : dict of str to tuple of str
        ``Settings.generic_fields``.

    Returns
    -------
    dict
        A JSON schema (an object).

    Examples
    --------
    >>> schema = generic_body_schema({"text": ("text", "payload.message"), "sender": ("from",)})
    >>> sorted(schema["properties"]), schema["properties"]["payload"]["properties"]["message"]["type"]
    (['from', 'payload', 'text'], 'string')
    >>> schema["anyOf"][1]
    {'required': ['payload'], 'properties': {'payload': {'required': ['message']}}}
    """
    root: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": True}
    for key, names in fields.items():
        for name in names:
            *parents, leaf = name.split(".")
            node = root
            for part in parents:
                child = node["properties"].setdefault(
                    part, {"type": "object", "properties": {}, "additionalProperties": True}
                )
                if child.get("type") != "object":
                    break
                node = child
            else:
                node["properties"].setdefault(leaf, dict(_FIELD_SCHEMAS.get(key, _SCALAR)))

    def required(path: list[str]) -> dict[str, Any]:
        head, *rest = path
        need: dict[str, Any] = {"required": [head]}
        if rest:
            need["properties"] = {head: required(rest)}
        return need

    texts = fields.get("text", ())
    if texts:
        root["anyOf"] = [required(name.split(".")) for name in texts]
    return root


async def _payload(request: Request) -> dict[str, Any]:
    """Decode a webhook body: JSON object, urlencoded form or multipart form."""
    body = await request.body()
    ctype = content_type(request)
    if ctype == "multipart/form-data":
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart raises several types
            raise InputError(
                "malformed_form", f"unreadable multipart form: {exc}", where="body"
            ) from None
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        for name, value in fields.items():
            # Starlette decodes a part that is not UTF-8 as Latin-1 (mojibake, silently); a
            # part that was UTF-8 has its UTF-8 bytes verbatim in the body, a re-decoded one not
            if value.encode("utf-8", "surrogatepass") not in body:
                raise InputError("malformed_form", f"form field {name!r} is not UTF-8", where=name)
        return fields
    looks_json = body.lstrip()[:1] in (b"{", b"[")
    if ctype.endswith("json") or (
        ctype not in ("application/x-www-form-urlencoded",) and looks_json
    ):
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError("malformed_json", f"not JSON: {exc}", where="body") from None
        if not isinstance(data, dict):
            raise InputError("malformed_json", "expected a JSON object", where="body")
        if b"\\u" in body:
            try:  # a lone surrogate (\ud800) decodes to a str that cannot be stored or sent
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    "malformed_json", "a string holds a lone UTF-16 surrogate", where="body"
                ) from None
        return data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("malformed_form", "the form is not UTF-8", where="body") from None
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text.strip()), errors="strict"
        )
    except ValueError as exc:
        raise InputError("malformed_form", f"not a form: {exc}", where="body") from None
    return dict(pairs)


def router(rt: Runtime) -> APIRouter:
    """The webhook routes of the service ``rt`` (the generic body's schema follows its settings)."""
    routes = APIRouter()
    settings, the_store, clock = rt.settings, rt.store, rt.clock
    auth, errors = rt.auth, ERROR_RESPONSES

    def _filing(query: str | None, message: ForwardedMessage) -> str:
        filing = query or message.filing or settings.default_filing
        if len(filing) > 200:
            raise InputError("invalid_field", "longer than 200 characters", where="filing")
        return filing

    async def _ingest_forwarded(
        message: ForwardedMessage,
        filing: str,
        source: Literal["smsforwarder", "generic"],
        signature: tuple[int, str] | None,
    ) -> Response:
        if signature is not None:
            used = await run_in_threadpool(the_store.signature_seen, *signature)
            if used is not False:
                raise _replay(f"notice {used}" if used is not None else None)
        if message.event != "sms":
            if signature is not None and not await run_in_threadpool(
                the_store.claim_signature, *signature
            ):
                raise _replay()
            return json_response(IngestResult(status="ignored", reason=f"{message.event} event"))
        received = coerce_time(message.received_at or None, field="received_at", epoch="auto")
        fallback = coerce_time(message.timestamp_ms, field="timestamp", epoch="ms")
        svc = rt.service()
        try:
            record, created = await run_in_threadpool(
                lambda: svc.ingest(
                    filing=filing,
                    source=source,
                    text=message.text,
                    channel=Channel.SMS,
                    sender=message.sender,
                    received_at=received,
                    fallback_received_at=fallback,
                    message_id=message.message_id,
                    extra=message.extra,
                    signature=signature,
                )
            )
        except ReplayError as exc:
            raise _replay(f"notice {exc.notice_id}") from None
        return json_response(
            IngestResult(status="stored" if created else "duplicate", notice=record),
            201 if created else 200,
        )

    hook_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": IngestResult, "description": "duplicate or ignored event"},
        409: {"model": ErrorBody, "description": "replayed signature"},
        **errors,
    }

    @routes.post(
        "/v1/ingest/smsforwarder",
        response_model=IngestResult,
        status_code=201,
        responses=hook_responses,
        tags=["webhooks"],
        openapi_extra=_request_body(SmsForwarderPayload.model_json_schema()),
    )
    async def ingest_smsforwarder(
        request: Request,
        credentials: Credentials,
        filing: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    ) -> Response:
        """SmsForwarder's webhook (form or JSON: ``from``, ``content``, ``org_content``,
        ``timestamp``, ``sign``). Authorised by the bearer token or a valid signature."""
        token_valid = settings.token is not None and token_ok(settings, credentials)
        open_mode = settings.token is None and settings.smsforwarder_secret is None
        try:
            message = smsforwarder_message(await _payload(request))
        except InputError:
            if not (token_valid or open_mode):
                raise unauthorized() from None
            raise
        signature: tuple[int, str] | None = None
        secret = settings.smsforwarder_secret
        if token_valid or open_mode:
            pass
        elif secret is not None and message.sign:
            if message.timestamp_ms is None:
                # unverifiable, so unauthenticated: 401 like any payload refused before auth
                raise ApiError(
                    401,
                    "unauthorized",
                    "a signed request needs its timestamp",
                    where="timestamp",
                    hint="keep [timestamp] in the SmsForwarder template",
                )
            if not verify_smsforwarder_sign(
                secret.get_secret_value(), message.timestamp_ms, message.sign
            ):
                raise ApiError(
                    401,
                    "bad_signature",
                    "the sign does not match the timestamp",
                    where="sign",
                    hint="check the secret (加签) in SmsForwarder",
                )
            # integer arithmetic: a (validly signed) timestamp of any size must not overflow
            skew_ms = abs(round(clock() * 1000) - message.timestamp_ms)
            if skew_ms > settings.timestamp_window_s * 1000:
                skew = f"{skew_ms // 1000}" if skew_ms < 10**15 else "more than 10^12"
                raise ApiError(
                    401,
                    "stale_timestamp",
                    f"timestamp is {skew} s away from now (window {settings.timestamp_window_s} s)",
                    where="timestamp",
                    hint="check the phone's clock",
                )
            signature = (message.timestamp_ms, unquote_sign(message.sign))
        elif secret is not None and settings.token is None:
            raise ApiError(
                401,
                "unauthorized",
                "missing sign",
                where="sign",
                hint="set the secret (加签) in SmsForwarder's webhook",
            )
        else:
            raise unauthorized()
        return await _ingest_forwarded(message, _filing(filing, message), "smsforwarder", signature)

    @routes.post(
        "/v1/ingest/generic",
        response_model=IngestResult,
        status_code=201,
        dependencies=[auth],
        responses=hook_responses,
        tags=["webhooks"],
        openapi_extra=_request_body(generic_body_schema(settings.generic_fields)),
    )
    async def ingest_generic(
        request: Request,
        filing: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    ) -> Response:
        """Any forwarder posting JSON or a form; fields found by ``ICP_NOTIFY_GENERIC_FIELDS``."""
        message = generic_message(await _payload(request), settings.generic_fields)
        return await _ingest_forwarded(message, _filing(filing, message), "generic", None)

    return routes
