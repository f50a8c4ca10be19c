"""Money and FX: integer minor units, every exponent, half-up once, the currency rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.billing.currency import build_config, convert_to, parse_rate, rate_text
from domain.billing.errors import (
    InvalidCurrencyConfig,
    InvalidIdempotencyKey,
    MissingExchangeRate,
    UnknownCurrency,
)
from domain.billing.idempotency import fingerprint, normalise_key
from domain.billing.model import CurrencyConfig, ExchangeRate
from domain.billing.money import Money, convert

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "rate", "target", "expected"),
    [
        (Money(100, "CNY"), Decimal("0.125"), "USD", 13),  # 0.125 -> 0.13 (half-up)
        (Money(100, "CNY"), Decimal("0.124999"), "USD", 12),
        (Money(100, "USD"), Decimal("150.5"), "JPY", 151),  # exponent 0: 150.5 -> 151
        (Money(100, "USD"), Decimal("150.49"), "JPY", 150),
        (Money(1000, "CNY"), Decimal("0.0465"), "KWD", 465),  # exponent 3: 0.465 KWD
        (Money(1, "CNY"), Decimal("0.0005"), "BHD", 0),  # 0.000005 BHD -> 0
        (Money(1, "CNY"), Decimal("0.05"), "BHD", 1),  # 0.0005 BHD -> 0.001 (half-up)
        (Money(5, "JPY"), Decimal("0.1"), "CNY", 50),
    ],
)
def test_convert_rounds_half_up_once_to_the_targets_minor_unit(
    amount: Money, rate: Decimal, target: str, expected: int
) -> None:
    assert convert(amount, rate, target) == Money(expected, target)


def test_the_originals_fx_bug_is_one_integer_here() -> None:
    # ¥100 at 7.2 CNY per LDC: 13.888… LDC. The original stored 13.88 and asked 13.89.
    config = build_config("CNY", [("LDC", "7.2")], NOW)
    charged, rate = convert_to(config, Money(10_000, "CNY"), "LDC")
    assert charged == Money(1389, "LDC")
    assert charged.formatted() == "13.89"
    assert rate_text(rate) == "0.13888889"


def test_conversion_goes_through_the_default_currency() -> None:
    config = CurrencyConfig(
        "CNY", (ExchangeRate("USD", Decimal("7.25")), ExchangeRate("JPY", Decimal("0.05")))
    )
    charged, _ = convert_to(config, Money(100, "USD"), "JPY")  # 1 USD = 7.25 CNY = 145 JPY
    assert charged == Money(145, "JPY")
    with pytest.raises(MissingExchangeRate):
        convert_to(config, Money(100, "CNY"), "EUR")


def test_money_refuses_floats_and_formats_each_exponent() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    assert Money(1389, "CNY").formatted() == "13.89"
    assert Money(1389, "JPY").formatted() == "1389"
    assert Money(1389, "KWD").formatted() == "1.389"
    with pytest.raises(UnknownCurrency):
        Money(1, "XYZ")


@pytest.mark.parametrize(
    ("default", "rates", "field"),
    [
        ("cn", [], "defaultCurrency"),
        ("CNY", [("usd", "0")], "rates[0].rate"),
        ("CNY", [("USD", "-1")], "rates[0].rate"),
        ("CNY", [("USD", "abc")], "rates[0].rate"),
        ("CNY", [("CNY", "1")], "rates[0].code"),
        ("CNY", [("USD", "7"), ("usd", "7.1")], "rates[1].code"),
        ("CNY", [("US1", "7")], "rates[0].code"),
    ],
)
def test_currency_config_validation_names_the_field(
    default: str, rates: list[tuple[str, str]], field: str
) -> None:
    with pytest.raises((InvalidCurrencyConfig, UnknownCurrency)) as raised:
        build_config(default, rates, NOW)
    assert raised.value.field == field


def test_currency_codes_are_normalised_and_rates_are_decimals() -> None:
    config = build_config(" cny ", [(" ldc", "7.2"), ("usd", 7)], NOW)
    assert config.default_currency == "CNY"
    assert [(r.code, r.rate) for r in config.rates] == [("LDC", Decimal("7.2")), ("USD", 7)]
    assert parse_rate(0.1, field="rate") == Decimal("0.1")  # via its text, not binary


@pytest.mark.parametrize("key", ["", "   ", None])
def test_no_idempotency_key_is_none(key: str | None) -> None:
    assert normalise_key(key) is None


@pytest.mark.parametrize("key", ["a b", "x" * 129, "ключ", "tab\tkey"])
def test_idempotency_keys_are_1_to_128_printable_ascii(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        normalise_key(key)


def test_idempotency_keys_are_trimmed_and_parameters_fingerprinted() -> None:
    assert normalise_key("  k-1!~ ") == "k-1!~"
    assert normalise_key("x" * 128) == "x" * 128
    assert fingerprint(a=1, b="x") == fingerprint(b="x", a=1) != fingerprint(a=2, b="x")
