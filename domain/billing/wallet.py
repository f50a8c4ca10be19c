"""The wallet: one balance per user and currency, changed only by posting a line to the
append-only ledger, under the wallet's row lock, in the unit of work of whatever caused
it (a fulfilled top-up, an admin adjustment, an overage charge). A balance never goes
below zero; every line carries a unique idempotency key, so posting twice returns the
first line; ``set`` computes its delta under the lock (the original read, then wrote)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from domain.billing.access import require_admin, require_superadmin, user_of
from domain.billing.commands import AdjustBalance, BalanceOperation
from domain.billing.currency import normalise_code
from domain.billing.errors import (
    BillingUserNotFound,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidAmount,
)
from domain.billing.idempotency import generated_key, normalise_key
from domain.billing.model import EntryKind, LedgerEntry, Wallet
from domain.billing.ports import UnitOfWork, UnitOfWorkFactory
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.ids import new_id
from domain.paging import MAX_OFFSET, Page, page_size
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

log = logging.getLogger("karpov.billing.wallet")

MAX_AMOUNT = 100_000_000_000
"""A bound on one movement (a billion yuan in fen): beyond it, input is a mistake."""


@dataclass(frozen=True, slots=True)
class Posting:
    user_id: str
    currency: str
    amount_minor: int
    kind: EntryKind
    idempotency_key: str
    order_id: str | None = None
    reference: str = ""
    description: str = ""
    actor: str | None = None


async def post(uow: UnitOfWork, posting: Posting, now: datetime) -> LedgerEntry:
    """Apply ``posting`` to its wallet inside ``uow`` (the caller commits). The key is
    checked under the wallet's lock, so two concurrent postings with one key post once."""
    wallet = await uow.wallets.lock(posting.user_id, posting.currency, now)
    existing = await uow.ledger.by_idempotency_key(posting.idempotency_key)
    if existing is not None:
        if (existing.user_id, existing.currency, existing.amount_minor, existing.kind) != (
            posting.user_id, posting.currency, posting.amount_minor, posting.kind,
        ):  # fmt: skip
            raise IdempotencyKeyReused()
        return existing
    balance = wallet.balance_minor + posting.amount_minor
    if balance < 0:
        raise InsufficientBalance()
    await uow.wallets.save(
        replace(wallet, balance_minor=balance, version=wallet.version + 1, updated_at=now)
    )
    return await uow.ledger.append(
        LedgerEntry(
            id=new_id(),
            user_id=posting.user_id,
            currency=posting.currency,
            amount_minor=posting.amount_minor,
            kind=posting.kind,
            balance_after_minor=balance,
            idempotency_key=posting.idempotency_key,
            created_at=now,
            order_id=posting.order_id,
            reference=posting.reference,
            description=posting.description,
            actor=posting.actor,
        )
    )


def zero_wallet(user_id: str, currency: str, now: datetime) -> Wallet:
    return Wallet(user_id, currency, 0, 0, now)


@dataclass(frozen=True, slots=True)
class Movement:
    wallet: Wallet
    entry: LedgerEntry | None
    """``None`` for a ``set`` to the current balance (nothing to post)."""


class WalletService:
    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, audit: AuditLog, default_currency: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._audit = audit
        self._default_currency = default_currency

    def _currency(self, currency: str | None) -> str:
        if currency is None or not currency.strip():
            return self._default_currency
        return normalise_code(currency, field="currency")

    async def balance(self, principal: Principal, currency: str | None = None) -> Wallet:
        return await self._balance_of(user_of(principal), self._currency(currency))

    async def balances(self, principal: Principal) -> list[Wallet]:
        user_id = user_of(principal)
        async with self._uow() as uow:
            return await uow.wallets.list_for_user(user_id)

    async def transactions(
        self, principal: Principal, *, currency: str | None = None, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        user_id = user_of(principal)
        return await self._transactions(user_id, currency, limit, offset)

    async def admin_balance(
        self, principal: Principal, user_id: str, currency: str | None = None
    ) -> Wallet:
        require_admin(principal)
        await self._require_user(user_id)
        return await self._balance_of(user_id, self._currency(currency))

    async def admin_transactions(
        self, principal: Principal, user_id: str, *, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        require_admin(principal)
        await self._require_user(user_id)
        return await self._transactions(user_id, None, limit, offset)

    async def adjust(self, principal: Principal, command: AdjustBalance) -> Movement:
        """A superadmin's credit, debit or set, audited."""
        require_superadmin(principal)
        amount = command.amount_cents
        op = command.operation
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount("amountCents must be an integer", field="amountCents")
        if op is BalanceOperation.SET:
            if not 0 <= amount <= MAX_AMOUNT:
                raise InvalidAmount("amountCents must be 0 or more", field="amountCents")
        elif not 0 < amount <= MAX_AMOUNT:
            raise InvalidAmount("amountCents must be positive", field="amountCents")
        currency = self._currency(command.currency)
        key = normalise_key(command.idempotency_key) or generated_key("adjust", command.user_id)
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.users.get(command.user_id) is None:
                raise BillingUserNotFound()
            wallet = await uow.wallets.lock(command.user_id, currency, now)
            if op is BalanceOperation.SET:
                delta = amount - wallet.balance_minor
            else:
                delta = amount if op is BalanceOperation.CREDIT else -amount
            entry: LedgerEntry | None = None
            if delta != 0:
                entry = await post(
                    uow,
                    Posting(
                        command.user_id,
                        currency,
                        delta,
                        EntryKind.ADJUST,
                        key,
                        reference=command.reference[:200],
                        description=command.description[:500],
                        actor=principal.actor,
                    ),
                    now,
                )
            wallet = await uow.wallets.lock(command.user_id, currency, now)
            await uow.commit()
        await self._audit.record(
            AuditAction.BILLING_BALANCE_ADJUSTED, principal, subject_user_id=command.user_id,
            operation=op.value, amount_minor=str(amount), delta_minor=str(delta),
            currency=currency, balance_after_minor=str(wallet.balance_minor),
            reference=command.reference[:200],
        )  # fmt: skip
        return Movement(wallet, entry)

    async def _balance_of(self, user_id: str, currency: str) -> Wallet:
        async with self._uow() as uow:
            wallet = await uow.wallets.get(user_id, currency)
        return wallet or zero_wallet(user_id, currency, self._clock.now())

    async def _transactions(
        self, user_id: str, currency: str | None, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        if offset < 0 or offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        code = self._currency(currency) if currency else None
        async with self._uow() as uow:
            return await uow.ledger.list_for_user(
                user_id, code, limit=page_size(limit), offset=offset
            )

    async def _require_user(self, user_id: str) -> None:
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise BillingUserNotFound()
