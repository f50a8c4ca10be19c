"""Reading the fields of a provider's callback (or answer) strictly.

An amount is digits with at most as many decimals as the currency has (``"13.89"``,
``"13.8"``, ``"13"`` for CNY); anything else — ``"13.890"``, ``"1e3"``, ``"-1"``, ``" 5"`` —
is refused, never rounded: the amount is signed, so a provider that sends another shape
is not the provider we think it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.billing.money import Money, exponent
from domain.billing.ports import InvalidCallback
from domain.errors import InvalidInput

_AMOUNT = re.compile(r"(?P<units>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidCallback(f"{name} is missing")
    return value


def amount(text: str, currency: str, *, name: str) -> Money:
    """A positive amount in major units; ``InvalidCallback`` for any other shape."""
    parsed = parse_amount(text, currency)
    if parsed is None:
        raise InvalidCallback(f"{name} is not an amount with at most {exponent(currency)} decimals")
    if parsed.amount_minor <= 0:
        raise InvalidCallback(f"{name} is not a positive amount")
    return parsed


def parse_amount(text: str, currency: str) -> Money | None:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    if len(match.group("fraction") or "") > exponent(currency):
        return None
    try:
        return Money.parse(text, currency)
    except InvalidInput:
        return None


def json_text(body: Mapping[str, Any], name: str) -> str:
    """A JSON scalar of an answer as text (epay-family answers send numbers for some fields
    and strings for others); empty for a missing, null, boolean or structured value."""
    value = body.get(name)
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()
