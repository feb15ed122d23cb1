"""``/v1/operations``: register a filing operation (which re-explains the filing) and list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from icp_notify.server.explain import OperationRegistered, register_operation
from icp_notify.server.http import ERROR_RESPONSES, Runtime, json_response
from icp_notify.server.schemas import OperationIn, OperationList


def router(rt: Runtime) -> APIRouter:
    """The operation routes of the service ``rt``."""
    routes = APIRouter()
    auth, errors = rt.auth, ERROR_RESPONSES

    @routes.post(
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
        svc = rt.service() if rt.pipeline is not None else None
        answer, created = register_operation(rt.store, body.filing, body.operation, svc)
        return json_response(answer, 201 if created else 200)

    @routes.get(
        "/v1/operations",
        response_model=OperationList,
        dependencies=[auth],
        responses=errors,
        tags=["operations"],
    )
    def list_operations(filing: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
        """The registered operations of a filing, oldest submission first."""
        return json_response(OperationList(items=tuple(rt.store.list_operations(filing))))

    return routes
