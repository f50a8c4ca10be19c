"""Sending e-mail (implemented by integrations/mailer.py: SMTP, or the log in dev)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain import uow


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    message_id: str | None = None
    """The Message-ID header (the outbox's id: a redelivered mail carries the same one)."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise ``MailDeliveryFailed``."""


# -- worker (issue 17): the outbox ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxMail:
    """A mail waiting for (or done with) delivery. ``sealed`` is the message sealed by the
    key ring (its links and codes are secrets); only the address is plain."""

    id: str
    to: str
    sealed: bytes
    created_at: datetime
    next_attempt_at: datetime | None
    """When it may be tried next; ``None`` once sent or given up."""
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None


class OutboxRepository(Protocol):
    async def add(self, mail: OutboxMail) -> None:
        """Stage the mail in the unit of work: it exists once the unit commits."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    @property
    def mail_outbox(self) -> OutboxRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class OutboxStore(Protocol):
    async def due(self, now: datetime, *, limit: int) -> list[OutboxMail]:
        """Unsent mails whose next attempt is due, oldest first."""

    async def claim(self, mail_id: str, now: datetime, until: datetime) -> OutboxMail | None:
        """Take an unsent, due mail for one delivery attempt (its next attempt moves to
        ``until``, so a second deliverer skips it); ``None`` if another took it."""

    async def mark_sent(self, mail_id: str, at: datetime) -> None: ...

    async def mark_failed(
        self, mail_id: str, *, attempts: int, next_attempt_at: datetime | None, error: str
    ) -> None:
        """Record a failed attempt; ``next_attempt_at`` ``None``: given up."""

    async def get(self, mail_id: str) -> OutboxMail | None: ...
