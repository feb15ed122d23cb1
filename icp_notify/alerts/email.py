"""SMTP e-mail with the standard library's :mod:`smtplib`, over STARTTLS.

The connection is upgraded with STARTTLS before anything is sent (a server that does not offer
it is a failed delivery, never a plain-text fallback), the certificate is verified (against
``ca_file`` when given), then ``AUTH`` when a user is configured. The idempotency key is the
``Message-ID`` (``<key@icp-notify>``) and an ``X-Idempotency-Key`` header.

Examples
--------
>>> from icp_notify.alerts.sample import sample_report
>>> from icp_notify.alerts.card import build_card
>>> msg = render(build_card(sample_report("en"), filing="shop-example-cn"), "k-1",
...              sender="icp@example.net", to=("ops@example.net",))
>>> msg["Subject"], msg["Message-ID"], msg["X-Idempotency-Key"]
('[CRITICAL] access_cancelled · shop-example-cn', '<k-1@icp-notify>', 'k-1')
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING

from icp_notify.alerts.base import Delivery
from icp_notify.alerts.card import AlertCard

if TYPE_CHECKING:
    import httpx

__all__ = ["EmailSender", "render"]


def render(card: AlertCard, key: str, *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The e-mail: the card's title as subject, its plain-text layout as body.

    Parameters
    ----------
    card : AlertCard
        The alert.
    key : str
        Its idempotency key.
    sender : str
        The ``From`` address.
    to : sequence of str
        The recipients.

    Returns
    -------
    email.message.EmailMessage
    """
    msg = EmailMessage()
    msg["Subject"] = card.title
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{key}@icp-notify>"
    msg["X-Idempotency-Key"] = key
    msg.set_content(card.plain() + f"\n\n-- \n{card.labels()['key']}: {key}\n")
    return msg


class EmailSender:
    """Sends cards by SMTP.

    Parameters
    ----------
    name : str
        The channel name in the alerts file.
    host, port : str, int
        The SMTP server (submission port 587 by default).
    sender : str
        ``From``.
    to : sequence of str
        Recipients.
    starttls : bool, default True
        Upgrade with STARTTLS (``False`` only for a loopback relay).
    username, password : str, optional
        ``AUTH`` credentials.
    ca_file : Path, optional
        CA bundle to verify the server's certificate with (the system's otherwise).
    timeout : float, default 10
        Socket timeout in seconds.
    """

    kind = "email"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        sender: str,
        to: Sequence[str],
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name, self.host, self.port = name, host, port
        self.sender, self.to = sender, tuple(to)
        self.starttls, self.username, self.password = starttls, username, password
        self.ca_file, self.timeout = ca_file, timeout

    def send(self, card: AlertCard, key: str, client: httpx.Client | None = None) -> Delivery:
        """Send the card by SMTP (see :class:`~icp_notify.alerts.base.Sender`).

        Parameters
        ----------
        card : AlertCard
            The alert.
        key : str
            Its idempotency key.
        client : httpx.Client or None
            Unused (e-mail goes through :mod:`smtplib`).

        Returns
        -------
        Delivery
            The answer; a failure is returned, never raised.
        """
        msg = render(card, key, sender=self.sender, to=self.to)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    context = ssl.create_default_context(
                        cafile=str(self.ca_file) if self.ca_file else None
                    )
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return Delivery(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {text}"[:300])
        except smtplib.SMTPRecipientsRefused as exc:
            return Delivery(False, None, f"recipients refused: {', '.join(exc.recipients)}"[:300])
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return Delivery(False, None, f"{type(exc).__name__}: {exc}"[:300])
        if refused:
            return Delivery(False, 250, f"refused for: {', '.join(refused)}"[:300])
        return Delivery(True, 250)
