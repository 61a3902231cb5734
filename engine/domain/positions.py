"""Spot positions (long only): average entry, realized and unrealized PnL, fees — all exact."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from engine.domain.enums import Side
from engine.domain.ids import AccountId, Symbol, UserId
from engine.domain.money import ZERO
from engine.domain.values import evolve


class OversizedSell(ValueError):
    """A sell larger than the position: spot accounts cannot go short."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """One position's life, from the first buy to the sell that brings it back to zero.

    `realized_pnl` is gross of fees; `fees` holds every fee paid in the quote currency, so the net
    result of a closed position is `realized_pnl - fees`.
    """

    user_id: UserId
    account_id: AccountId
    symbol: Symbol
    opened_at: datetime
    qty: Decimal = ZERO
    avg_entry: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    cost_basis_total: Decimal = ZERO  # all money ever spent buying, for return %
    stop_price: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_distance: Decimal | None = None  # fraction of the highest price, e.g. 0.03
    highest_price: Decimal = ZERO
    stop_order_id: str | None = None  # the protective stop resting at the venue, if any
    strategy: str = ""
    closed_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def net_realized_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return self.qty * (price - self.avg_entry)

    def market_value(self, price: Decimal) -> Decimal:
        return self.qty * price

    def apply_fill(self, *, side: Side, qty: Decimal, price: Decimal, fee_quote: Decimal, ts: datetime) -> Position:
        """Return the position after a fill; the fee is given in the quote currency."""
        if qty <= 0 or price <= 0:
            raise ValueError(f"fill needs a positive quantity and price, got {qty} @ {price}")
        if side is Side.BUY:
            return self._buy(qty, price, fee_quote)
        return self._sell(qty, price, fee_quote, ts)

    def _buy(self, qty: Decimal, price: Decimal, fee_quote: Decimal) -> Position:
        new_qty = self.qty + qty
        average = (self.avg_entry * self.qty + price * qty) / new_qty
        return evolve(
            self,
            qty=new_qty,
            avg_entry=average,
            fees=self.fees + fee_quote,
            cost_basis_total=self.cost_basis_total + price * qty,
            highest_price=max(self.highest_price, price),
        )

    def _sell(self, qty: Decimal, price: Decimal, fee_quote: Decimal, ts: datetime) -> Position:
        if qty > self.qty:
            raise OversizedSell(f"sell of {qty} {self.symbol} exceeds the position of {self.qty}")
        remaining = self.qty - qty
        return evolve(
            self,
            qty=remaining,
            realized_pnl=self.realized_pnl + (price - self.avg_entry) * qty,
            fees=self.fees + fee_quote,
            closed_at=ts if remaining == 0 else None,
        )

    def with_price_seen(self, high: Decimal) -> Position:
        """Remember the highest price since entry (for trailing stops)."""
        return self if high <= self.highest_price else replace(self, highest_price=high)


def fee_in_quote(*, fee: Decimal, fee_currency: str, base: str, price: Decimal) -> Decimal:
    """Express a fee in the quote currency; fees charged in the base asset are valued at the fill price."""
    if fee == 0:
        return ZERO
    return fee * price if fee_currency == base else fee
