"""WeCom group robot (企业微信群机器人): the ``key`` in the URL is the credential.

The card is a ``markdown`` message cut to :data:`MAX_CONTENT_BYTES` (the stricter of WeCom's
limits: 2048 bytes for text, 4096 for Markdown), ending with the idempotency key.

Examples
--------
>>> from icp_notify.alerts.sample import sample_report
>>> from icp_notify.alerts.card import build_card
>>> body = render(build_card(sample_report(), filing="shop-example-cn"), "k-1")
>>> body["msgtype"], len(body["markdown"]["content"].encode()) <= MAX_CONTENT_BYTES
('markdown', True)
>>> body["markdown"]["content"].splitlines()[-1]
'消息编号: k-1'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from icp_notify.alerts.base import Delivery, post_json
from icp_notify.alerts.card import AlertCard, fit

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_CONTENT_BYTES", "WeComSender", "render"]

MAX_CONTENT_BYTES = 2048
"""Largest message content sent, in UTF-8 bytes."""

_COLOUR = {"critical": "warning", "high": "warning", "normal": "info", "info": "comment"}


def render(card: AlertCard, key: str) -> dict[str, object]:
    """The JSON body: a ``markdown`` message of at most :data:`MAX_CONTENT_BYTES`.

    Parameters
    ----------
    card : AlertCard
        The alert.
    key : str
        Its idempotency key.

    Returns
    -------
    dict
    """
    colour = _COLOUR[card.urgency.value]
    head = f'### <font color="{colour}">{card.title}</font>'
    footer = f"\n{card.labels()['key']}: {key}"
    room = MAX_CONTENT_BYTES - len(footer.encode()) - len(head.encode()) - 1
    body = fit(card.markdown(heading=False), room, card.lang)
    return {"msgtype": "markdown", "markdown": {"content": f"{head}\n{body}{footer}"}}


class WeComSender:
    """Sends cards to one WeCom group robot.

    Parameters
    ----------
    name : str
        The channel name in the alerts file.
    url : str
        The send endpoint without the key.
    key : str
        The robot's webhook key.
    """

    kind = "wecom"

    def __init__(self, name: str, url: str, key: str) -> None:
        self.name, self.url, self.key = name, url, key

    def send(self, card: AlertCard, key: str, client: httpx.Client) -> Delivery:
        """Post the card; a failure is returned, never raised (:class:`~icp_notify.alerts.base.Sender`)."""
        url = f"{self.url}{'&' if '?' in self.url else '?'}key={quote(self.key, safe='')}"
        body = json.dumps(render(card, key), ensure_ascii=False).encode()
        return post_json(client, url, body, {"Idempotency-Key": key}, robot=True)
