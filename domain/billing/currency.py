"""The currency configuration (admin ``/v1/admin/settings/currency``) and conversion.

As the original: a default currency and rates "1 foreign = X default"; codes are three
upper-case letters (so the pseudo-currency ``LDC`` is valid), the default cannot appear
among the rates, a code appears once, a rate is a positive decimal; a failed update changes
nothing. Unlike the original, a code must also be one Karpov knows the exponent of (it
could not round to its minor unit otherwise).

Conversion goes through the default currency with ``Decimal`` arithmetic (50 significant
digits for the one division) and rounds half-up ONCE, to the target's minor unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation, localcontext

from domain.billing.errors import InvalidCurrencyConfig, MissingExchangeRate
from domain.billing.model import CurrencyConfig, ExchangeRate
from domain.billing.money import Money, convert, exponent

_CODE = re.compile(r"[A-Z]{3}")
FX_RATE_PLACES = Decimal("0.00000001")


def normalise_code(text: object, *, field: str) -> str:
    if not isinstance(text, str):
        raise InvalidCurrencyConfig(f"{field} must be a currency code", field=field)
    code = text.strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidCurrencyConfig(f"{field} must be three letters (ISO 4217)", field=field)
    exponent(code)  # UnknownCurrency (400) for a code without a known minor unit
    return code


def parse_rate(value: object, *, field: str) -> Decimal:
    """A positive decimal, given as text or a JSON number (a number is read through its
    shortest decimal text, never through binary floating point arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidCurrencyConfig(f"{field} must be a positive decimal", field=field)
    try:
        rate = Decimal(value.strip() if isinstance(value, str) else repr(value))
    except InvalidOperation:
        raise InvalidCurrencyConfig(f"{field} must be a positive decimal", field=field) from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidCurrencyConfig(f"{field} must be a positive decimal", field=field)
    return rate


def build_config(
    default_currency: object, rates: Sequence[tuple[object, object]], now: datetime
) -> CurrencyConfig:
    default = normalise_code(default_currency, field="defaultCurrency")
    seen: set[str] = set()
    parsed: list[ExchangeRate] = []
    for i, (code_text, rate_text) in enumerate(rates):
        code = normalise_code(code_text, field=f"rates[{i}].code")
        if code == default:
            raise InvalidCurrencyConfig(
                "the default currency cannot have a rate", field=f"rates[{i}].code"
            )
        if code in seen:
            raise InvalidCurrencyConfig(f"duplicate rate for {code}", field=f"rates[{i}].code")
        seen.add(code)
        parsed.append(ExchangeRate(code, parse_rate(rate_text, field=f"rates[{i}].rate")))
    return CurrencyConfig(default, tuple(parsed), now)


def fx_rate(config: CurrencyConfig, source: str, target: str) -> Decimal:
    """Units of ``target`` per unit of ``source``, through the default currency."""
    rate_from, rate_to = config.rate_of(source), config.rate_of(target)
    if rate_from is None:
        raise MissingExchangeRate(f"no exchange rate for {source}", field="currency")
    if rate_to is None:
        raise MissingExchangeRate(f"no exchange rate for {target}", field="currency")
    with localcontext() as ctx:
        ctx.prec = 50
        return rate_from / rate_to


def convert_to(config: CurrencyConfig, amount: Money, target: str) -> tuple[Money, Decimal]:
    """``amount`` in ``target``, rounded half-up once to its minor unit, and the rate."""
    if amount.currency == target:
        return amount, Decimal(1)
    rate = fx_rate(config, amount.currency, target)
    with localcontext() as ctx:
        ctx.prec = 50
        return convert(amount, rate, target), rate


def rate_text(rate: Decimal) -> str:
    """A rate as the original showed it (8 decimal places)."""
    return str(rate.quantize(FX_RATE_PLACES))
