"""mock: the development-only provider, whose cashier is a Karpov page.

Never enable it in production: its callbacks carry no signature, so anyone could mark an
order paid (the original registered it always — its bug §6.3). Billing wires its page and
refuses it outside ``dev``; this module only speaks the protocol.

Creation records the order as pending and answers ``{base}/v1/billing/mock/pay/<order_id>``
(``MockConfig.base_url``; empty: a path on the same site). The page's "pay" and "fail"
buttons send the original's callback, ``GET|POST /v1/billing/callback/mock`` with
``order_id`` and ``amount`` (yuan, two decimals), through the same path as a real provider;
``callback_params`` builds those fields. A ``status=failed`` field marks the "fail" button
(an addition: the original's mock could only succeed); absent or ``paid``, it is a payment.

Verification accepts every well-formed callback (there is nothing to verify) and records
its outcome, so ``query_order`` answers from that in-memory record: paid, failed, or pending
for an order it has not seen paid. A payment is never undone by a later "fail". The record
lives in this process only, which is all a development server needs. The provider
transaction id is ``mock-txn-<order_id>`` (as the original), so a repeated "pay" is the same
transaction; the acknowledgement is ``ok``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from domain.billing.money import Money
from domain.billing.ports import (
    Acknowledgement,
    CallbackOutcome,
    CallbackVerdict,
    InvalidCallback,
    PaymentCreated,
    PaymentRequest,
    ProviderOrderStatus,
)
from integrations.payments.callback_fields import amount, required
from integrations.payments.config import MockConfig
from integrations.payments.request_checks import check_order_id, check_payment_request

NAME = "mock"
CURRENCY = "CNY"
PAY_PATH = "/v1/billing/mock/pay/"
ACK_ACCEPTED = "ok"
ACK_REFUSED = "fail"
_STATUSES = {"paid": CallbackOutcome.PAID, "failed": CallbackOutcome.FAILED}

log = logging.getLogger("karpov.integrations.payments.mock")


@dataclass(frozen=True, slots=True)
class _MockOrder:
    outcome: CallbackOutcome
    amount: Money | None


class MockProvider:
    """Implements ``domain.billing.ports.PaymentProvider``; development only."""

    name = NAME
    currency = CURRENCY

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        self._orders: dict[str, _MockOrder] = {}

    def pay_url(self, order_id: str) -> str:
        return f"{self.config.base_url}{PAY_PATH}{quote(order_id, safe='')}"

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        check_payment_request(request, CURRENCY)
        if request.order_id not in self._orders:
            self._orders[request.order_id] = _MockOrder(CallbackOutcome.PENDING, request.amount)
        log.debug("mock payment created", extra={"order_id": request.order_id})
        return PaymentCreated(
            pay_url=self.pay_url(request.order_id), provider_order_id=f"mock-{request.order_id}"
        )

    @staticmethod
    def callback_params(order_id: str, amount: Money, *, paid: bool = True) -> dict[str, str]:
        """What the mock page's "pay" (or "fail") button sends to the callback."""
        params = {"order_id": order_id, "amount": amount.formatted()}
        if not paid:
            params["status"] = "failed"
        return params

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        order_id = required(params, "order_id")
        try:
            check_order_id(order_id)
        except ValueError:
            raise InvalidCallback("order_id is not an order id") from None
        money = amount(required(params, "amount"), CURRENCY, name="amount")
        status = params.get("status") or "paid"
        outcome = _STATUSES.get(status)
        if outcome is None:
            raise InvalidCallback("status is neither paid nor failed")
        self._record(order_id, outcome, money)
        return CallbackVerdict(
            order_id=order_id, provider_txn_id=_txn_id(order_id), amount=money, outcome=outcome
        )

    def acknowledgement(self, accepted: bool) -> Acknowledgement:
        return Acknowledgement(ACK_ACCEPTED if accepted else ACK_REFUSED)

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        order = self._orders.get(order_id)
        if order is None:
            return ProviderOrderStatus(CallbackOutcome.PENDING)
        paid = order.outcome is CallbackOutcome.PAID
        return ProviderOrderStatus(order.outcome, _txn_id(order_id) if paid else None, order.amount)

    def _record(self, order_id: str, outcome: CallbackOutcome, money: Money) -> None:
        known = self._orders.get(order_id)
        if known is not None and known.outcome is CallbackOutcome.PAID:
            return
        self._orders[order_id] = _MockOrder(outcome, money)


def _txn_id(order_id: str) -> str:
    return f"mock-txn-{order_id}"
