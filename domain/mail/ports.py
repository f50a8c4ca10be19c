"""Sending e-mail (implemented by integrations/mailer.py: SMTP, or the log in dev)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


class MailDeliveryFailed(DomainError):
    code = "MAIL_DELIVERY_FAILED"
    default_message = "the e-mail could not be sent, try again later"


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise ``MailDeliveryFailed``."""
