"""The FastAPI application: :func:`create_app` wires the service together.

It builds the service's :class:`~icp_notify.server.http.Runtime` (settings, store, clock, the
pipeline loaded at start-up), adds the body limit and the error handlers of
:mod:`icp_notify.server.http`, and includes the routers of :mod:`icp_notify.server.routes` (the
route table is there) and the web page's (:mod:`icp_notify.server.ui`). The alert worker, when
alerts are configured, runs for the application's lifetime.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from icp_notify._version import __version__
from icp_notify.server.http import ERROR_RESPONSES, BodyLimit, Runtime, add_error_handlers
from icp_notify.server.routes import alerts, filings, health, ingest, notices, operations
from icp_notify.server.routes.notices import INLINE_ANALYZE_CHARS
from icp_notify.server.service import Analyzer
from icp_notify.server.settings import Settings
from icp_notify.server.store import NoticeStore, SqliteStore
from icp_notify.server.ui import ui_router

__all__ = ["INLINE_ANALYZE_CHARS", "create_app"]


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
    rt = Runtime(settings, the_store, clock, pipeline)
    worker = _alert_worker(settings, the_store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(rt.warm_up)
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
    app.state.runtime = rt
    app.state.alert_worker = worker

    add_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    app.include_router(alerts.router, dependencies=[rt.auth], responses=ERROR_RESPONSES)
    for area in (health, notices, operations, filings, ingest):
        app.include_router(area.router(rt))
    app.include_router(
        ui_router(settings, the_store, rt.service, lambda: getattr(rt.pipeline, "advisor", None))
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
