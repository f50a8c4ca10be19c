"""The in-process mail outbox: staged in the unit of work, applied on commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.mail.ports import OutboxMail


class OutboxTables:
    def __init__(self) -> None:
        self.mails: dict[str, OutboxMail] = {}


class MemoryOutboxRepository:
    def __init__(self, tables: OutboxTables) -> None:
        self._tables = tables
        self._staged: list[OutboxMail] = []

    async def add(self, mail: OutboxMail) -> None:
        self._staged.append(mail)

    def apply(self) -> None:
        for mail in self._staged:
            self._tables.mails[mail.id] = mail
        self._staged.clear()


class MemoryOutboxStore:
    def __init__(self, tables: OutboxTables) -> None:
        self._mails = tables.mails

    async def due(self, now: datetime, *, limit: int) -> list[OutboxMail]:
        due = [
            m
            for m in self._mails.values()
            if m.sent_at is None and m.next_attempt_at is not None and m.next_attempt_at <= now
        ]
        return sorted(due, key=lambda m: (m.created_at, m.id))[:limit]

    async def claim(self, mail_id: str, now: datetime, until: datetime) -> OutboxMail | None:
        mail = self._mails.get(mail_id)
        if mail is None or mail.sent_at is not None:
            return None
        if mail.next_attempt_at is None or mail.next_attempt_at > now:
            return None
        self._mails[mail_id] = replace(mail, next_attempt_at=until)
        return self._mails[mail_id]

    async def mark_sent(self, mail_id: str, at: datetime) -> None:
        mail = self._mails[mail_id]
        self._mails[mail_id] = replace(
            mail, sent_at=at, next_attempt_at=None, attempts=mail.attempts + 1
        )

    async def mark_failed(
        self, mail_id: str, *, attempts: int, next_attempt_at: datetime | None, error: str
    ) -> None:
        self._mails[mail_id] = replace(
            self._mails[mail_id], attempts=attempts, next_attempt_at=next_attempt_at,
            last_error=error[:500],
        )  # fmt: skip

    async def get(self, mail_id: str) -> OutboxMail | None:
        return self._mails.get(mail_id)
