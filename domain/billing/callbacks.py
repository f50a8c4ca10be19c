"""Every payment callback, kept with its verdict (issue 16).

A provider's notification is stored BEFORE it is processed (``processed`` false, no
verdict), then processed through the one callback path of ``OrderService`` and its record
completed with the verdict: whether the signature checked out, whether it changed the order,
the error that refused it, the order and the provider's transaction id. So no callback is
lost: one that crashed half-way stays visible, unprocessed, to admins.

What is refused (and stored, and visible in the admin views) before the order is touched:
a source address outside the channel's allow list, a bad signature or an unreadable body.
``OrderService`` refuses a callback for an unknown order, for another provider's order or
with an amount other than the order's (exactly, in minor units). A paid callback for an
order past its TTL is honoured (the money was taken) and audited.

Bodies are stored with secrets redacted: a parameter whose name looks like a secret, and
any value that carries one of the channel's configured secrets, become ``****``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.billing.access import require_admin
from domain.billing.errors import OrderNotFound, UnknownPaymentProvider
from domain.billing.model import Order, OrderStatus
from domain.billing.orders import CallbackResult, OrderService
from domain.billing.ports import (
    CallbackOutcome,
    CallbackStore,
    CallbackVerdict,
    ChannelGuard,
    InvalidCallback,
)
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.ids import new_id
from domain.observations import Observations
from domain.paging import MAX_OFFSET, Page, page_size
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

log = logging.getLogger("karpov.billing.callbacks")

REDACTED = "****"
SECRET_PARAMETER_HINTS = ("key", "secret", "password", "token", "private")
"""A callback parameter whose name contains one of these is stored as ``****`` (``sign``
and ``hash`` are signatures, not secrets: they are kept, to check the verdict later)."""
MAX_STORED_VALUE = 2048
MAX_STORED_PARAMETERS = 64
RECONCILE_AFTER = timedelta(minutes=5)
"""Orders ``paying`` this long after they were made are asked about (worker, issue 17)."""


class CallbackResultKind(enum.StrEnum):
    RECEIVED = "received"
    """Stored, not processed yet (or the process died while processing it)."""
    FULFILLED = "fulfilled"
    FAILED = "failed"
    """The provider reported the payment failed; the order failed."""
    DUPLICATE = "duplicate"
    """The order was processed already: acknowledged, nothing changed."""
    PENDING = "pending"
    """A notification that is not (yet) a payment."""
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class CallbackRecord:
    id: str
    provider: str
    params: dict[str, str]
    """The form merged with the query string, secrets redacted."""
    client_ip: str | None
    received_at: datetime
    signature_ok: bool = False
    processed: bool = False
    """Applied to the order (or recognised as already applied)."""
    result: CallbackResultKind = CallbackResultKind.RECEIVED
    error: str | None = None
    order_id: str | None = None
    provider_txn_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    late: bool = False
    """A paid callback for an order that had already expired (honoured)."""


@dataclass(frozen=True, slots=True)
class CallbackFilter:
    order_id: str | None = None
    provider: str | None = None
    refused_only: bool = False


def redact(params: Mapping[str, str], secrets: Collection[str] = ()) -> dict[str, str]:
    """What is stored of a callback's parameters."""
    kept: dict[str, str] = {}
    for name, value in list(params.items())[:MAX_STORED_PARAMETERS]:
        text = str(value)
        if any(h in name.lower() for h in SECRET_PARAMETER_HINTS) or any(
            s and s in text for s in secrets
        ):
            text = REDACTED
        kept[str(name)[:128]] = text[:MAX_STORED_VALUE]
    return kept


class OpenChannels:
    """No allow lists and no secrets known (the dev mock, unit tests)."""

    def allows(self, provider: str, ip: str | None) -> bool:
        return True

    def secrets(self, provider: str) -> Collection[str]:
        return ()


@dataclass(frozen=True, slots=True)
class ReconcileSweep:  # worker (issue 17)
    checked: int
    fulfilled: int
    errors: int

    def __str__(self) -> str:
        return f"checked={self.checked} fulfilled={self.fulfilled} errors={self.errors}"


class ReconciliationFailed(Exception):  # worker (issue 17)
    """Every provider query of a sweep failed (the job's run is recorded as failed)."""

    def __init__(self, sweep: ReconcileSweep) -> None:
        super().__init__(f"every provider query failed ({sweep})")
        self.sweep = sweep


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    result: CallbackResult
    record: CallbackRecord


class CallbackService:
    def __init__(
        self,
        *,
        orders: OrderService,
        store: CallbackStore,
        clock: Clock,
        audit: AuditLog,
        guard: ChannelGuard | None = None,
        observations: Observations | None = None,  # worker (issue 17): metrics
    ) -> None:
        self._observe = observations or Observations()
        self._orders = orders
        self._store = store
        self._clock = clock
        self._audit = audit
        self._guard: ChannelGuard = guard or OpenChannels()

    async def _finish(self, record: CallbackRecord) -> None:
        """Store a callback's verdict (and count it by verdict for the metrics)."""
        await self._store.update(record)
        self._observe.callback_verdict(record.provider, record.result.value)

    def use_guard(self, guard: ChannelGuard) -> None:
        self._guard = guard

    async def receive(
        self, provider_name: str, params: Mapping[str, str], client_ip: str | None
    ) -> CallbackAnswer:
        """Store, verify and apply one notification; the answer carries the provider's
        acknowledgement (``result.acknowledgement``)."""
        name = (provider_name or "").strip().lower()
        provider = self._orders.callback_provider(name)
        if provider is None:
            raise UnknownPaymentProvider(field="provider")
        record = CallbackRecord(
            id=new_id(), provider=name, params=redact(params, self._guard.secrets(name)),
            client_ip=client_ip, received_at=self._clock.now(),
        )  # fmt: skip
        await self._store.add(record)
        refused = CallbackResult(provider.acknowledgement(False))
        if not self._guard.allows(name, client_ip):
            log.warning("payment callback from outside the allow list",
                        extra={"provider": name})  # fmt: skip
            record = replace(record, result=CallbackResultKind.REFUSED,
                             error="source address not in the channel's allow list")  # fmt: skip
            await self._finish(record)
            return CallbackAnswer(refused, record)
        try:
            verdict = provider.verify_callback(params)
        except InvalidCallback as invalid:
            record = replace(record, result=CallbackResultKind.REFUSED,
                             error=f"invalid callback: {invalid.reason}"[:500])  # fmt: skip
            await self._finish(record)
            return CallbackAnswer(refused, record)
        record = replace(
            record, signature_ok=True, order_id=verdict.order_id[:64],
            provider_txn_id=verdict.provider_txn_id[:128] or None,
            amount_minor=verdict.amount.amount_minor, currency=verdict.amount.currency,
        )  # fmt: skip
        before = await self._orders.order_for_callback(verdict.order_id)
        result = await self._orders.handle_callback(name, params)
        accepted = result.acknowledgement == provider.acknowledgement(True)
        record = _verdict(record, verdict, before, result, accepted, name)
        await self._finish(record)
        if record.late:
            await self._audit.record(
                AuditAction.BILLING_LATE_PAYMENT_HONOURED,
                subject_user_id=result.order.user_id if result.order else None,
                client_ip=client_ip, order_id=verdict.order_id, provider=name,
                amount=str(verdict.amount.amount_minor), callback=record.id,
            )  # fmt: skip
        return CallbackAnswer(result, record)

    # -- admin views ----------------------------------------------------------------------

    async def list(
        self, principal: Principal, flt: CallbackFilter, *, limit: int, offset: int
    ) -> Page[CallbackRecord]:
        _require_admin(principal)
        if offset < 0 or offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        return await self._store.list(flt, limit=page_size(limit), offset=offset)

    async def reconcile(self, principal: Principal, order_id: str) -> Order:
        """Ask the order's provider about it; a paid order is fulfilled through the same
        idempotent path as a callback (and recorded as one, from ``reconciliation``)."""
        _require_admin(principal)
        order = await self._orders.order_for_callback(order_id)
        if order is None:
            raise OrderNotFound()
        return await self._reconcile(order, principal.client_ip, record_unpaid=True)

    # -- worker (issue 17): the scheduled reconciliation --
    async def reconcile_paying(self, *, older_than: timedelta = RECONCILE_AFTER) -> ReconcileSweep:
        """Ask the providers about every order still ``paying`` ``older_than`` after it
        was made; a paid one is fulfilled through the callback path (recorded as a callback
        from ``reconciliation``), an unpaid one is left to expire (and not recorded: it is
        asked again next time). One provider failing does not stop the others; the sweep
        fails only when every query did."""
        checked = fulfilled = errors = 0
        for order in await self._orders.paying_longer_than(older_than):
            checked += 1
            try:
                after = await self._reconcile(order, None, record_unpaid=False)
            except Exception as failure:
                errors += 1
                log.warning(
                    "payment reconciliation failed for an order: %s",
                    type(failure).__name__,
                    extra={"provider": order.payment_provider, "order_id": order.id},
                )
                continue
            if after.status is not OrderStatus.PAYING and after.paid_at is not None:
                fulfilled += 1
        sweep = ReconcileSweep(checked=checked, fulfilled=fulfilled, errors=errors)
        if errors and errors == checked:
            raise ReconciliationFailed(sweep)
        return sweep

    async def _reconcile(
        self, order: Order, client_ip: str | None, *, record_unpaid: bool
    ) -> Order:
        provider = self._orders.callback_provider(order.payment_provider)
        if provider is None:
            raise UnknownPaymentProvider(field="paymentProvider")
        status = await provider.query_order(order.id)
        if status.outcome is not CallbackOutcome.PAID and not record_unpaid:
            return order
        record = CallbackRecord(
            id=new_id(), provider=order.payment_provider,
            params={"source": "reconciliation", "outcome": status.outcome.value},
            client_ip=client_ip, received_at=self._clock.now(), signature_ok=True,
            order_id=order.id, provider_txn_id=status.provider_txn_id,
            amount_minor=status.amount.amount_minor if status.amount else None,
            currency=status.amount.currency if status.amount else None,
        )  # fmt: skip
        await self._store.add(record)
        if status.outcome is not CallbackOutcome.PAID:
            record = replace(record, processed=True, result=CallbackResultKind.PENDING
                             if status.outcome is CallbackOutcome.PENDING
                             else CallbackResultKind.FAILED)  # fmt: skip
            await self._finish(record)
            return await self._orders.order_for_callback(order.id) or order
        verdict = CallbackVerdict(
            order_id=order.id, provider_txn_id=status.provider_txn_id or "",
            amount=status.amount or order.amount, outcome=CallbackOutcome.PAID,
        )  # fmt: skip
        result = await self._orders.apply_verdict(order.payment_provider, verdict)
        accepted = result.acknowledgement == provider.acknowledgement(True)
        record = _verdict(record, verdict, order, result, accepted, order.payment_provider)
        await self._finish(record)
        return result.order or order


def _verdict(
    record: CallbackRecord,
    verdict: CallbackVerdict,
    before: Order | None,
    result: CallbackResult,
    accepted: bool,
    provider: str,
) -> CallbackRecord:
    if not accepted:
        if before is None:
            error = "unknown order"
        elif before.payment_provider != provider:
            error = "the order belongs to another provider"
        elif verdict.amount != before.amount:
            error = (
                f"amount {verdict.amount.amount_minor} {verdict.amount.currency} differs from "
                f"the order's {before.amount_minor} {before.currency}"
            )
        else:
            error = "refused"
        return replace(record, result=CallbackResultKind.REFUSED, error=error)
    if verdict.outcome is CallbackOutcome.PENDING:
        return replace(record, processed=True, result=CallbackResultKind.PENDING)
    if not result.changed:
        return replace(record, processed=True, result=CallbackResultKind.DUPLICATE)
    if verdict.outcome is CallbackOutcome.FAILED:
        return replace(record, processed=True, result=CallbackResultKind.FAILED)
    late = before is not None and (
        before.status is OrderStatus.EXPIRED
        or (before.status in (OrderStatus.PENDING, OrderStatus.PAYING)
            and result.order is not None and result.order.paid_at is not None
            and result.order.paid_at > before.expires_at)
    )  # fmt: skip
    return replace(record, processed=True, result=CallbackResultKind.FULFILLED, late=late)


def _require_admin(principal: Principal) -> None:
    require_admin(principal)
