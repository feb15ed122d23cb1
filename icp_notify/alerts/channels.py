"""Build the senders of an alerts file, with the secrets read from the environment.

Examples
--------
>>> from icp_notify.alerts.config import AlertsConfig
>>> config = AlertsConfig.from_toml('''
... [channels.ops-wecom]
... type = "wecom"
... key_env = "WECOM_KEY"
... [[routes]]
... channels = ["ops-wecom"]''')
>>> senders = build_senders(config, {"WECOM_KEY": "693a91f6-7xxx"})
>>> senders["ops-wecom"].kind
'wecom'
"""

from __future__ import annotations

from collections.abc import Mapping

from icp_notify.alerts.base import Sender
from icp_notify.alerts.config import (
    AlertsConfig,
    DingTalkChannel,
    EmailChannel,
    FeishuChannel,
    WebhookChannel,
    WeComChannel,
    resolve_secrets,
)

__all__ = ["build_senders"]


def build_senders(
    config: AlertsConfig, environ: Mapping[str, str] | None = None
) -> dict[str, Sender]:
    """One sender per ``[channels.NAME]``.

    Parameters
    ----------
    config : AlertsConfig
        The alerts file.
    environ : mapping, optional
        Where the ``*_env`` variables are read; ``os.environ`` when omitted.

    Returns
    -------
    dict of str to Sender

    Raises
    ------
    InputError
        ``missing_secret`` naming the key whose variable is not set.
    """
    from icp_notify.alerts.dingtalk import DingTalkSender
    from icp_notify.alerts.email import EmailSender
    from icp_notify.alerts.feishu import FeishuSender
    from icp_notify.alerts.webhook import WebhookSender
    from icp_notify.alerts.wecom import WeComSender

    secrets = resolve_secrets(config, environ)
    out: dict[str, Sender] = {}
    for name, ch in config.channels.items():
        s = {k: v.get_secret_value() for k, v in secrets[name].items()}
        sender: Sender
        if isinstance(ch, DingTalkChannel):
            sender = DingTalkSender(name, s["url"], s.get("secret"))
        elif isinstance(ch, FeishuChannel):
            sender = FeishuSender(name, s["url"], s.get("secret"))
        elif isinstance(ch, WeComChannel):
            sender = WeComSender(name, ch.url, s["key"])
        elif isinstance(ch, WebhookChannel):
            sender = WebhookSender(name, ch.url or s["url"], s.get("secret"))
        else:
            assert isinstance(ch, EmailChannel)
            sender = EmailSender(
                name,
                ch.host,
                ch.port,
                sender=ch.sender,
                to=ch.to,
                starttls=ch.starttls,
                username=ch.username,
                password=s.get("password"),
                ca_file=ch.ca_file,
                timeout=config.delivery.timeout_s,
            )
        out[name] = sender
    return out
