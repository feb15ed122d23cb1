"""``GET /v1/filings/{filing}/timeline``: a filing's operations and stored notices replayed in
time order, each notice attributed (:func:`icp_notify.server.explain.filing_timeline`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from icp_notify.server.explain import FilingTimeline, filing_timeline
from icp_notify.server.http import ERROR_RESPONSES, Runtime, json_response


def router(rt: Runtime) -> APIRouter:
    """The filing routes of the service ``rt``."""
    routes = APIRouter()

    @routes.get(
        "/v1/filings/{filing}/timeline",
        response_model=FilingTimeline,
        dependencies=[rt.auth],
        responses=ERROR_RESPONSES,
        tags=["operations"],
    )
    def get_timeline(filing: Annotated[str, Path(min_length=1, max_length=200)]) -> Response:
        """The filing's operations and stored notices in time order, each notice attributed
        to what explains it (an operation, a move's cancellation, a provider's notice, nothing)."""
        return json_response(filing_timeline(rt.store, filing))

    return routes
