"""Our real QQ Music client wired to the fake: the glue every QQ Music test needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.clock import ManualClock
from domain.music.model import CredentialSecret
from integrations.qqmusic import QQMusicUpstream
from tests.fakes.qqmusic.accounts import FakeAccount
from tests.fakes.qqmusic.app import FakeQQMusic

ORIGIN = "http://qq.test"


@dataclass
class Harness:
    fake: FakeQQMusic
    upstream: QQMusicUpstream
    clock: ManualClock

    def secret(self, account: FakeAccount, credential_id: str = "cred-1") -> CredentialSecret:
        return CredentialSecret(credential_id, self.fake.credential_payload(account))


@asynccontextmanager
async def harness(fake: FakeQQMusic | None = None, **config: Any) -> AsyncIterator[Harness]:
    """The fake behind ``httpx.ASGITransport``; the clock starts at the real time because the
    fake stamps its logins with it."""
    clock = ManualClock(datetime.now(UTC))
    fake = fake or FakeQQMusic(now=lambda: clock.now().timestamp())
    upstream = QQMusicUpstream(
        FakeQQMusic.config_for(ORIGIN, **config), transport=fake.transport(), clock=clock
    )
    async with upstream:
        yield Harness(fake, upstream, clock)
