"""Our real NetEase client wired to the fake NetEase (in process, through httpx's ASGI
transport): the client is configured with the fake's weapi RSA key, nothing else differs
from production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.clock import ManualClock
from domain.music.model import CredentialSecret
from integrations.netease import (
    NeteaseConfig,
    NeteaseCredentials,
    NeteaseLogin,
    NeteaseProvider,
    NeteaseTransport,
    RsaPublicKey,
)
from tests.fakes.netease import FakeNetease

API_URL = "http://netease.test"
START = datetime(2026, 1, 1, tzinfo=UTC)
"""The fake stamps its cookies with the same moment (``Logins.now``)."""


def config_for(fake: FakeNetease, api_url: str = API_URL, **overrides: Any) -> NeteaseConfig:
    key = RsaPublicKey(modulus=fake.rsa_modulus, exponent=fake.rsa_exponent)
    return replace(NeteaseConfig(api_url=api_url, weapi_key=key, timeout=5.0), **overrides)


@dataclass
class Harness:
    fake: FakeNetease
    clock: ManualClock
    transport: NeteaseTransport
    provider: NeteaseProvider
    credentials: NeteaseCredentials
    login: NeteaseLogin

    def secret(self, nickname: str = "vip-listener") -> CredentialSecret:
        """A pooled credential for a live login of ``nickname``."""
        return CredentialSecret("cred-1", self.fake.issue_cookie(nickname).encode())

    def assert_clean(self) -> None:
        assert self.fake.protocol_errors == []


def build(fake: FakeNetease, http: httpx.AsyncClient, config: NeteaseConfig) -> Harness:
    clock = ManualClock(START)
    transport = NeteaseTransport(http, config, clock=clock)
    return Harness(
        fake=fake,
        clock=clock,
        transport=transport,
        provider=NeteaseProvider(transport, clock=clock),
        credentials=NeteaseCredentials(transport, clock=clock),
        login=NeteaseLogin(transport, clock=clock),
    )


@asynccontextmanager
async def harness(fake: FakeNetease | None = None, **config: Any) -> AsyncIterator[Harness]:
    fake = fake or FakeNetease()
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport) as http:
        built = build(fake, http, config_for(fake, **config))
        yield built
        built.assert_clean()
