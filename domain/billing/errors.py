"""Errors of the billing context."""

from __future__ import annotations

from domain.errors import InvalidInput, UpstreamFailed


class PaymentProviderFailed(UpstreamFailed):
    code = "PAYMENT_PROVIDER_FAILED"
    default_message = "the payment provider failed, try again later"


class UnknownCurrency(InvalidInput):
    code = "UNKNOWN_CURRENCY"
    default_message = "unknown currency"
