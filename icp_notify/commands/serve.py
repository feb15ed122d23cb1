"""``icp-notify serve``: run the HTTP service with uvicorn (needs the ``server`` extra).

Options override the ``ICP_NOTIFY_*`` environment variables; see ``docs/server.md``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify serve``."""
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default 8000)")
    parser.add_argument("--db", help="SQLite database file (default icp-notify.sqlite3)")
    parser.add_argument(
        "--token", help="bearer token for /v1 routes (better: ICP_NOTIFY_TOKEN in the environment)"
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--alerts", help="alerts file (TOML) routing notices to DingTalk, Feishu, WeCom, …"
    )


def run(args: argparse.Namespace) -> int:
    """Start the service; returns when uvicorn stops."""
    from icp_notify.errors import InputError

    try:
        import uvicorn

        from icp_notify.server.app import create_app
        from icp_notify.server.logs import configure_logging
        from icp_notify.server.settings import Settings
    except ModuleNotFoundError as exc:
        raise InputError(
            "missing_extra",
            f"the server needs {exc.name}",
            hint="pip install 'icp-notify[server]'",
        ) from None

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        db=args.db,
        token=args.token,
        log_level=args.log_level,
        alerts=args.alerts,
    )
    settings.check_bind()
    configure_logging(settings.log_level)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        workers=1,
        timeout_graceful_shutdown=10,
    )
    return 0
