"""``/v1/analyze`` and ``/v1/notices``: analyse a notice, store and classify one, list and read them."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from icp_notify.boundary import coerce_time
from icp_notify.models import Report, Situation, Urgency
from icp_notify.server.http import ERROR_RESPONSES, ApiError, Runtime, json_response
from icp_notify.server.schemas import AnalyzeRequest, ErrorBody, NoticeIn, NoticePage, StoredNotice
from icp_notify.server.store import MAX_ID, NoticeQuery

INLINE_ANALYZE_CHARS = 2_000
"""``/v1/analyze`` runs texts up to this many characters on the event loop and longer ones in the
thread pool (see the route)."""


def router(rt: Runtime) -> APIRouter:
    """The notice routes of the service ``rt``."""
    routes = APIRouter()
    auth, errors = rt.auth, ERROR_RESPONSES

    @routes.post(
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
            rt.service().analyze,
            request.text,
            channel=request.channel,
            sender=request.sender,
            received_at=request.received_at,
            context=request.context,
            lang=request.lang,
        )
        inline = len(request.text) <= INLINE_ANALYZE_CHARS
        report = call() if inline else await run_in_threadpool(call)
        return json_response(report)

    @routes.post(
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
        record, created = rt.service().post(notice)
        return json_response(record, 201 if created else 200)

    @routes.get(
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
            since=coerce_time(since, field="query.since"),
            until=coerce_time(until, field="query.until"),
        )
        items, next_cursor = rt.store.list_notices(query, limit=limit, cursor=cursor)
        return json_response(NoticePage(items=tuple(items), next_cursor=next_cursor))

    @routes.get(
        "/v1/notices/{notice_id}",
        response_model=StoredNotice,
        dependencies=[auth],
        responses={404: {"model": ErrorBody}, **errors},
        tags=["notices"],
    )
    def get_notice(notice_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        """One stored notice."""
        record = rt.store.get_notice(notice_id)
        if record is None:
            raise ApiError(404, "not_found", f"no notice {notice_id}", where="notice_id")
        return json_response(record)

    return routes
