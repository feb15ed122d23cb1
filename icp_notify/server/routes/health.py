"""``GET /healthz`` and ``GET /readyz``: liveness and readiness (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from icp_notify._version import __version__
from icp_notify.server.http import Runtime, json_response
from icp_notify.server.schemas import Health, Readiness


def router(rt: Runtime) -> APIRouter:
    """The health routes of the service ``rt``."""
    routes = APIRouter()

    @routes.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Response:
        """The process is up."""
        return json_response(Health(version=__version__))

    @routes.get(
        "/readyz", response_model=Readiness, tags=["health"], responses={503: {"model": Readiness}}
    )
    def readyz() -> Response:
        """Ready when the store is writable and the pipeline is loaded (else 503)."""
        writable = rt.store.check_writable()
        body = Readiness(
            ready=writable and rt.loaded,
            store_writable=writable,
            pipeline_loaded=rt.loaded,
            model_version=rt.model_version,
            schema_version=rt.store.schema_version,
            version=__version__,
        )
        return json_response(body, 200 if body.ready else 503)

    return routes
