"""Money: an integer count of a currency's minor unit, never a float.

Each currency is declared with its exponent (CNY 2: 1 yuan = 100 fen; JPY 0). Amounts
are converted with ``Decimal`` and rounded half-up ONCE, to the target's minor unit: the
amount sent to a payment provider, stored on the order and compared in the callback are
the same integer (the original truncated one and rounded the other).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.billing.errors import UnknownCurrency as UnknownCurrency
from domain.errors import InvalidInput

CURRENCY_EXPONENTS: dict[str, int] = {
    # ISO 4217 currencies Karpov's providers and users are likely to meet, plus the
    # zero-decimal ones Stripe lists, plus Linux Credit's pseudo-currency LDC (2).
    "CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "TWD": 2, "SGD": 2, "AUD": 2,
    "CAD": 2, "CHF": 2, "MOP": 2, "THB": 2, "MYR": 2, "PHP": 2, "INR": 2, "RUB": 2,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "PYG": 0, "UGX": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BIF": 0, "DJF": 0, "GNF": 0, "KMF": 0, "MGA": 0, "RWF": 0, "VUV": 0,
    "LDC": 2,
}  # fmt: skip


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}", field="currency") from None


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int (minor units), never a float")
        exponent(self.currency)

    @property
    def major(self) -> Decimal:
        """The amount in major units, exactly (``Decimal("13.89")``)."""
        return Decimal(self.amount_minor).scaleb(-exponent(self.currency))

    def formatted(self) -> str:
        """Major units with exactly the currency's decimals: ``"13.89"``, JPY ``"1390"``."""
        return f"{self.major:.{exponent(self.currency)}f}"

    @classmethod
    def parse(cls, text: str, currency: str, *, field: str = "amount") -> Money:
        """Major units as text (``"13.89"``); more decimals than the currency has is an
        error, not a rounding."""
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, AttributeError):
            raise InvalidInput(f"{field} is not an amount", field=field) from None
        if not value.is_finite():
            raise InvalidInput(f"{field} is not an amount", field=field)
        scaled = value.scaleb(exponent(currency))
        if scaled != scaled.to_integral_value():
            raise InvalidInput(f"{field} has too many decimals for {currency}", field=field)
        return cls(int(scaled), currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


def convert(amount: Money, rate: Decimal, target: str) -> Money:
    """``amount`` × ``rate`` (units of ``target`` per unit of ``amount.currency``), rounded
    half-up once to ``target``'s minor unit."""
    major = amount.major * rate
    minor = major.scaleb(exponent(target)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(minor), target)
