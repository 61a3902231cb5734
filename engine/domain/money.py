"""Exact money arithmetic: every price, quantity, balance and PnL is a `Decimal`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}")


def to_decimal(value: object) -> Decimal:
    """Parse a number exactly: floats go through their shortest repr, never their binary value."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not a number: {value!r}")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"not a number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of `step` (quantities: never buy more than sized)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round up to a multiple of `step`."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round to the nearest multiple of `step` (prices)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def quantize_cents(value: Decimal) -> Decimal:
    """Round to two decimals for display of quote amounts."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation for integers."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return normalized.quantize(ONE)
    return normalized


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency; refuses to mix currencies."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return f"{normalize(self.amount)} {self.currency}"

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)
