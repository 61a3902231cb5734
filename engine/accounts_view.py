"""What a user's account is worth now, from our own books and the shared prices: one computation for
risk snapshots, `/portfolio`, reports and the monitor."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.accounts import Account, User
from engine.domain.money import ZERO
from engine.domain.positions import Position
from engine.ports import PriceSource


@dataclass(frozen=True, slots=True)
class ValuedPosition:
    position: Position
    price: Decimal

    @property
    def value(self) -> Decimal:
        return self.position.qty * self.price

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.position.unrealized_pnl(self.price)

    @property
    def unrealized_pct(self) -> Decimal:
        if self.position.avg_entry == 0:
            return ZERO
        return self.price / self.position.avg_entry - 1


@dataclass(frozen=True, slots=True)
class AccountValue:
    user: User
    account: Account
    positions: tuple[ValuedPosition, ...]

    @property
    def cash(self) -> Decimal:
        return self.account.managed_cash

    @property
    def invested(self) -> Decimal:
        return sum((p.value for p in self.positions), start=ZERO)

    @property
    def equity(self) -> Decimal:
        return self.cash + self.invested

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions), start=ZERO)

    @property
    def total_pnl(self) -> Decimal:
        return self.equity - (self.user.capital or ZERO)

    @property
    def day_pnl(self) -> Decimal:
        start = self.account.day_start_equity or (self.user.capital or ZERO)
        return self.equity - start


def value_account(user: User, account: Account, positions: list[Position], prices: PriceSource) -> AccountValue:
    """Value each open position at the latest price (its entry price if the market has none yet)."""
    valued = tuple(
        ValuedPosition(p, prices.last_price(p.symbol) or p.avg_entry) for p in positions if p.is_open and p.qty > 0
    )
    return AccountValue(user, account, valued)
