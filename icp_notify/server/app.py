"""The FastAPI application: :func:`create_app`.

Routes (all ``/v1`` routes need ``Authorization: Bearer <token>`` when a token is set; the
webhook routes also take SmsForwarder's signature instead):

==========================================  ==================================================
``POST /v1/analyze``                        analyse one notice, store nothing → ``Report``
``POST /v1/notices``                        store + classify with the filing's context (201/200)
``GET  /v1/notices``                        list (filing, situation, urgency, since, until, …)
``GET  /v1/notices/{id}``                   one stored notice
``POST /v1/operations``                     register a filing operation (201/200)
``GET  /v1/operations?filing=``             the operations of a filing
``GET  /v1/filings/{filing}/timeline``      the filing's attributed timeline (server/explain.py)
``POST /v1/ingest/smsforwarder?filing=``    SmsForwarder's webhook (form or JSON, signed)
``POST /v1/ingest/generic?filing=``         other forwarders, with a configurable field mapping
``GET  /v1/alerts?state=``                  the alert outbox (see :mod:`icp_notify.server.alerts_api`)
``GET  /healthz`` / ``GET /readyz``         liveness / readiness (store, pipeline, model)
``/ui/...``                                 the web page (:mod:`icp_notify.server.ui`)
==========================================  ==================================================
"""

from __future__ import annotations

import datetime as dt
import hmac
import importlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from icp_notify._version import __version__
from icp_notify.errors import InputError
from icp_notify.models import SHANGHAI, Channel, Report, Situation, Urgency, in_datetime_range
from icp_notify.server.explain import OperationRegistered, build_router, register_operation
from icp_notify.server.schemas import (
    AnalyzeRequest,
    ErrorBody,
    Health,
    IngestResult,
    NoticeIn,
    NoticePage,
    OperationIn,
    OperationList,
    Readiness,
    SmsForwarderPayload,
    StoredNotice,
)
from icp_notify.server.service import WARMUP_TEXT, Analyzer, NoticeService, parse_time
from icp_notify.server.settings import Settings
from icp_notify.server.store import MAX_ID, NoticeQuery, NoticeStore, ReplayError, SqliteStore
from icp_notify.server.ui import ui_router
from icp_notify.server.webhooks import (
    ForwardedMessage,
    generic_message,
    smsforwarder_message,
    unquote_sign,
    verify_smsforwarder_sign,
)

log = logging.getLogger("icp_notify.server")

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class ApiError(Exception):
    """An error answered with ``status`` and an :class:`ErrorBody`.

    Parameters
    ----------
    status : int
        The HTTP status.
    code : str
        Machine-readable error code.
    message : str
        What went wrong, for people.
    where : str, optional
        The offending field or parameter.
    hint : str, optional
        What to do about it.
    headers : dict of str to str, optional
        Extra response headers (``WWW-Authenticate``, ``Retry-After``, …).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = _error_body(code, message, where=where, hint=hint)
        self.headers = headers


def _error_body(
    code: str, message: str, *, where: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    """The JSON of every error answer (the :class:`ErrorBody` shape)."""
    return {"error": {"code": code, "message": message, "where": where, "hint": hint}}


def _error(
    status: int,
    code: str,
    message: str,
    *,
    where: str | None = None,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        _error_body(code, message, where=where, hint=hint), status_code=status, headers=headers
    )


def _replay(hint: str | None = None) -> ApiError:
    """409 for a webhook ``(timestamp, sign)`` pair that was already accepted."""
    return ApiError(409, "replay", "this (timestamp, sign) pair was already accepted", hint=hint)


def _content_type(request: Request) -> str:
    """The request's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


_BODY_PARSE_ERROR = "There was an error parsing the body"

#: ``/v1/analyze`` runs texts up to this many characters on the event loop and longer ones in
#: the thread pool (see the route).
INLINE_ANALYZE_CHARS = 2_000
"""The detail of FastAPI's 400 for a body it cannot decode (fastapi.routing)."""


def _fallback_time(timestamp_ms: int | None) -> dt.datetime | None:
    """The webhook's ``timestamp`` (epoch ms) as a time; out of range → 422 naming it."""
    if timestamp_ms is None:
        return None
    try:
        when = dt.datetime.fromtimestamp(timestamp_ms / 1000, SHANGHAI)
    except (OverflowError, OSError, ValueError):
        when = None
    if when is None or not in_datetime_range(when):
        raise InputError(
            "invalid_field",
            f"{timestamp_ms} is not a time between 1990 and 2100 in epoch milliseconds",
            where="timestamp",
            hint="send milliseconds since 1970-01-01 UTC, e.g. 1750729267000",
        )
    return when


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


def _json(model: BaseModel, status: int = 200) -> Response:
    """Answer with the model's JSON (``model_dump(mode="json")``, the one JSON form)."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with 413.

    The ``Content-Length`` header is checked first; the body is then read (also when chunked)
    and counted, so a lying or missing header cannot get past the limit.

    Parameters
    ----------
    app : ASGI application
        The wrapped application.
    limit : int
        The largest body accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _reject(
        self, send: Callable[[Any], Awaitable[None]], status: int, code: str, message: str
    ) -> None:
        body = json.dumps(_error_body(code, message, where="body")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"request body larger than {self.limit} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.strip().isdigit():
                    await self._reject(send, 400, "bad_content_length", "invalid Content-Length")
                    return
                if int(value) > self.limit:
                    await self._reject(send, 413, "too_large", too_big)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._reject(send, 413, "too_large", too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_bearer = HTTPBearer(auto_error=False, description="ICP_NOTIFY_TOKEN")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token_ok(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> bool:
    if settings.token is None:
        return True
    if credentials is None:
        return False
    return hmac.compare_digest(
        credentials.credentials.encode("utf-8", "replace"),
        settings.token.get_secret_value().encode("utf-8"),
    )


def _unauthorized(message: str = "missing or wrong bearer token") -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        message,
        hint="send Authorization: Bearer <ICP_NOTIFY_TOKEN>",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _payload(request: Request) -> dict[str, Any]:
    """Decode a webhook body: JSON object, urlencoded form or multipart form."""
    body = await request.body()
    ctype = _content_type(request)
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


def create_app(
    settings: Settings | None = None,
    pipeline: Analyzer | None = None,
    store: NoticeStore | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :meth:`Settings.from_env`.
    pipeline : object with ``analyze(...) -> Report``, optional
        Defaults to ``icp_notify.pipeline.Pipeline.default()``, loaded at start-up.
    store : NoticeStore, optional
        Defaults to a :class:`SqliteStore` at ``settings.db``.
    clock : callable, optional
        Seconds since the epoch, for the webhook timestamp window (tests pass a fixed clock).

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    InputError
        ``no_token`` when ``settings.host`` is not loopback and no token is set.

    Examples
    --------
    A service with a stand-in classifier (the shipped model is not loaded) and a fresh store:

    >>> import pathlib, tempfile, warnings
    >>> with warnings.catch_warnings():  # starlette asks for the httpx2 fork; httpx works the same
    ...     warnings.simplefilter("ignore")
    ...     from fastapi.testclient import TestClient
    >>> from icp_notify.models import Classification, Kind, Situation
    >>> from icp_notify.pipeline import Pipeline
    >>> class Fixed:  # any object with classify_notice(notice, context) will do
    ...     def classify_notice(self, notice, context=None):
    ...         return Classification(situation=Situation.OTHER, ambiguous=False,
    ...             candidates=(Situation.OTHER,), confidence=0.99,
    ...             probabilities={Situation.OTHER: 1.0}, kind=Kind.MARKETING)
    >>> settings = Settings(db=pathlib.Path(tempfile.mkdtemp()) / "notices.db")
    >>> with TestClient(create_app(settings, pipeline=Pipeline(Fixed()))) as client:
    ...     health = client.get("/healthz")
    ...     ok = client.post("/v1/analyze", json={"text": "【某云】备案季大促，云服务器 9.9 元起"})
    ...     bad = client.post("/v1/analyze", json={"text": ""})
    >>> health.status_code, health.json()["status"]
    (200, 'ok')
    >>> ok.json()["classification"]["kind"], ok.json()["advice"]["action"]
    ('marketing', 'none')
    >>> bad.status_code, bad.json()["error"]["code"]
    (422, 'invalid_field')
    """
    settings = settings if settings is not None else Settings.from_env()
    settings.check_bind()
    the_store = (
        store
        if store is not None
        else SqliteStore(
            settings.db,
            synchronous=settings.synchronous,
            signature_ttl_s=max(3 * settings.timestamp_window_s, 3600),
        )
    )
    state: dict[str, Any] = {"pipeline": pipeline, "model_version": None, "load_error": None}
    worker = _alert_worker(settings, the_store)

    def warm_up() -> None:
        try:
            if state["pipeline"] is None:
                state["pipeline"] = _load_pipeline(settings.pipeline)
            report = state["pipeline"].analyze(WARMUP_TEXT, channel=Channel.SMS, sender="12381")
            state["model_version"] = report.classification.model_version
            state["load_error"] = None
        except Exception as exc:
            state["load_error"] = f"{type(exc).__name__}: {exc}"
            log.exception("could not load the pipeline")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(warm_up)
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)
            the_store.close()

    app = FastAPI(
        title="icp_notify",
        version=__version__,
        summary="Store, classify and explain ICP filing (ICP备案) notices forwarded from phones.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.pipeline_state = state
    app.state.alert_worker = worker

    def service() -> NoticeService:
        if state["pipeline"] is None:
            raise ApiError(
                503,
                "not_ready",
                "the classification pipeline is not loaded",
                hint=state["load_error"],
            )
        return NoticeService(
            the_store, state["pipeline"], settings.max_text_chars, settings.context_notices
        )

    # ------------------------------------------------------------------ errors

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        # drop pydantic's union-member tags such as "str-enum[Situation]" from the location
        where = ".".join(str(p) for p in first.get("loc", ()) if "[" not in str(p))
        code = "invalid_field"
        message = str(first.get("msg"))
        if first.get("type") == "json_invalid":
            code, where = "malformed_json", "body"
            message = f"{message} at character {first.get('loc', ('', '?'))[-1]}"
        return _error(
            422,
            code,
            message,
            where=where or None,
            hint=f"{len(errors)} problem(s)" if len(errors) > 1 else None,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
            # FastAPI's answer to a body it could not decode (e.g. JSON that is not UTF-8)
            ctype = _content_type(request)
            json_body = ctype.endswith("json") or not ctype
            return _error(
                422,
                "malformed_json" if json_body else "malformed_body",
                "the body is not UTF-8 JSON" if json_body else "the body could not be decoded",
                where="body",
                hint="send a UTF-8 JSON object" if json_body else None,
            )
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unexpected error on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        return _error(500, "internal_error", "internal error; see the server log")

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    # ------------------------------------------------------------------ auth

    def require_token(credentials: Credentials) -> None:
        if not _token_ok(settings, credentials):
            raise _unauthorized()

    auth = Depends(require_token)
    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": ErrorBody},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
    }

    from icp_notify.server.alerts_api import router as alerts_router

    app.include_router(alerts_router, dependencies=[auth], responses=errors)

    # ------------------------------------------------------------------ health

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Response:
        """The process is up."""
        return _json(Health(version=__version__))

    @app.get(
        "/readyz", response_model=Readiness, tags=["health"], responses={503: {"model": Readiness}}
    )
    def readyz() -> Response:
        """Ready when the store is writable and the pipeline is loaded (else 503)."""
        writable = the_store.check_writable()
        loaded = state["pipeline"] is not None and state["load_error"] is None
        body = Readiness(
            ready=writable and loaded,
            store_writable=writable,
            pipeline_loaded=loaded,
            model_version=state["model_version"],
            schema_version=the_store.schema_version,
            version=__version__,
        )
        return _json(body, 200 if body.ready else 503)

    # ------------------------------------------------------------------ analyze

    @app.post(
        "/v1/analyze",
        response_model=Report,
        dependencies=[auth],
        responses=errors,
        tags=["notices"],
    )
    async def analyze(request: AnalyzeRequest) -> Response:
        """Analyse one notice (with optional context); nothing is stored."""
        # CPU-bound and touching no file: a notice of normal size (about a millisecond) runs on
        # the event loop, since with the GIL a hop to a worker thread only adds latency; a long
        # text (where pathological input can take a second) runs in the thread pool, so it
        # cannot hold up other requests, health checks included
        call = partial(
            service().analyze,
            request.text,
            channel=request.channel,
            sender=request.sender,
            received_at=request.received_at,
            context=request.context,
            lang=request.lang,
        )
        inline = len(request.text) <= INLINE_ANALYZE_CHARS
        report = call() if inline else await run_in_threadpool(call)
        return _json(report)

    # ------------------------------------------------------------------ notices

    @app.post(
        "/v1/notices",
        response_model=StoredNotice,
        status_code=201,
        dependencies=[auth],
        responses={200: {"model": StoredNotice, "description": "already stored"}, **errors},
        tags=["notices"],
    )
    def post_notice(notice: NoticeIn) -> Response:
        """Store a notice for a filing and classify it with the filing's context.

        201 with the new record; 200 with the existing one when the same ``message_id`` (or
        sender + received_at + text) was stored before.
        """
        record, created = service().ingest(
            filing=notice.filing,
            source="api",
            text=notice.text,
            channel=notice.channel,
            sender=notice.sender,
            received_at=notice.received_at,
            message_id=notice.message_id,
            lang=notice.lang,
        )
        return _json(record, 201 if created else 200)

    @app.get(
        "/v1/notices",
        response_model=NoticePage,
        dependencies=[auth],
        responses=errors,
        tags=["notices"],
    )
    def list_notices(
        *,
        filing: str | None = None,
        situation: Situation | Literal["ambiguous"] | None = None,
        urgency: Urgency | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: str | None = None,
    ) -> Response:
        """Stored notices, newest first; ``situation=ambiguous`` lists undecided ones."""
        query = NoticeQuery(
            filing=filing,
            situation=situation,
            urgency=urgency,
            since=_aware(since),
            until=_aware(until),
        )
        items, next_cursor = the_store.list_notices(query, limit=limit, cursor=cursor)
        return _json(NoticePage(items=tuple(items), next_cursor=next_cursor))

    @app.get(
        "/v1/notices/{notice_id}",
        response_model=StoredNotice,
        dependencies=[auth],
        responses={404: {"model": ErrorBody}, **errors},
        tags=["notices"],
    )
    def get_notice(notice_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        """One stored notice."""
        record = the_store.get_notice(notice_id)
        if record is None:
            raise ApiError(404, "not_found", f"no notice {notice_id}", where="notice_id")
        return _json(record)

    # ------------------------------------------------------------------ operations

    @app.post(
        "/v1/operations",
        response_model=OperationRegistered,
        status_code=201,
        dependencies=[auth],
        responses={
            200: {"model": OperationRegistered, "description": "already registered"},
            **errors,
        },
        tags=["operations"],
    )
    def post_operation(body: OperationIn) -> Response:
        """Register an operation the team submitted; it becomes context for later notices, and
        the filing's stored notices are explained again (``changed``: those whose situation
        changed, e.g. an escalation to ``access_cancelled``)."""
        svc = service() if state["pipeline"] is not None else None
        answer, created = register_operation(the_store, body.filing, body.operation, svc)
        return _json(answer, 201 if created else 200)

    @app.get(
        "/v1/operations",
        response_model=OperationList,
        dependencies=[auth],
        responses=errors,
        tags=["operations"],
    )
    def list_operations(filing: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
        """The registered operations of a filing, oldest submission first."""
        return _json(OperationList(items=tuple(the_store.list_operations(filing))))

    app.include_router(build_router(the_store, auth, errors))

    # ------------------------------------------------------------------ webhooks

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
            return _json(IngestResult(status="ignored", reason=f"{message.event} event"))
        received = parse_time(message.received_at) if message.received_at else None
        fallback = _fallback_time(message.timestamp_ms)
        svc = service()
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
        return _json(
            IngestResult(status="stored" if created else "duplicate", notice=record),
            201 if created else 200,
        )

    hook_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": IngestResult, "description": "duplicate or ignored event"},
        409: {"model": ErrorBody, "description": "replayed signature"},
        **errors,
    }

    @app.post(
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
        token_valid = settings.token is not None and _token_ok(settings, credentials)
        open_mode = settings.token is None and settings.smsforwarder_secret is None
        try:
            message = smsforwarder_message(await _payload(request))
        except InputError:
            if not (token_valid or open_mode):
                raise _unauthorized() from None
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
            raise _unauthorized()
        return await _ingest_forwarded(message, _filing(filing, message), "smsforwarder", signature)

    @app.post(
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

    # ------------------------------------------------------------------ web page

    app.include_router(
        ui_router(settings, the_store, service, lambda: getattr(state["pipeline"], "advisor", None))
    )

    return app


def _alert_worker(settings: Settings, store: NoticeStore) -> Any:
    """With ``settings.alerts``: route new notices into the outbox and build the worker."""
    if settings.alerts is None:
        return None
    from icp_notify.alerts.channels import build_senders
    from icp_notify.alerts.config import load_config
    from icp_notify.alerts.routing import Router
    from icp_notify.alerts.worker import DeliveryWorker

    config = load_config(settings.alerts)
    senders = build_senders(config)  # fails at start-up when a secret is missing
    store.alert_router = Router(config)
    worker = DeliveryWorker(store, senders, config.delivery)
    store.alert_listener = worker.wake  # deliver right after the commit, not at the next poll
    return worker


def _load_pipeline(spec: str | None) -> Analyzer:
    """The default pipeline, or the one a ``module:callable`` setting names."""
    if spec is None:
        from icp_notify.pipeline import Pipeline

        return Pipeline.default()
    module_name, _, attr = spec.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    pipeline: Analyzer = target()
    return pipeline


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=SHANGHAI)
