"""SMTP alerts against a real SMTP server on 127.0.0.1 (aiosmtpd) that requires STARTTLS,
with a self-signed certificate made here; the client verifies it and never falls back to
plain text."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

controller_mod = pytest.importorskip("aiosmtpd.controller")
smtp_mod = pytest.importorskip("aiosmtpd.smtp")
x509 = pytest.importorskip("cryptography.x509")

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from icp_notify.alerts.card import build_card  # noqa: E402
from icp_notify.alerts.email import EmailSender  # noqa: E402
from icp_notify.alerts.sample import sample_report  # noqa: E402

KEY = "icpn-mail-0001"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.tls.append(session.ssl is not None)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = data.login == b"icp-notify" and data.password == b"app-password"
        return smtp_mod.AuthResult(success=ok)

    port = _free_port()
    ctl = controller_mod.Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=auth,
        auth_require_tls=True,
    )
    ctl.start()
    try:
        yield inbox, port, cert
    finally:
        ctl.stop()


def _sender(port: int, **kw: Any) -> EmailSender:
    return EmailSender(
        "mail",
        "localhost",
        port,
        sender="icp-notify@example.net",
        to=("ops@example.net", "oncall@example.net"),
        timeout=5,
        **kw,
    )


def test_mail_goes_over_starttls_with_auth(smtp_server: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp_server
    card = build_card(sample_report("zh"), filing="shop-example-cn", notice_id=9)
    result = _sender(port, ca_file=cert, username="icp-notify", password="app-password").send(
        card, KEY
    )
    assert result.ok, result.error
    assert inbox.tls == [True]
    (mail_from, rcpts, raw) = inbox.messages[0]
    assert mail_from == "icp-notify@example.net"
    assert rcpts == ["ops@example.net", "oncall@example.net"]
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Subject"] == "[CRITICAL] access_cancelled · shop-example-cn"
    assert msg["Message-ID"] == f"<{KEY}@icp-notify>"
    assert msg["X-Idempotency-Key"] == KEY
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert "阿里云已取消对网站的接入" in body
    assert f"消息编号: {KEY}" in body


def test_an_unverifiable_certificate_is_refused(smtp_server: tuple[Inbox, int, Path]) -> None:
    inbox, port, _ = smtp_server
    card = build_card(sample_report("en"), filing="shop-example-cn")
    result = _sender(port).send(card, KEY)  # system CAs: the self-signed cert fails
    assert not result.ok
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert inbox.messages == []


def test_no_plain_text_fallback_without_starttls(tmp_path: Path) -> None:
    inbox = Inbox()
    port = _free_port()
    ctl = controller_mod.Controller(inbox, hostname="127.0.0.1", port=port)  # offers no STARTTLS
    ctl.start()
    try:
        card = build_card(sample_report("en"), filing="shop-example-cn")
        result = _sender(port).send(card, KEY)
    finally:
        ctl.stop()
    assert not result.ok
    assert "STARTTLS" in (result.error or "")
    assert inbox.messages == []
