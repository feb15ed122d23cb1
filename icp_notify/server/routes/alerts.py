"""``GET /v1/alerts``: the alert outbox (see :mod:`icp_notify.server.outbox`).

Unlike the other route modules, whose ``router(rt)`` builds a router for one service, this
router is built once: the route reads the store of the application (``request.app.state.store``),
and ``create_app`` adds the bearer-token dependency and the error responses when it includes it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from icp_notify.server.outbox import AlertPage, AlertState
from icp_notify.server.store import MAX_ID, NoticeStore

__all__ = ["router"]

router = APIRouter(tags=["alerts"])


@router.get("/v1/alerts", response_model=AlertPage)
def list_alerts(
    request: Request,
    *,
    state: AlertState | None = None,
    filing: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    notice_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Response:
    """Outbox alerts, newest first: ``state=pending|sending|retry|delivered|dead``.

    Parameters
    ----------
    request : Request
        The request (its app holds the store).
    state : str, optional
        Only alerts in this state.
    filing : str, optional
        Only this filing's alerts.
    notice_id : int, optional
        Only this notice's alerts.
    limit : int, default 50
        Page size (1-500).
    cursor : str, optional
        ``next_cursor`` of the previous page.

    Returns
    -------
    Response
        An :class:`~icp_notify.server.outbox.AlertPage`.
    """
    store: NoticeStore = request.app.state.store
    items, next_cursor = store.list_alerts(
        state=state, filing=filing, notice_id=notice_id, limit=limit, cursor=cursor
    )
    page = AlertPage(items=tuple(items), next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type="application/json")
