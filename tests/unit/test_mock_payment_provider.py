"""The development-only mock provider: its pay page URL, its callback, its in-memory query."""

from __future__ import annotations

import pytest

from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, InvalidCallback, PaymentRequest
from integrations.payments import MockConfig, MockProvider


def request(order_id: str = "ord_1", minor: int = 2900) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money(minor, "CNY"),
        subject="Music Gateway - Pro",
        notify_url="http://localhost:8000/v1/billing/callback/mock",
        return_url="http://localhost:8000/billing",
    )


async def test_the_pay_url_is_karpovs_mock_page() -> None:
    provider = MockProvider(MockConfig(base_url="https://karpov.test/"))

    created = await provider.create_payment(request())

    assert created.pay_url == "https://karpov.test/v1/billing/mock/pay/ord_1"
    assert created.provider_order_id == "mock-ord_1"


async def test_without_a_base_url_the_pay_url_is_a_path_on_the_same_site() -> None:
    created = await MockProvider().create_payment(request())

    assert created.pay_url == "/v1/billing/mock/pay/ord_1"


async def test_the_pay_button_callback_is_a_payment_of_the_order_amount() -> None:
    provider = MockProvider()
    await provider.create_payment(request())
    params = MockProvider.callback_params("ord_1", Money(2900, "CNY"))

    verdict = provider.verify_callback(params)

    assert params == {"order_id": "ord_1", "amount": "29.00"}
    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == "mock-txn-ord_1"
    assert verdict.amount == Money(2900, "CNY")
    assert verdict.outcome is CallbackOutcome.PAID
    assert provider.acknowledgement(True).body == "ok"
    assert provider.acknowledgement(False).body == "fail"


async def test_the_query_answers_what_was_paid_and_what_is_pending() -> None:
    provider = MockProvider()
    await provider.create_payment(request("ord_paid"))
    await provider.create_payment(request("ord_waiting"))
    provider.verify_callback({"order_id": "ord_paid", "amount": "29.00"})

    paid = await provider.query_order("ord_paid")
    waiting = await provider.query_order("ord_waiting")
    unknown = await provider.query_order("ord_never_seen")

    assert paid.outcome is CallbackOutcome.PAID
    assert paid.provider_txn_id == "mock-txn-ord_paid"
    assert paid.amount == Money(2900, "CNY")
    assert waiting.outcome is CallbackOutcome.PENDING
    assert waiting.provider_txn_id is None
    assert unknown.outcome is CallbackOutcome.PENDING


async def test_the_fail_button_fails_the_order_but_never_undoes_a_payment() -> None:
    provider = MockProvider()
    failed = provider.verify_callback(
        MockProvider.callback_params("ord_1", Money(2900, "CNY"), paid=False)
    )
    assert failed.outcome is CallbackOutcome.FAILED
    assert (await provider.query_order("ord_1")).outcome is CallbackOutcome.FAILED

    provider.verify_callback({"order_id": "ord_1", "amount": "29.00"})
    provider.verify_callback({"order_id": "ord_1", "amount": "29.00", "status": "failed"})

    assert (await provider.query_order("ord_1")).outcome is CallbackOutcome.PAID


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"order_id": "ord_1"},
        {"amount": "29.00"},
        {"order_id": "ord_1", "amount": "29.001"},
        {"order_id": "ord_1", "amount": "abc"},
        {"order_id": "../etc", "amount": "29.00"},
        {"order_id": "ord_1", "amount": "29.00", "status": "maybe"},
    ],
)
def test_a_malformed_mock_callback_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(InvalidCallback):
        MockProvider().verify_callback(params)


async def test_a_request_in_another_currency_is_a_caller_bug() -> None:
    wrong = PaymentRequest(
        order_id="o", amount=Money(100, "LDC"), subject="s", notify_url="n", return_url="r"
    )

    with pytest.raises(ValueError, match="CNY"):
        await MockProvider().create_payment(wrong)
