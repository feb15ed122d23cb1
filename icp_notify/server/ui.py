"""The web page under ``/ui``: server-rendered HTML (Jinja2), no JavaScript.

Pages (every one escapes what it shows; see ``docs/server.md``):

===================================  ==========================================================
``GET  /ui``                         filings, each with its worst open urgency
``GET  /ui/timeline?filing=&lang=``  a filing's notices and operations in time order, advice
``POST /ui/ack``                     acknowledge a notice (it stops being open)
``GET  /ui/notices``                 notices, filterable by filing, situation, urgency; paged
``GET  /ui/notices/new``             form: paste a notice  (``POST /ui/notices``)
``GET  /ui/operations/new``          form: register an operation  (``POST /ui/operations``)
``GET  /ui/login``                   form: the service token  (``POST /ui/login``, ``/logout``)
``GET  /ui/static/style.css``        the style sheet
===================================  ==========================================================

Sessions are kept in memory: the cookie carries only a random session id (HttpOnly,
SameSite=Strict, ``Path=/ui``, Secure over https); each session has its own CSRF token, which
every form carries and every ``POST`` checks (403 otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from icp_notify.errors import InputError
from icp_notify.models import URGENCY_ORDER, Channel, Situation, Urgency
from icp_notify.server.explain import register_operation
from icp_notify.server.schemas import NoticeIn, OperationIn
from icp_notify.server.service import NoticeService
from icp_notify.server.settings import Settings
from icp_notify.server.store import NoticeQuery, NoticeStore
from icp_notify.server.views import AdviceSource, filing_timeline, to_shanghai

log = logging.getLogger("icp_notify.server")

COOKIE = "icp_notify_session"
"""Name of the session cookie (a random id; the session itself stays on the server)."""

SESSION_TTL_S = 12 * 3600
"""How long a session lasts after it was created."""

PAGE_SIZE = 50
"""Notices per page of ``/ui/notices``."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Headers on every ``/ui`` answer: no script runs, nothing loads from elsewhere, no framing."""

_OPERATION_KINDS = (Situation.NEW_DOMAIN, Situation.MODIFY_DOMAIN, Situation.ACCESS_DOMAIN)
_FILTER_SITUATIONS = (*(s.value for s in Situation), "ambiguous")


@dataclass
class Session:
    """One browser session: its CSRF token, whether it logged in, when it ends."""

    csrf: str
    authed: bool
    expires: float


class Sessions:
    """Server-side sessions, keyed by a hash of the random id the cookie carries.

    Parameters
    ----------
    ttl_s : float
        Lifetime of a session.
    max_sessions : int
        The most sessions kept; the oldest are dropped beyond it.

    Examples
    --------
    >>> sessions = Sessions()
    >>> sid, session = sessions.new(authed=False)
    >>> sessions.get(sid) is session, sessions.get("forged") is None
    (True, True)
    >>> sessions.drop(sid); sessions.get(sid) is None
    True
    """

    def __init__(self, ttl_s: float = SESSION_TTL_S, max_sessions: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()

    def new(self, *, authed: bool) -> tuple[str, Session]:
        """Start a session; return its id (for the cookie) and the session.

        Parameters
        ----------
        authed : bool
            Whether it is logged in.

        Returns
        -------
        tuple of (str, Session)
        """
        sid = secrets.token_urlsafe(32)
        session = Session(
            csrf=secrets.token_urlsafe(32), authed=authed, expires=time.time() + self.ttl_s
        )
        with self._lock:
            now = time.time()
            for key in [k for k, s in self._items.items() if s.expires <= now]:
                del self._items[key]
            while len(self._items) >= self.max_sessions:
                del self._items[next(iter(self._items))]
            self._items[self._key(sid)] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        """The live session with this id, if any.

        Parameters
        ----------
        sid : str or None
            The cookie's value.

        Returns
        -------
        Session or None
        """
        if not sid:
            return None
        with self._lock:
            session = self._items.get(self._key(sid))
            if session is not None and session.expires <= time.time():
                del self._items[self._key(sid)]
                return None
            return session

    def drop(self, sid: str | None) -> None:
        """End a session (logout).

        Parameters
        ----------
        sid : str or None
            The cookie's value.
        """
        if sid:
            with self._lock:
                self._items.pop(self._key(sid), None)


def _templates() -> Jinja2Templates:
    """The page templates, shipped in ``icp_notify/server/templates`` (always autoescaped)."""
    directory = Path(str(resources.files("icp_notify.server") / "templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shanghai"] = to_shanghai
    env.filters["pct"] = lambda value: f"{float(value) * 100:.0f}%"
    return Jinja2Templates(env=env)


def _field(form: FormData, name: str) -> str:
    """A form field as text (``""`` when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _optional(value: str) -> str | None:
    value = value.strip()
    return value or None


def _validation_messages(exc: ValidationError) -> list[str]:
    """Pydantic's errors as ``field: message`` lines."""
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if "[" not in str(p))
        message = str(error.get("msg"))
        if error.get("type") in ("literal_error", "enum"):
            message = "not one of the choices offered"
        out.append(f"{where}: {message}" if where else message)
    return out


def _input_message(exc: InputError) -> str:
    body = exc.to_dict()
    text = f"{body.get('where')}: {body.get('message')}" if body.get("where") else body["message"]
    return f"{text} ({body['hint']})" if body.get("hint") else str(text)


def ui_router(
    settings: Settings,
    store: NoticeStore,
    service: Callable[[], NoticeService],
    advisor: Callable[[], AdviceSource | None] = lambda: None,
) -> APIRouter:
    """The ``/ui`` routes (left out of the OpenAPI schema).

    Parameters
    ----------
    settings : Settings
        The service settings (``token``: the login; none → open mode).
    store : NoticeStore
        The service's store.
    service : callable returning NoticeService
        The service behind ``POST /v1/notices`` (raises when the pipeline is not loaded).
    advisor : callable returning AdviceSource or None
        The advisor for cards in the other language (``None``: the shipped one).

    Returns
    -------
    fastapi.APIRouter
    """
    router = APIRouter(prefix="/ui", include_in_schema=False)
    templates = _templates()
    sessions = Sessions()
    open_mode = settings.token is None

    # ------------------------------------------------------------------ plumbing

    def session_of(request: Request) -> tuple[str, Session, bool]:
        """``(id, session, new)``: the request's session, or a fresh one (logged in only in
        open mode)."""
        sid = request.cookies.get(COOKIE)
        session = sessions.get(sid)
        if sid is not None and session is not None:
            return sid, session, False
        sid, session = sessions.new(authed=open_mode)
        return sid, session, True

    def finish(request: Request, response: Response, sid: str | None = None) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if sid is not None:
            response.set_cookie(
                COOKIE,
                sid,
                max_age=SESSION_TTL_S,
                path="/ui",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    def render(
        request: Request,
        session: tuple[str, Session, bool],
        name: str,
        context: Mapping[str, Any],
        status: int = 200,
    ) -> Response:
        sid, sess, new = session
        full = {
            "csrf": sess.csrf,
            "open_mode": open_mode,
            "authed": sess.authed,
            "urgencies": [u.value for u in URGENCY_ORDER],
            **context,
        }
        response = templates.TemplateResponse(request, name, full, status_code=status)
        return finish(request, response, sid if new else None)

    def redirect(
        request: Request, url: str, session: tuple[str, Session, bool] | None = None
    ) -> Response:
        response = RedirectResponse(url, status_code=303)
        return finish(request, response, session[0] if session and session[2] else None)

    def forbidden(request: Request, message: str, status: int = 403) -> Response:
        response = templates.TemplateResponse(
            request,
            "error.html",
            {"message": message, "csrf": "", "open_mode": open_mode, "authed": False},
            status_code=status,
        )
        return finish(request, response)

    async def read_form(request: Request) -> FormData | None:
        """The form, or ``None`` when it cannot be read or is not UTF-8 (never replaced
        silently with U+FFFD, as Starlette would)."""
        body = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype == "application/x-www-form-urlencoded":
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
            form = await request.form()
        except Exception:  # python-multipart and the decoders raise several types
            return None
        if ctype == "multipart/form-data":
            for value in form.values():
                # a part that is not UTF-8 is decoded as Latin-1: its text re-encoded as UTF-8
                # is then not in the body
                if isinstance(value, str) and value.encode("utf-8", "surrogatepass") not in body:
                    return None
        return form

    async def checked_post(
        request: Request,
    ) -> tuple[tuple[str, Session, bool], FormData] | Response:
        """The session and form of a POST whose CSRF token matches; else a 403 page."""
        sid = request.cookies.get(COOKIE)
        session = sessions.get(sid)
        if sid is None or session is None:
            return forbidden(request, "no session: load the page again, then send the form")
        form = await read_form(request)
        if form is None:
            return forbidden(request, "the form could not be read (send it as UTF-8)", 400)
        token = _field(form, "csrf")
        if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
            return forbidden(request, "missing or wrong CSRF token: load the page again")
        return (sid, session, False), form

    def timeline_url(filing: str, lang: str = "zh") -> str:
        query = {"filing": filing} | ({"lang": lang} if lang == "en" else {})
        return "/ui/timeline?" + urlencode(query)

    # ------------------------------------------------------------------ login

    @router.get("/login")
    def login_page(request: Request) -> Response:
        session = session_of(request)
        if session[1].authed and not open_mode:
            return redirect(request, "/ui", session)
        return render(request, session, "login.html", {"error": None})

    @router.post("/login")
    async def login(request: Request) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        (sid, _session, _), form = checked
        if open_mode:
            return redirect(request, "/ui")
        assert settings.token is not None
        given = _field(form, "token").encode("utf-8", "replace")
        if not hmac.compare_digest(given, settings.token.get_secret_value().encode("utf-8")):
            return render(request, checked[0], "login.html", {"error": "wrong token"}, status=401)
        sessions.drop(sid)  # a new id after login: a planted cookie cannot ride the login
        new_sid, new = sessions.new(authed=True)
        return redirect(request, "/ui", (new_sid, new, True))

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        sessions.drop(checked[0][0])
        response = redirect(request, "/ui/login")
        response.delete_cookie(COOKIE, path="/ui")
        return response

    def page_session(request: Request) -> tuple[str, Session, bool] | Response:
        """The logged-in session, or a redirect to the login page."""
        session = session_of(request)
        if not session[1].authed:
            return redirect(request, "/ui/login", session)
        return session

    # ------------------------------------------------------------------ pages

    @router.get("/static/style.css")
    def style() -> Response:
        css = (resources.files("icp_notify.server") / "templates" / "style.css").read_text("utf-8")
        response = Response(css, media_type="text/css")
        response.headers["Cache-Control"] = "max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @router.get("")
    def filings(request: Request) -> Response:
        session = page_session(request)
        if isinstance(session, Response):
            return session
        return render(request, session, "filings.html", {"filings": store.filing_summaries()})

    def _attributions(filing: str) -> dict[int, tuple[str, ...]]:
        """What the context engine says explains each generic notice (notice id → sentence)."""
        from icp_notify.server.explain import filing_timeline as explained

        try:
            replay = explained(store, filing)
        except InputError:
            return {}  # a history past the context's limits: keep the stored evidence
        return {
            notice_id: (f"{a.detail} ({a.rule})",)
            for notice_id, a in zip(replay.notice_ids, replay.timeline.notices, strict=True)
            if a.generic
        }

    @router.get("/timeline")
    def timeline(request: Request, filing: str = "", lang: str = "zh") -> Response:
        session = page_session(request)
        if isinstance(session, Response):
            return session
        if not filing.strip():
            return redirect(request, "/ui", session)
        language: Literal["zh", "en"] = "en" if lang == "en" else "zh"
        view = filing_timeline(
            store, filing, lang=language, advisor=advisor(), attributions=_attributions(filing)
        )
        return render(
            request,
            session,
            "timeline.html",
            {
                "timeline": view,
                "other_lang_url": timeline_url(filing, "zh" if language == "en" else "en"),
                "filing_q": urlencode({"filing": filing}),
            },
        )

    @router.post("/ack")
    async def acknowledge(request: Request) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if not session[1].authed:
            return redirect(request, "/ui/login")
        raw = _field(form, "notice_id")
        notice_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0
        record = store.get_notice(notice_id) if notice_id else None
        if record is None:
            return render(
                request, session, "error.html", {"message": f"no notice {raw[:40]!r}"}, status=404
            )
        store.acknowledge(notice_id)
        return redirect(request, timeline_url(record.filing, _field(form, "lang")))

    @router.get("/notices")
    def notices(
        request: Request,
        filing: str = "",
        situation: str = "",
        urgency: str = "",
        cursor: str = "",
    ) -> Response:
        session = page_session(request)
        if isinstance(session, Response):
            return session
        errors: list[str] = []
        if situation and situation not in _FILTER_SITUATIONS:
            errors.append(f"situation: {situation[:40]!r} is not one of the situations")
        if urgency and urgency not in {u.value for u in Urgency}:
            errors.append(f"urgency: {urgency[:40]!r} is not one of the urgencies")
        if len(filing) > 200:
            errors.append("filing: longer than 200 characters")
        items: list[Any] = []
        next_cursor: str | None = None
        if not errors:
            query = NoticeQuery(
                filing=filing.strip() or None,
                situation=situation or None,
                urgency=Urgency(urgency) if urgency else None,
            )
            try:
                items, next_cursor = store.list_notices(
                    query, limit=PAGE_SIZE, cursor=cursor or None
                )
            except InputError as exc:
                errors.append(_input_message(exc))
        filters = {"filing": filing, "situation": situation, "urgency": urgency}
        next_url = None
        if next_cursor is not None:
            next_url = "/ui/notices?" + urlencode(
                {k: v for k, v in filters.items() if v} | {"cursor": next_cursor}
            )
        return render(
            request,
            session,
            "notices.html",
            {
                "items": items,
                "filters": filters,
                "situations": _FILTER_SITUATIONS,
                "errors": errors,
                "next_url": next_url,
                "first_url": "/ui/notices?" + urlencode({k: v for k, v in filters.items() if v})
                if cursor
                else None,
            },
            status=422 if errors else 200,
        )

    # ------------------------------------------------------------------ forms

    def form_page(template: str, choices: Mapping[str, list[str]]) -> Callable[..., Response]:
        """A form page (values typed so far, errors above them) of ``template``."""

        def page(
            request: Request,
            session: tuple[str, Session, bool],
            values: Mapping[str, str],
            errors: list[str],
            status: int = 200,
        ) -> Response:
            context = {"values": values, "errors": errors, **choices}
            return render(request, session, template, context, status=status)

        return page

    operation_form = form_page(
        "operation_form.html", {"kinds": [k.value for k in _OPERATION_KINDS]}
    )
    notice_form = form_page("notice_form.html", {"channels": [c.value for c in Channel]})

    @router.get("/operations/new")
    def new_operation(request: Request, filing: str = "") -> Response:
        session = page_session(request)
        if isinstance(session, Response):
            return session
        return operation_form(request, session, {"filing": filing[:200]}, [])

    @router.post("/operations")
    async def post_operation(request: Request) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if not session[1].authed:
            return redirect(request, "/ui/login")
        names = ("filing", "kind", "submitted_at", "domain", "provider", "from_provider")
        values = {name: _field(form, name) for name in names}
        operation: dict[str, Any] = {
            "kind": values["kind"],
            "submitted_at": values["submitted_at"].strip(),
        }
        for name in ("domain", "provider", "from_provider"):
            if _optional(values[name]) is not None:
                operation[name] = values[name].strip()
        try:
            body = OperationIn.model_validate(
                {"filing": values["filing"].strip(), "operation": operation}
            )
            # as POST /v1/operations: the operation cap, then the filing's stored notices are
            # explained again (an escalation to access_cancelled also sends its follow-up alert)
            try:
                svc: NoticeService | None = service()
            except Exception as exc:  # the app's ApiError: 503 while the pipeline is not loaded
                if getattr(exc, "status", None) != 503:
                    raise
                svc = None  # stored notices keep their reports until it is
            await run_in_threadpool(register_operation, store, body.filing, body.operation, svc)
        except ValidationError as exc:
            return operation_form(request, session, values, _validation_messages(exc), 422)
        except InputError as exc:
            return operation_form(request, session, values, [_input_message(exc)], 422)
        return redirect(request, timeline_url(body.filing))

    @router.get("/notices/new")
    def new_notice(request: Request, filing: str = "") -> Response:
        session = page_session(request)
        if isinstance(session, Response):
            return session
        return notice_form(request, session, {"filing": filing[:200]}, [])

    @router.post("/notices")
    async def post_notice(request: Request) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if not session[1].authed:
            return redirect(request, "/ui/login")
        names = ("filing", "text", "sender", "channel", "received_at", "lang")
        values = {name: _field(form, name) for name in names}
        body_in: dict[str, Any] = {"filing": values["filing"].strip(), "text": values["text"]}
        for name in ("sender", "channel", "received_at", "lang"):
            if _optional(values[name]) is not None:
                body_in[name] = values[name].strip()
        try:
            body = NoticeIn.model_validate(body_in)
            svc = service()
            record, _ = await run_in_threadpool(svc.post, body)
        except ValidationError as exc:
            return notice_form(request, session, values, _validation_messages(exc), 422)
        except InputError as exc:
            return notice_form(request, session, values, [_input_message(exc)], 422)
        except Exception as exc:
            status = getattr(exc, "status", None)
            if isinstance(status, int):  # the app's ApiError (503: the pipeline is not loaded)
                message = str(getattr(exc, "body", {}).get("error", {}).get("message", exc))
            else:  # logged like the app's handler of unexpected errors; the form is kept
                log.error("unexpected error on POST /ui/notices", exc_info=exc)
                status, message = 500, "internal error; see the server log"
            return notice_form(request, session, values, [message], status)
        return redirect(request, f"{timeline_url(record.filing, body.lang)}#notice-{record.id}")

    return router
