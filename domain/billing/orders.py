"""Orders: buying a plan or a top-up through a payment provider, with the original's
state machine (``model.TRANSITIONS``), a 30-minute TTL and idempotency keys; and the ONE
callback path every provider's notification takes (``handle_callback``).

The amount is decided once, when the order is made: the plan's price (or the top-up),
converted to the provider's currency with the configured rates and rounded half-up once.
That integer is what the provider is asked to charge, what the order stores and what the
callback's amount must equal.

A callback is processed in one unit of work under the order's row lock: verify (the
provider checks the signature), check the order is still open and the amount is the
order's, then pay and fulfil in the same transaction, so a repeated or concurrent
notification finds the order completed and only acknowledges. A top-up credits the wallet
(ledger key ``order:<id>``: once, whatever happens) and never touches the plan; a plan
order moves the user to the plan."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.billing.access import user_of
from domain.billing.commands import CreateOrder, CreateTopup
from domain.billing.currency import convert_to, normalise_code, rate_text
from domain.billing.errors import (
    IdempotencyKeyReused,
    InvalidAmount,
    InvalidPlan,
    OrderNotFound,
    PaymentProviderFailed,
    UnknownPaymentProvider,
)
from domain.billing.idempotency import fingerprint, generated_key, normalise_key
from domain.billing.invoices import issue_invoice, line_description
from domain.billing.model import (
    OPEN_STATUSES,
    ORDER_TTL,
    EntryKind,
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
)
from domain.billing.money import Money
from domain.billing.ports import (
    Acknowledgement,
    CallbackOutcome,
    CallbackVerdict,
    InvalidCallback,
    PaymentProvider,
    PaymentRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.billing.settings import load_currency_config
from domain.billing.wallet import Posting, post
from domain.clock import Clock
from domain.errors import DomainError, InvalidInput
from domain.ids import new_id
from domain.paging import MAX_OFFSET, Page, page_size
from domain.principal import Principal
from domain.quota.plans import FALLBACK_PLAN_ID, Plan
from domain.quota.ports import PlanCatalog

log = logging.getLogger("karpov.billing.orders")

TOPUP_MIN_CENTS = 100
TOPUP_MAX_CENTS = 100_000_000
SWEEP_BATCH = 500

Fulfilment = Callable[[UnitOfWork, Order, Plan, datetime], Awaitable[None]]
"""What paying a plan order does (inside the callback's unit of work): the subscription
context extends the buyer's subscription; by default, the user moves to the plan."""


async def move_to_plan(uow: UnitOfWork, order: Order, plan: Plan, now: datetime) -> None:
    user = await uow.users.get_for_update(order.user_id)
    if user is not None and user.plan_id != plan.id:
        await uow.users.update(user.with_changes(plan_id=plan.id, updated_at=now))


@dataclass(frozen=True, slots=True)
class CallbackResult:
    acknowledgement: Acknowledgement
    order: Order | None = None
    changed: bool = False
    """The order changed state (paid and fulfilled, or failed) because of this callback."""


class OrderService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        plans: PlanCatalog,
        providers: Mapping[str, PaymentProvider],
        clock: Clock,
        public_base_url: str,
        user_plan_changed: Callable[[str], Awaitable[None]],
        fulfil_plan: Fulfilment = move_to_plan,
    ) -> None:
        self._uow = uow
        self._plans = plans
        self._providers = dict(providers)
        self._clock = clock
        self._base = public_base_url.rstrip("/")
        self._user_plan_changed = user_plan_changed
        self._fulfil_plan = fulfil_plan
        self._withdrawn: set[str] = set()  # -- payments (issue 16) --

    def register(self, provider: PaymentProvider) -> None:
        """Offer ``provider`` from now on (a channel an admin configured and enabled)."""
        self._providers[provider.name] = provider
        self._withdrawn.discard(provider.name)  # -- payments (issue 16) --

    @property
    def provider_names(self) -> list[str]:
        return sorted(set(self._providers) - self._withdrawn)  # -- payments (issue 16) --

    def provider(self, name: str) -> PaymentProvider:
        provider = self._providers.get((name or "").strip().lower())
        if provider is None or provider.name in self._withdrawn:  # -- payments (issue 16) --
            raise UnknownPaymentProvider(field="paymentProvider")
        return provider

    # -- payments (issue 16) --
    def withdraw(self, name: str) -> None:
        """Stop offering ``name`` for new orders. Its callbacks are still verified and
        applied: an order made while the channel was on may still be paid."""
        if name in self._providers:
            self._withdrawn.add(name)

    def callback_provider(self, name: str) -> PaymentProvider | None:
        """The provider whose callbacks ``/v1/billing/callback/<name>`` takes (offered or
        withdrawn)."""
        return self._providers.get(name)

    async def order_for_callback(self, order_id: str) -> Order | None:
        """Any user's order as stored (the callback record and admin views)."""
        async with self._uow() as uow:
            return await uow.orders.get(order_id)

    async def apply_verdict(self, provider_name: str, verdict: CallbackVerdict) -> CallbackResult:
        """The callback path after verification (reconciliation's answer from
        ``query_order`` takes it too): the same row lock, state change and fulfilment."""
        provider = self._providers.get(provider_name)
        if provider is None:
            raise UnknownPaymentProvider()
        accepted, order, changed = await self._apply(provider, verdict)
        if changed and order is not None and order.purpose is OrderPurpose.SUBSCRIPTION:
            await self._user_plan_changed(order.user_id)
        return CallbackResult(provider.acknowledgement(accepted), order, changed)

    # -- end of payments --

    # -- making orders ---------------------------------------------------------------

    async def create_plan_order(self, principal: Principal, command: CreateOrder) -> Order:
        user_id = user_of(principal)
        key = normalise_key(command.idempotency_key)
        plan_id = (command.plan_id or "").strip()
        if not plan_id:
            raise InvalidPlan("planId is required", field="planId")
        provider = self.provider(command.payment_provider)
        plan = await self._plans.get(plan_id)
        if plan is None or not plan.is_active:
            raise InvalidPlan("no such plan", field="planId")
        if plan.price_cents <= 0 or plan.id == FALLBACK_PLAN_ID:
            raise InvalidPlan("this plan is free: nothing to buy", field="planId")
        price = Money(plan.price_cents, plan.currency)
        success_url = (command.success_url or "").strip()
        params = fingerprint(purpose="subscription", plan=plan.id, provider=provider.name,
                             success_url=success_url)  # fmt: skip
        return await self._create(
            user_id, OrderPurpose.SUBSCRIPTION, plan.id, price, provider, success_url,
            key or generated_key(user_id, plan.id, provider.name), params,
            f"Karpov - {plan.name}",
        )  # fmt: skip

    async def create_topup(self, principal: Principal, command: CreateTopup) -> Order:
        user_id = user_of(principal)
        key = normalise_key(command.idempotency_key)
        cents = command.amount_cents
        if (
            isinstance(cents, bool) or not isinstance(cents, int)
            or not TOPUP_MIN_CENTS <= cents <= TOPUP_MAX_CENTS
        ):  # fmt: skip
            raise InvalidAmount(
                f"amountCents must be between {TOPUP_MIN_CENTS} and {TOPUP_MAX_CENTS}",
                field="amountCents",
            )
        provider = self.provider(command.payment_provider)
        async with self._uow() as uow:
            config = await load_currency_config(uow.billing_settings)
        currency = (
            normalise_code(command.currency, field="currency")
            if command.currency
            else config.default_currency
        )
        amount = Money(cents, currency)
        success_url = (command.success_url or "").strip()
        params = fingerprint(purpose="topup", amount=cents, currency=currency,
                             provider=provider.name, success_url=success_url)  # fmt: skip
        return await self._create(
            user_id, OrderPurpose.TOPUP, None, amount, provider, success_url,
            key or generated_key("topup", user_id, str(cents)), params,
            f"Karpov wallet top-up {amount.formatted()} {currency}",
        )  # fmt: skip

    async def _create(
        self,
        user_id: str,
        purpose: OrderPurpose,
        plan_id: str | None,
        price: Money,
        provider: PaymentProvider,
        success_url: str,
        key: str,
        params: str,
        subject: str,
    ) -> Order:
        now = self._clock.now()
        async with self._uow() as uow:
            existing = await uow.orders.by_idempotency_key(user_id, key)
            if existing is None:
                config = await load_currency_config(uow.billing_settings)
                charged, rate = convert_to(config, price, provider.currency)
                fx = price.currency != charged.currency
                order = Order(
                    id=new_id(), user_id=user_id, purpose=purpose, plan_id=plan_id,
                    amount_minor=charged.amount_minor, currency=charged.currency,
                    status=OrderStatus.PENDING, payment_provider=provider.name,
                    idempotency_key=key, fingerprint=params, created_at=now,
                    expires_at=now + ORDER_TTL, success_url=success_url,
                    original_amount_minor=price.amount_minor if fx else None,
                    original_currency=price.currency if fx else None,
                    fx_rate=rate_text(rate) if fx else None,
                )  # fmt: skip
                if await uow.orders.add(order):
                    await uow.commit()
                    existing = None
                else:  # a concurrent request with the same key won
                    existing = await uow.orders.by_idempotency_key(user_id, key)
                    assert existing is not None
            if existing is not None:
                if existing.fingerprint != params:
                    raise IdempotencyKeyReused()
                if existing.status is not OrderStatus.PENDING or existing.pay_url:
                    return existing
                order = existing
        return await self._start_payment(order, provider, subject)

    async def _start_payment(self, order: Order, provider: PaymentProvider, subject: str) -> Order:
        request = PaymentRequest(
            order_id=order.id, amount=order.amount, subject=subject,
            notify_url=f"{self._base}/v1/billing/callback/{provider.name}",
            return_url=order.success_url or f"{self._base}/billing",
        )  # fmt: skip
        try:
            created = await provider.create_payment(request)
        except DomainError:
            raise
        except Exception:
            log.exception("payment creation failed", extra={"provider": provider.name})
            raise PaymentProviderFailed() from None
        async with self._uow() as uow:
            current = await uow.orders.get_for_update(order.id)
            if current is None:
                raise OrderNotFound()
            if current.status is OrderStatus.PENDING:
                current = current.moved(
                    OrderEvent.PAY_START, pay_url=created.pay_url,
                    provider_order_id=created.provider_order_id,
                )  # fmt: skip
                await uow.orders.update(current)
                await uow.commit()
            return current

    # -- reading orders --------------------------------------------------------------

    async def get(self, principal: Principal, order_id: str) -> Order:
        """One of the caller's orders; someone else's is "not found"."""
        user_id = user_of(principal)
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound()
        return self._as_seen(order)

    async def list(self, principal: Principal, *, limit: int, offset: int) -> Page[Order]:
        user_id = user_of(principal)
        if offset < 0 or offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        async with self._uow() as uow:
            page = await uow.orders.list_for_user(user_id, limit=page_size(limit), offset=offset)
        return Page([self._as_seen(o) for o in page.items], page.total, page.limit, page.offset)

    async def pay_page_order(self, order_id: str) -> Order:
        """The order the mock cashier page shows (it is a development tool)."""
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound()
        return self._as_seen(order)

    def _as_seen(self, order: Order) -> Order:
        """An open order past its TTL reads as expired even before the sweep marks it."""
        if order.overdue(self._clock.now()):
            return order.with_changes(status=OrderStatus.EXPIRED)
        return order

    async def paying_longer_than(self, age: timedelta) -> Sequence[Order]:  # worker (issue 17)
        """Orders still ``paying`` ``age`` after they were made (the payment is started
        with the provider when the order is made), oldest first: payment reconciliation
        asks their providers about them."""
        async with self._uow() as uow:
            ids = await uow.orders.paying_since(self._clock.now() - age, SWEEP_BATCH)
            found = [await uow.orders.get(order_id) for order_id in ids]
        return [o for o in found if o is not None]

    async def expire_overdue(self) -> int:
        """Mark open orders past their TTL expired (the worker runs this periodically)."""
        now = self._clock.now()
        async with self._uow() as uow:
            ids = await uow.orders.overdue(now, SWEEP_BATCH)
        expired = 0
        for order_id in ids:
            async with self._uow() as uow:
                order = await uow.orders.get_for_update(order_id)
                if order is not None and order.overdue(now):
                    await uow.orders.update(order.moved(OrderEvent.TIMEOUT))
                    await uow.commit()
                    expired += 1
        return expired

    # -- the callback path, the same for every provider ------------------------------

    async def handle_callback(
        self, provider_name: str, params: Mapping[str, str]
    ) -> CallbackResult:
        """Verify and apply a provider's notification; the answer is the provider's
        acknowledgement (accepted, or refused so that it retries or gives up)."""
        provider = self._providers.get(provider_name)
        if provider is None:
            raise UnknownPaymentProvider()
        try:
            verdict = provider.verify_callback(params)
        except InvalidCallback as refused:
            log.warning("payment callback refused: %s", refused.reason,
                        extra={"provider": provider_name})  # fmt: skip
            return CallbackResult(provider.acknowledgement(False))
        accepted, order, changed = await self._apply(provider, verdict)
        if changed and order is not None and order.purpose is OrderPurpose.SUBSCRIPTION:
            await self._user_plan_changed(order.user_id)
        return CallbackResult(provider.acknowledgement(accepted), order, changed)

    async def _apply(
        self, provider: PaymentProvider, verdict: CallbackVerdict
    ) -> tuple[bool, Order | None, bool]:
        now = self._clock.now()
        async with self._uow() as uow:
            order = await uow.orders.get_for_update(verdict.order_id)
            if order is None or order.payment_provider != provider.name:
                log.warning("payment callback for an unknown order",
                            extra={"provider": provider.name})  # fmt: skip
                return False, order, False
            if verdict.outcome is CallbackOutcome.PENDING:
                return True, order, False
            if order.status not in OPEN_STATUSES and not (
                order.status is OrderStatus.EXPIRED and verdict.outcome is CallbackOutcome.PAID
            ):
                return True, order, False  # processed already: acknowledge, change nothing
            if verdict.outcome is CallbackOutcome.FAILED:
                if order.status is OrderStatus.PENDING:
                    order = order.moved(OrderEvent.PAY_START)
                if order.status is OrderStatus.PAYING:
                    order = order.moved(OrderEvent.CALLBACK_FAIL)
                    await uow.orders.update(order)
                    await uow.commit()
                    return True, order, True
                return True, order, False
            if verdict.amount != order.amount:
                log.warning(
                    "payment callback amount differs from the order's",
                    extra={"provider": provider.name, "order_id": order.id},
                )
                return False, order, False
            if order.status is OrderStatus.PENDING:
                order = order.moved(OrderEvent.PAY_START)
            if order.status is OrderStatus.EXPIRED:
                # The provider took the money after our TTL: honour the payment.
                order = order.with_changes(status=OrderStatus.PAYING)
            order = order.moved(
                OrderEvent.CALLBACK_OK, paid_at=now, provider_txn_id=verdict.provider_txn_id
            )
            what = await self._fulfil(uow, order, now)
            order = order.moved(OrderEvent.FULFILL, completed_at=now)
            await uow.orders.update(order)
            await issue_invoice(uow, order, what, now)
            await uow.commit()
            return True, order, True

    async def _fulfil(self, uow: UnitOfWork, order: Order, now: datetime) -> str:
        """Deliver what was paid for; returns the invoice line's description."""
        if order.purpose is OrderPurpose.TOPUP:
            credited = order.credited
            await post(
                uow,
                Posting(
                    order.user_id,
                    credited.currency,
                    credited.amount_minor,
                    EntryKind.TOPUP,
                    f"order:{order.id}",
                    order_id=order.id,
                    reference=order.provider_txn_id or "",
                    description=f"top-up via {order.payment_provider}",
                ),
                now,
            )
            return line_description(order, None, None)
        plan = await self._plans.get(order.plan_id or FALLBACK_PLAN_ID)
        if plan is None:
            raise OrderNotFound("the order's plan no longer exists")
        await self._fulfil_plan(uow, order, plan, now)
        return line_description(order, plan.name, plan.period)
