"""Billing's stored settings: the currency configuration (``currency_config``, the
original's key in ``billing.settings``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.billing.access import require_admin, require_superadmin
from domain.billing.commands import CurrencySettings
from domain.billing.currency import build_config
from domain.billing.model import DEFAULT_CURRENCY_CONFIG, CurrencyConfig, ExchangeRate
from domain.billing.ports import BillingSettingsRepository, UnitOfWorkFactory
from domain.clock import Clock
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

CURRENCY_KEY = "currency_config"


def config_to_json(config: CurrencyConfig) -> dict[str, Any]:
    return {
        "defaultCurrency": config.default_currency,
        "rates": [{"code": r.code, "rate": str(r.rate)} for r in config.rates],
    }


def config_from_json(value: dict[str, Any] | None, updated_at: datetime | None) -> CurrencyConfig:
    if not value:
        return DEFAULT_CURRENCY_CONFIG
    rates = tuple(ExchangeRate(r["code"], Decimal(r["rate"])) for r in value.get("rates", ()))
    return CurrencyConfig(value["defaultCurrency"], rates, updated_at)


async def load_currency_config(settings: BillingSettingsRepository) -> CurrencyConfig:
    value = await settings.get(CURRENCY_KEY)
    if value is None:
        return DEFAULT_CURRENCY_CONFIG
    at = value.get("updatedAt")
    return config_from_json(value, datetime.fromisoformat(at) if at else None)


class CurrencyService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, audit: AuditLog) -> None:
        self._uow = uow
        self._clock = clock
        self._audit = audit

    async def current(self) -> CurrencyConfig:
        async with self._uow() as uow:
            return await load_currency_config(uow.billing_settings)

    async def get(self, principal: Principal) -> CurrencyConfig:
        require_admin(principal)
        return await self.current()

    async def update(self, principal: Principal, given: CurrencySettings) -> CurrencyConfig:
        """Validate everything first: a refused update changes nothing."""
        require_superadmin(principal)
        now = self._clock.now()
        config = build_config(given.default_currency, given.rates, now)
        async with self._uow() as uow:
            value = {**config_to_json(config), "updatedAt": now.isoformat()}
            await uow.billing_settings.put(CURRENCY_KEY, value, now)
            await uow.commit()
        await self._audit.record(
            AuditAction.BILLING_CURRENCY_UPDATED, principal,
            default_currency=config.default_currency,
            rates=",".join(f"{r.code}={r.rate}" for r in config.rates),
        )  # fmt: skip
        return config
