"""Services for unit tests, built the way the application builds them: ``build_services``
over the in-process adapter bundle (``Adapters.memory``), with a cheap argon2id hasher and
offline stand-ins for what reaches outside (breach check, QR codes, OAuth providers).

Unit tests never construct a service by hand: they get the same wiring as production, so
a collaborator forgotten in one place (the audit log of a sign-in path, say) shows up."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.accounts.passwords import Argon2PasswordHasher
from domain.clock import Clock
from gateway.adapters import Adapters, Outbound
from gateway.bootstrap import build_services
from gateway.settings import Settings, load_settings
from resolvers.context import Services

CHEAP_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=8)
MASTER_KEY = "00" * 32


class NoBreaches:
    """A ``BreachedPasswordChecker`` that knows no breached password."""

    async def times_pwned(self, password: str) -> int:
        return 0


class FakeQr:
    """A ``QrCodeRenderer`` that only shows what it was asked to draw."""

    def svg_data_uri(self, text: str) -> str:
        return "data:image/svg+xml;utf8,<svg><!-- " + text + " --></svg>"


def unit_settings(**overrides: Any) -> Settings:
    """Settings of an in-process world: a fixed master key, no breach check unless asked,
    no session memo (each test sees every change at once) and no hourly registration cap
    (tests register many users from one "address")."""
    values: dict[str, Any] = {
        "master_key": MASTER_KEY,
        "hibp_mode": "off",
        "auth_cache_ttl": 0,
        "register_per_ip_per_hour": 0,
        **overrides,
    }
    return load_settings(**values)


def offline(**changes: Any) -> Outbound:
    """The outbound adapters of a unit test; ``changes`` replace any of them."""
    defaults: dict[str, Any] = {
        "hasher": CHEAP_HASHER, "breaches": NoBreaches(), "mailer": None, "qr": FakeQr(),
    }  # fmt: skip
    return Outbound(**{**defaults, **changes})


@dataclass(frozen=True)
class Built:
    adapters: Adapters
    services: Services


def build(
    clock: Clock,
    *,
    settings: Settings | None = None,
    outbound: Outbound | None = None,
    **stores: Any,
) -> Built:
    """Services over ``Adapters.memory(clock)``; ``stores`` replace stores of the bundle (a
    store that fails on purpose, for instance)."""
    adapters = replace(Adapters.memory(clock, outbound=outbound or offline()), **stores)
    return Built(adapters, build_services(adapters, settings or unit_settings(), clock))
