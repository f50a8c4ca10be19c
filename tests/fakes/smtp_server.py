"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts.

Our real ``SmtpMailer`` talks to it over TCP, so TLS modes, AUTH and failures are exercised
on the wire. aiosmtpd runs its own event loop in a thread (that is how its ``Controller``
works); ``start()`` and ``stop()`` hand the blocking parts to ``asyncio.to_thread`` so the
test's event loop is never held up.

    async with FakeSmtpServer(tls="starttls", auth=("mailer", "secret")) as smtp:
        mailer = SmtpMailer(host=smtp.host, port=smtp.port, tls="starttls",
                            tls_context=smtp.client_context(), ...)
        await mailer.send(message)
        received = await smtp.wait_for("alice@example.test")
        code_text = FakeSmtpServer.text_of(received)

TLS: ``"none"`` (plain), ``"starttls"`` (offers STARTTLS; ``require_starttls=True`` also
refuses mail before it) or ``"ssl"`` (implicit TLS from the first byte). The certificate is a
self-signed one for ``localhost`` / ``127.0.0.1`` generated in memory with ``cryptography``;
``client_context()`` is an ``ssl.SSLContext`` that trusts exactly it.

AUTH: with ``auth=(username, password)`` the server offers AUTH PLAIN/LOGIN and refuses
``MAIL FROM`` from an unauthenticated session (530). aiosmtpd offers AUTH only over TLS
unless ``auth_require_tls=False``; the default is ``True`` except for ``tls="ssl"``, where
aiosmtpd cannot see the implicit TLS layer (it only knows about STARTTLS) although the whole
connection is encrypted. Pass ``auth_require_tls=False`` yourself only to test AUTH over a
plain connection.

Failures: ``fail_next = N`` makes the next N DATA commands answer ``451``.

``smtputf8=False`` stops offering SMTPUTF8, so clients must RFC 2047-encode non-ASCII headers.
``deliveries`` keeps, per accepted message, whether the session was TLS and who authenticated
(``last_delivery_to``); ``auth_attempts`` records every AUTH the server saw.

The server's own logger (``mail.log``, aiosmtpd's) logs whole DATA lines at DEBUG level;
tests that inspect logs for secrets should ignore records from ``SERVER_LOGGER``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import tempfile
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TlsMode = Literal["none", "starttls", "ssl"]
SERVER_LOGGER = "mail.log"
"""aiosmtpd's logger: it logs DATA lines (message bodies) at DEBUG level."""

_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted message with what the server knew about its session."""

    message: EmailMessage
    raw: bytes
    """The DATA bytes exactly as received."""
    mail_from: str
    rcpt_tos: tuple[str, ...]
    tls: bool
    """The session was encrypted (STARTTLS or implicit TLS) when DATA was sent."""
    tls_version: str | None
    authenticated_as: str | None
    peer: Any


@dataclass(frozen=True, slots=True)
class AuthAttempt:
    mechanism: str
    username: str
    success: bool
    tls: bool


@dataclass(frozen=True, slots=True)
class _Certificate:
    cert_pem: bytes
    key_pem: bytes


def _generate_certificate() -> _Certificate:
    """A fresh self-signed certificate for localhost and 127.0.0.1 (valid for a day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "karpov fake smtp")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(_HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Certificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _server_context(cert: _Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain only reads files: write them to a private temporary directory that is
    # removed as soon as they are loaded.
    with tempfile.TemporaryDirectory(prefix="karpov-smtp-") as directory:
        cert_path = Path(directory) / "cert.pem"
        key_path = Path(directory) / "key.pem"
        cert_path.write_bytes(cert.cert_pem)
        key_path.write_bytes(cert.key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


class _Handler:
    def __init__(self, server: FakeSmtpServer) -> None:
        self._server = server

    async def handle_MAIL(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._server.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if self._server._take_failure():
            return "451 4.3.0 Temporary failure (simulated by the test)"
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        ssl_object = smtp.transport.get_extra_info("ssl_object") if smtp.transport else None
        auth_data = session.auth_data
        self._server._record(
            Delivery(
                message=message,
                raw=content,
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                tls=ssl_object is not None,
                tls_version=ssl_object.version() if ssl_object is not None else None,
                authenticated_as=(
                    auth_data.login.decode()
                    if session.authenticated and isinstance(auth_data, LoginPassword)
                    else None
                ),
                peer=session.peer,
            )
        )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """Binds an ephemeral port (port 0) and reads the real one back, so parallel tests never
    race for a port. ``_create_server`` is aiosmtpd's documented override point."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class FakeSmtpServer:
    def __init__(
        self,
        *,
        tls: TlsMode = "none",
        auth: tuple[str, str] | None = None,
        auth_require_tls: bool | None = None,
        require_starttls: bool = False,
        smtputf8: bool = True,
        fail_next: int = 0,
    ) -> None:
        if tls not in ("none", "starttls", "ssl"):
            raise ValueError("tls must be none, starttls or ssl")
        if require_starttls and tls != "starttls":
            raise ValueError("require_starttls needs tls='starttls'")
        self.tls: TlsMode = tls
        self.auth = auth
        self.auth_require_tls = tls != "ssl" if auth_require_tls is None else auth_require_tls
        self.require_starttls = require_starttls
        self.smtputf8 = smtputf8
        """Offer SMTPUTF8 (without it, clients must send non-ASCII headers RFC 2047-encoded)."""
        self.fail_next = fail_next
        """The next N DATA commands answer 451 (decremented as they are used)."""
        self.host = _HOST
        self.deliveries: list[Delivery] = []
        self.auth_attempts: list[AuthAttempt] = []
        self._lock = threading.Lock()
        self._controller: _Controller | None = None
        self._certificate: _Certificate | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the fake SMTP server is already running")
        await asyncio.to_thread(self._start_blocking)

    async def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            await asyncio.to_thread(controller.stop)

    async def __aenter__(self) -> FakeSmtpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _start_blocking(self) -> None:
        server_context: ssl.SSLContext | None = None
        if self.tls != "none":
            self._certificate = _generate_certificate()
            server_context = _server_context(self._certificate)
        smtp_options: dict[str, Any] = {
            "server_hostname": "localhost",  # never socket.getfqdn(): it may hit DNS
            "auth_require_tls": self.auth_require_tls,
            "authenticator": self._authenticate,
            "enable_SMTPUTF8": self.smtputf8,
        }
        if self.tls == "starttls":
            smtp_options["tls_context"] = server_context
            smtp_options["require_starttls"] = self.require_starttls
        controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=0,
            ssl_context=server_context if self.tls == "ssl" else None,
            ready_timeout=10.0,
            **smtp_options,
        )
        controller.start()
        self._controller = controller

    # -- what tests use ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the fake SMTP server is not running")
        return int(self._controller.port)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, oldest first (parsed with ``email.policy.default``)."""
        with self._lock:
            return [delivery.message for delivery in self.deliveries]

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (hostname checked)."""
        if self._certificate is None:
            raise RuntimeError("no certificate: the server is not running with TLS")
        return ssl.create_default_context(cadata=self._certificate.cert_pem.decode())

    def last_delivery_to(self, address: str) -> Delivery:
        """The newest delivery whose envelope recipients include ``address``."""
        wanted = address.lower()
        with self._lock:
            for delivery in reversed(self.deliveries):
                if wanted in (rcpt.lower() for rcpt in delivery.rcpt_tos):
                    return delivery
            seen = sorted({rcpt for d in self.deliveries for rcpt in d.rcpt_tos})
        raise LookupError(f"no message to {address!r}; recipients so far: {seen}")

    def last_to(self, address: str) -> EmailMessage:
        """The newest message delivered to ``address`` (``LookupError`` if none)."""
        return self.last_delivery_to(address).message

    async def wait_for(self, address: str, timeout: float = 5) -> EmailMessage:  # noqa: ASYNC109
        """Poll until a message to ``address`` has arrived; ``TimeoutError`` if it does not."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.last_to(address)
            except LookupError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no message to {address!r} within {timeout}s") from None
            await asyncio.sleep(0.02)

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.auth_attempts.clear()

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        """The text/plain body (decoded, line ends normalised to ``\\n``)."""
        return FakeSmtpServer._body(message, "plain")

    @staticmethod
    def html_of(message: EmailMessage) -> str:
        """The text/html body (decoded, line ends normalised to ``\\n``)."""
        return FakeSmtpServer._body(message, "html")

    # -- server side (called on aiosmtpd's thread) ---------------------------------------

    @staticmethod
    def _body(message: EmailMessage, subtype: str) -> str:
        part = message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            raise LookupError(f"the message has no text/{subtype} part")
        content = part.get_content()
        assert isinstance(content, str)
        # SMTP carries CRLF line ends; an 8bit part keeps them when parsed.
        return content.replace("\r\n", "\n")

    def _take_failure(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if self.auth is None or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username, password = self.auth
        success = data.login == username.encode() and data.password == password.encode()
        tls = smtp.transport is not None and smtp.transport.get_extra_info("ssl_object") is not None
        with self._lock:
            self.auth_attempts.append(
                AuthAttempt(mechanism, data.login.decode(errors="replace"), success, tls)
            )
        return AuthResult(success=success, auth_data=data if success else None, handled=False)
