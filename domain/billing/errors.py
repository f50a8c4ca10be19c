"""Errors of the billing context."""

from __future__ import annotations

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, UpstreamFailed


class PaymentProviderFailed(UpstreamFailed):
    code = "PAYMENT_PROVIDER_FAILED"
    default_message = "the payment provider failed, try again later"


class UnknownCurrency(InvalidInput):
    code = "UNKNOWN_CURRENCY"
    default_message = "unknown currency"


class InvalidCurrencyConfig(InvalidInput):
    code = "INVALID_CURRENCY_CONFIG"
    default_message = "invalid currency configuration"


class MissingExchangeRate(InvalidInput):
    code = "MISSING_EXCHANGE_RATE"
    default_message = "no exchange rate for this currency"


class PlanNotFound(NotFound):
    code = "PLAN_NOT_FOUND"
    default_message = "plan not found"


class InvalidPlan(InvalidInput):
    code = "INVALID_PLAN"
    default_message = "invalid plan"


class FreePlanUndeletable(InvalidInput):
    code = "FREE_PLAN_UNDELETABLE"
    default_message = "cannot delete free plan"


class UnknownPaymentProvider(InvalidInput):
    code = "UNKNOWN_PAYMENT_PROVIDER"
    default_message = "unknown payment provider"


class InvalidIdempotencyKey(InvalidInput):
    code = "INVALID_IDEMPOTENCY_KEY"
    default_message = "idempotency key must be 1-128 printable ASCII characters"


class IdempotencyKeyReused(InvalidInput):
    """The key was used before with other parameters (Stripe answers this too)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "this idempotency key was used with different parameters"
    http_status = 422
    failed_precondition = True


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"
    default_message = "order not found"


class InvalidOrderTransition(Conflict):
    code = "INVALID_ORDER_TRANSITION"
    default_message = "the order cannot change to that state"


class InsufficientBalance(InvalidInput):
    code = "INSUFFICIENT_BALANCE"
    default_message = "insufficient balance"


class InvalidAmount(InvalidInput):
    code = "INVALID_AMOUNT"
    default_message = "invalid amount"


class SuperadminRequired(Forbidden):
    code = "SUPERADMIN_REQUIRED"
    default_message = "superadmin role required"


class BillingAdminRequired(Forbidden):
    code = "BILLING_ADMIN_REQUIRED"
    default_message = "insufficient role"


class MockPaymentsDisabled(NotFound):
    code = "MOCK_PAYMENTS_DISABLED"
    default_message = "the mock payment provider is not enabled"


class BillingUserNotFound(NotFound):
    code = "BILLING_USER_NOT_FOUND"
    default_message = "user not found"


class SubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"
    default_message = "no active subscription"


class InvoiceNotFound(NotFound):
    code = "INVOICE_NOT_FOUND"
    default_message = "invoice not found"


class OrderNotRefundable(InvalidInput):
    code = "ORDER_NOT_REFUNDABLE"
    default_message = "only completed orders can be refunded"
