"""The service's routes, one module by area, each an :class:`~fastapi.APIRouter` that
:func:`icp_notify.server.app.create_app` includes in this order::

    alerts      GET  /v1/alerts?state=                  the alert outbox
    health      GET  /healthz, GET /readyz              liveness, readiness (store, pipeline, model)
    notices     POST /v1/analyze                        analyse one notice, store nothing -> Report
                POST /v1/notices                        store + classify with the filing's context
                GET  /v1/notices                        list (filing, situation, urgency, since, ...)
                GET  /v1/notices/{notice_id}            one stored notice
    operations  POST /v1/operations                     register a filing operation (re-explains)
                GET  /v1/operations?filing=             the operations of a filing
    filings     GET  /v1/filings/{filing}/timeline      the filing's attributed timeline
    ingest      POST /v1/ingest/smsforwarder?filing=    SmsForwarder's webhook (form or JSON, signed)
                POST /v1/ingest/generic?filing=         other forwarders, with a field mapping

All ``/v1`` routes need ``Authorization: Bearer <token>`` when a token is set; the webhook
routes also take SmsForwarder's signature instead. The web page (``/ui/...``) is the router of
:mod:`icp_notify.server.ui`.

What the routes share — the :class:`~icp_notify.server.http.Runtime`, error answers, the
bearer-token dependency, the body limit — is in :mod:`icp_notify.server.http`; what they do,
without the web framework, in :mod:`icp_notify.server.service` and
:mod:`icp_notify.server.explain`. A new route goes into the module of its area, or a new module
here included by ``create_app``; ``tests/server/test_routes.py`` pins the list.
"""
