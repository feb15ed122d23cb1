"""What every route of the service shares: its runtime, errors, JSON answers, body limit and auth.

:func:`icp_notify.server.app.create_app` builds one :class:`Runtime` and hands it to the routers
of :mod:`icp_notify.server.routes`; it adds :class:`BodyLimit` as middleware and
:func:`add_error_handlers`. A route answers a client mistake by raising ``InputError`` (422) or
:class:`ApiError` (any status); every error answer has the :class:`ErrorBody` shape.
"""

from __future__ import annotations

import hmac
import importlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from icp_notify.errors import InputError
from icp_notify.models import Channel
from icp_notify.server.schemas import ErrorBody
from icp_notify.server.service import WARMUP_TEXT, Analyzer, NoticeService
from icp_notify.server.settings import Settings
from icp_notify.server.store import NoticeStore

log = logging.getLogger("icp_notify.server")

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
"""The error answers every authenticated route documents."""

BODY_PARSE_ERROR = "There was an error parsing the body"
"""The detail of FastAPI's 400 for a body it cannot decode (fastapi.routing)."""


# --------------------------------------------------------------------------- runtime


@dataclass
class Runtime:
    """What the routes of one service share: settings, store, clock and the loaded pipeline.

    Parameters
    ----------
    settings : Settings
        The service settings.
    store : NoticeStore
        The notice store.
    clock : callable, optional
        Seconds since the epoch, for the webhook timestamp window.
    pipeline : Analyzer, optional
        The pipeline; ``None`` until :meth:`warm_up` loads the one ``settings.pipeline`` names.
    """

    settings: Settings
    store: NoticeStore
    clock: Callable[[], float] = time.time
    pipeline: Analyzer | None = None
    model_version: str | None = None
    load_error: str | None = None
    auth: Any = field(init=False, repr=False)
    """The bearer-token dependency of the ``/v1`` routes (``Depends``)."""

    def __post_init__(self) -> None:
        settings = self.settings

        def require_token(credentials: Credentials) -> None:
            if not token_ok(settings, credentials):
                raise unauthorized()

        self.auth = Depends(require_token)

    def warm_up(self) -> None:
        """Load the pipeline (unless given) and analyse :data:`WARMUP_TEXT` to read its model."""
        try:
            if self.pipeline is None:
                self.pipeline = load_pipeline(self.settings.pipeline)
            report = self.pipeline.analyze(WARMUP_TEXT, channel=Channel.SMS, sender="12381")
            self.model_version = report.classification.model_version
            self.load_error = None
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("could not load the pipeline")

    @property
    def loaded(self) -> bool:
        """Whether the pipeline is loaded and answered the warm-up."""
        return self.pipeline is not None and self.load_error is None

    def service(self) -> NoticeService:
        """The service over the store and the pipeline; 503 ``not_ready`` before it is loaded."""
        if self.pipeline is None:
            raise ApiError(
                503,
                "not_ready",
                "the classification pipeline is not loaded",
                hint=self.load_error,
            )
        return NoticeService(
            self.store, self.pipeline, self.settings.max_text_chars, self.settings.context_notices
        )


def load_pipeline(spec: str | None) -> Analyzer:
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


# --------------------------------------------------------------------------- errors


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
        self.body = error_body(code, message, where=where, hint=hint)
        self.headers = headers


def error_body(
    code: str, message: str, *, where: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    """The JSON of every error answer (the :class:`ErrorBody` shape)."""
    return {"error": {"code": code, "message": message, "where": where, "hint": hint}}


def answer(error: ApiError) -> JSONResponse:
    """The response of an :class:`ApiError`."""
    return JSONResponse(error.body, status_code=error.status, headers=error.headers)


def content_type(request: Request) -> str:
    """The request's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error with an :class:`ErrorBody`: ``ApiError`` with its status,
    ``InputError`` and request validation with 422, HTTP errors with theirs, the rest with 500."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return answer(exc)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        # drop pydantic's union-member tags such as "str-enum[Situation]" from the location
        where = ".".join(str(p) for p in first.get("loc", ()) if "[" not in str(p))
        code = "invalid_field"
        message = str(first.get("msg"))
        if first.get("type") == "json_invalid":
            code, where = "malformed_json", "body"
            message = f"{message} at character {first.get('loc', ('', '?'))[-1]}"
        hint = f"{len(errors)} problem(s)" if len(errors) > 1 else None
        return answer(ApiError(422, code, message, where=where or None, hint=hint))

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # FastAPI's answer to a body it could not decode (e.g. JSON that is not UTF-8)
            ctype = content_type(request)
            json_body = ctype.endswith("json") or not ctype
            return answer(
                ApiError(
                    422,
                    "malformed_json" if json_body else "malformed_body",
                    "the body is not UTF-8 JSON" if json_body else "the body could not be decoded",
                    where="body",
                    hint="send a UTF-8 JSON object" if json_body else None,
                )
            )
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        return answer(ApiError(exc.status_code, code, str(exc.detail), headers=headers))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unexpected error on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        return answer(ApiError(500, "internal_error", "internal error; see the server log"))


def json_response(model: BaseModel, status: int = 200) -> Response:
    """Answer with the model's JSON (``model_dump(mode="json")``, the one JSON form)."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


# --------------------------------------------------------------------------- body limit


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
        body = json.dumps(error_body(code, message, where="body")).encode()
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


# --------------------------------------------------------------------------- auth

bearer = HTTPBearer(auto_error=False, description="ICP_NOTIFY_TOKEN")
"""The ``Authorization: Bearer`` scheme (documented in ``/openapi.json``)."""
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def token_ok(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """Whether the request carries the service token (always, when none is set)."""
    if settings.token is None:
        return True
    if credentials is None:
        return False
    return hmac.compare_digest(
        credentials.credentials.encode("utf-8", "replace"),
        settings.token.get_secret_value().encode("utf-8"),
    )


def unauthorized(message: str = "missing or wrong bearer token") -> ApiError:
    """401 ``unauthorized`` with ``WWW-Authenticate: Bearer``."""
    return ApiError(
        401,
        "unauthorized",
        message,
        hint="send Authorization: Bearer <ICP_NOTIFY_TOKEN>",
        headers={"WWW-Authenticate": "Bearer"},
    )
