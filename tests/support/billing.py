"""Helpers of billing's tests: principals, users, and a provider charging in another
currency (the FX path) that speaks the mock's callback."""

from __future__ import annotations

from collections.abc import Mapping

from domain.accounts.ports import UnitOfWorkFactory
from domain.billing.money import Money
from domain.billing.ports import (
    Acknowledgement,
    CallbackOutcome,
    CallbackVerdict,
    PaymentCreated,
    PaymentRequest,
    ProviderOrderStatus,
)
from domain.ids import new_id
from domain.principal import AuthMethod, Principal, Role
from integrations.payments.callback_fields import amount, required
from tests.contract.users import add_user

SUPERADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)


def session_of(user_id: str, role: Role = Role.USER) -> Principal:
    return Principal(AuthMethod.SESSION, user_id=user_id, role=role, session_id=new_id())


async def new_user(uow: UnitOfWorkFactory) -> tuple[str, Principal]:
    user_id = new_id()
    await add_user(uow, user_id)
    return user_id, session_of(user_id)


class ForeignProvider:
    """A provider charging in ``currency`` (e.g. Linux Credit's LDC), with the mock's
    unsigned callback fields: for the FX path in tests only."""

    def __init__(self, name: str = "ldcfake", currency: str = "LDC") -> None:
        self.name = name
        self.currency = currency
        self.requests: list[PaymentRequest] = []

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        self.requests.append(request)
        return PaymentCreated(pay_url=f"https://pay.test/{request.order_id}")

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        order_id = required(params, "order_id")
        money: Money = amount(required(params, "amount"), self.currency, name="amount")
        return CallbackVerdict(order_id, f"txn-{order_id}", money, CallbackOutcome.PAID)

    def acknowledgement(self, accepted: bool) -> Acknowledgement:
        return Acknowledgement("success" if accepted else "fail")

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        return ProviderOrderStatus(CallbackOutcome.PENDING)
