"""``icp-notify reclassify``: recompute stored classifications after a model update."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icp_notify.server.service import Analyzer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify reclassify``."""
    parser.add_argument("--db", required=True, help="the service's SQLite database file")
    parser.add_argument(
        "--context-notices",
        type=int,
        default=20,
        help="earlier notices of a filing passed as context (default 20)",
    )
    parser.add_argument(
        "--alerts",
        help="alerts file (TOML): enqueue follow-up alerts for escalated notices (the"
        " service's worker sends them)",
    )


def _load_pipeline() -> Analyzer:
    from icp_notify.pipeline import Pipeline

    return Pipeline.default()


def run(args: argparse.Namespace) -> int:
    """Reclassify every stored notice and print how many changed."""
    from pathlib import Path

    from icp_notify.errors import InputError
    from icp_notify.server.service import NoticeService
    from icp_notify.server.store import SqliteStore

    if not Path(args.db).is_file():
        raise InputError("unreadable", "no such database file", where=str(args.db))
    router = None
    if getattr(args, "alerts", None):  # callers building the Namespace by hand omit it
        from icp_notify.alerts.config import load_config
        from icp_notify.alerts.routing import Router

        router = Router(load_config(args.alerts))
    store = SqliteStore(args.db)
    store.alert_router = router
    try:
        service = NoticeService(store, _load_pipeline(), context_notices=args.context_notices)
        seen, changed = service.reclassify()
    finally:
        store.close()
    print(f"reclassified {seen} notices: {changed} changed")
    return 0
