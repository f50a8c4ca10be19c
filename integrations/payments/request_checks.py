"""What every provider checks before it sends a payment request, and field-size helpers.

A request in the wrong currency, for a non-positive amount or with an order id a provider
cannot carry is a bug in the caller (billing converts and names orders), so it is a
``ValueError``, not a provider failure. Order ids are ASCII letters, digits, ``-`` and
``_``, at most 64 characters (Linux Credit's limit; hupijiao's ``trade_order_id`` allows
exactly that alphabet). Keep them at 32 characters to be safe everywhere (a UUID's hex).
"""

from __future__ import annotations

import re

from domain.billing.ports import PaymentRequest

_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_payment_request(request: PaymentRequest, currency: str) -> None:
    if request.amount.currency != currency:
        raise ValueError(f"this provider charges in {currency}, not {request.amount.currency}")
    if request.amount.amount_minor <= 0:
        raise ValueError("a payment needs a positive amount")
    check_order_id(request.order_id)


def check_order_id(order_id: str) -> None:
    if not _ORDER_ID.fullmatch(order_id):
        raise ValueError("an order id is 1-64 ASCII letters, digits, '-' or '_'")


def truncate_utf8(text: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of UTF-8, never cutting a character in two."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")
