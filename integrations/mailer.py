"""Mailers: SMTP (aiosmtplib) with the original's TLS modes, and a log mailer for dev.

TLS modes: ``auto`` (STARTTLS when the server offers it; required when a username is
configured, so credentials never travel in the clear), ``starttls`` (required),
``ssl`` (implicit TLS, usually port 465), ``none`` (plain; loopback or test servers only).
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from domain.mail.errors import MailDeliveryFailed
from domain.mail.ports import EmailMessage

log = logging.getLogger("karpov.mail")
outbox_log = logging.getLogger("karpov.mail.outbox")


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    """multipart/alternative (text, then HTML); non-ASCII subjects are RFC 2047-encoded
    by the email package."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = message.message_id or make_msgid(
        domain=sender.rpartition("@")[2].strip("> ") or None
    )
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        tls: str = "auto",
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if tls not in ("auto", "starttls", "ssl", "none"):
            raise ValueError("tls must be auto, starttls, ssl or none")
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username or None
        self._password = password or None
        self._tls = tls
        self._timeout = timeout
        self._tls_context = tls_context

    async def send(self, message: EmailMessage) -> None:
        start_tls: bool | None = {"auto": None, "starttls": True, "ssl": False, "none": False}[
            self._tls
        ]
        if not message.to.strip():
            raise MailDeliveryFailed("a message needs a recipient")
        if self._tls == "auto" and self._username:
            # Never send credentials in the clear because STARTTLS was stripped on the way.
            start_tls = True
        try:
            await aiosmtplib.send(
                to_mime(message, self._sender),
                recipients=[message.to],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._tls == "ssl",
                start_tls=start_tls,
                timeout=self._timeout,
                tls_context=self._tls_context,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as error:
            # The error names the server, never the message: no code or link in the log.
            log.warning("smtp delivery failed", extra={"error": type(error).__name__})
            raise MailDeliveryFailed() from None


class LogMailer:
    """Development only (no SMTP host, ``KARPOV_ENV=dev``): the mail goes to the log, as
    the original did, so a developer can read the code or link. Production refuses to
    start without SMTP when e-mail is required."""

    async def send(self, message: EmailMessage) -> None:
        outbox_log.warning(
            "dev mail (no SMTP configured)",
            extra={"to": message.to, "subject": message.subject, "body": message.text},
        )
