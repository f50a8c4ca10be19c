"""The mail outbox: a mail is written in the unit of work of the change that causes it,
then delivered (right after the commit, and by the ``mail_outbox`` job for whatever is
left), with retries and back-off. A crash between the commit and the send loses nothing:
the job delivers it later. Delivery is at least once; every attempt carries the same
Message-ID (``<outbox id@karpov>``), so a duplicate is visible as one."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from domain.clock import Clock
from domain.ids import new_id
from domain.keyring_service import KeyRingProvider
from domain.mail.errors import MailDeliveryFailed
from domain.mail.ports import (
    EmailMessage,
    Mailer,
    OutboxMail,
    OutboxStore,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = logging.getLogger("karpov.mail.delivery")

CLAIM_FOR = timedelta(minutes=2)
"""How long one delivery attempt holds a mail (longer than the SMTP timeout)."""


def outbox_aad(mail_id: str) -> bytes:
    return f"mail-outbox:{mail_id}".encode()


def message_id_of(mail_id: str) -> str:
    return f"<{mail_id}@karpov>"


class MailOutbox:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        store: OutboxStore,
        mailer: Mailer | None,
        keys: KeyRingProvider,
        clock: Clock,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=30),
    ) -> None:
        self._uow = uow
        self._store = store
        self._mailer = mailer
        self._keys = keys
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff

    async def stage(self, work: UnitOfWork, message: EmailMessage) -> str:
        """Write ``message`` into ``work`` (the caller commits); returns the outbox id."""
        mail_id = new_id()
        body = json.dumps(
            {"subject": message.subject, "text": message.text, "html": message.html}
        ).encode()
        now = self._clock.now()
        await work.mail_outbox.add(
            OutboxMail(
                id=mail_id, to=message.to, created_at=now, next_attempt_at=now,
                sealed=await self._keys.encrypt(body, outbox_aad(mail_id)),
            )
        )  # fmt: skip
        return mail_id

    async def enqueue_and_send(self, message: EmailMessage) -> bool:
        """Write ``message`` in its own unit of work, then try it once at once: ``True``
        when it was delivered now (else the job delivers it later)."""
        async with self._uow() as work:
            mail_id = await self.stage(work, message)
            await work.commit()
        return await self.send_now(mail_id)

    async def send_now(self, mail_id: str) -> bool:
        """One delivery attempt right after the commit; ``False`` leaves it to the job."""
        return await self._attempt(mail_id)

    async def deliver_due(self, *, limit: int = 100) -> int:
        """Every due mail, one attempt each (the job); returns how many were sent."""
        sent = 0
        for mail in await self._store.due(self._clock.now(), limit=limit):
            if await self._attempt(mail.id):
                sent += 1
        return sent

    async def _attempt(self, mail_id: str) -> bool:
        if self._mailer is None:
            return False
        now = self._clock.now()
        mail = await self._store.claim(mail_id, now, now + CLAIM_FOR)
        if mail is None:
            return False
        body = json.loads(await self._keys.decrypt(mail.sealed, outbox_aad(mail.id)))
        message = EmailMessage(
            to=mail.to, subject=body["subject"], text=body["text"], html=body["html"],
            message_id=message_id_of(mail.id),
        )  # fmt: skip
        attempts = mail.attempts + 1
        try:
            await self._mailer.send(message)
        except MailDeliveryFailed as error:
            retry = None
            if attempts < self._max_attempts:
                retry = self._clock.now() + self._backoff * (2 ** (attempts - 1))
            await self._store.mark_failed(
                mail.id, attempts=attempts, next_attempt_at=retry, error=error.message
            )
            log.warning("mail delivery failed", extra={"mail": mail.id, "attempts": attempts})
            return False
        await self._store.mark_sent(mail.id, self._clock.now())
        return True
