"""The NetEase Cloud Music upstream: request encryption, transport, the music provider,
the credential lifecycle and the login operations.

Wiring (one of each per process, sharing one ``httpx.AsyncClient``)::

    netease = build_netease(http, NeteaseConfig(api_url=settings.netease_api_url), clock)
    netease.provider      # domain.music.ports.MusicProvider
    netease.credentials   # domain.pool.ports.CredentialLifecycle
    netease.login         # the /v1/netease/auth/* operations
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from domain.clock import Clock, SystemClock
from integrations.netease.config import DEFAULT_API_URL, ClientIdentity, NeteaseConfig
from integrations.netease.credentials import NeteaseCredentials
from integrations.netease.crypto import NETEASE_WEAPI_KEY, RsaPublicKey
from integrations.netease.levels import Level
from integrations.netease.login import LoginAnswer, NeteaseLogin, QrCode
from integrations.netease.provider import NeteaseProvider
from integrations.netease.transport import NeteaseTransport

__all__ = [
    "DEFAULT_API_URL",
    "NETEASE_WEAPI_KEY",
    "ClientIdentity",
    "Level",
    "LoginAnswer",
    "Netease",
    "NeteaseConfig",
    "NeteaseCredentials",
    "NeteaseLogin",
    "NeteaseProvider",
    "NeteaseTransport",
    "QrCode",
    "RsaPublicKey",
    "build_netease",
]


@dataclass(frozen=True, slots=True)
class Netease:
    transport: NeteaseTransport
    provider: NeteaseProvider
    credentials: NeteaseCredentials
    login: NeteaseLogin


def build_netease(
    http: httpx.AsyncClient, config: NeteaseConfig | None = None, clock: Clock | None = None
) -> Netease:
    """Everything NetEase, on one transport (one concurrency cap, one device identity)."""
    clock = clock or SystemClock()
    transport = NeteaseTransport(http, config, clock=clock)
    return Netease(
        transport=transport,
        provider=NeteaseProvider(transport, clock=clock),
        credentials=NeteaseCredentials(transport, clock=clock),
        login=NeteaseLogin(transport, clock=clock),
    )
