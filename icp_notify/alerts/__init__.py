"""Alerts out: tell the operator about a notice in DingTalk, Feishu/Lark, WeCom, a webhook or e-mail.

One module per channel (:mod:`~icp_notify.alerts.dingtalk`, :mod:`~icp_notify.alerts.feishu`,
:mod:`~icp_notify.alerts.wecom`, :mod:`~icp_notify.alerts.webhook`,
:mod:`~icp_notify.alerts.email`), each rendering the advice card in its own format and signing
the request; :mod:`~icp_notify.alerts.config` reads the TOML routing file;
:mod:`~icp_notify.alerts.routing` decides which channels a notice goes to (minimum urgency,
quiet hours, escalations); :mod:`~icp_notify.alerts.worker` delivers the outbox with retries.
See ``docs/server.md`` ("Alerts").

Importing this package loads no HTTP client; the channels import ``httpx`` when they send.
"""

from __future__ import annotations

from icp_notify.alerts.card import AlertCard, Change, build_card
from icp_notify.alerts.config import AlertsConfig, ChannelConfig, RouteConfig, load_config

__all__ = [
    "AlertCard",
    "AlertsConfig",
    "Change",
    "ChannelConfig",
    "RouteConfig",
    "build_card",
    "load_config",
]
