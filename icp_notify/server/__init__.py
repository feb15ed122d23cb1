"""The HTTP service (``server`` extra): phones forward notices in, each is stored, classified
with its filing's history, and queryable.

``create_app`` and ``Settings`` are imported on first use, so importing this package does not
import FastAPI.

Examples
--------
>>> import icp_notify.server as server
>>> sorted(server.__all__)
['NoticeStore', 'Settings', 'SqliteStore', 'create_app']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from icp_notify.server.app import create_app
    from icp_notify.server.settings import Settings
    from icp_notify.server.store import NoticeStore, SqliteStore

_LAZY = {
    "create_app": "icp_notify.server.app",
    "Settings": "icp_notify.server.settings",
    "NoticeStore": "icp_notify.server.store",
    "SqliteStore": "icp_notify.server.store",
}

__all__ = ["NoticeStore", "Settings", "SqliteStore", "create_app"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'icp_notify.server' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
