"""Users, their trading accounts, and the rules of a market."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from engine.domain.enums import AccountMode, RiskProfileName, TradingState, UserStatus
from engine.domain.ids import AccountId, Symbol, TelegramId, UserId
from engine.domain.money import ZERO, ceil_to_step, floor_to_step, round_to_step

PAPER_VENUE = "paper"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: UserId
    telegram_id: TelegramId
    chat_id: int
    name: str
    status: UserStatus
    created_at: datetime
    profile: RiskProfileName | None = None
    capital: Decimal | None = None
    mode: AccountMode = AccountMode.PAPER
    is_paused: bool = False
    trading_state: TradingState = TradingState.ACTIVE
    state_reason: str = ""
    state_until: datetime | None = None
    peak_equity: Decimal = ZERO
    consecutive_losses: int = 0
    cooldown_until: datetime | None = None
    notifications_muted: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_onboarded(self) -> bool:
        return self.status is UserStatus.ACTIVE and self.profile is not None and self.capital is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """Where a user's orders go: the paper venue or an exchange account with encrypted keys."""

    id: AccountId
    user_id: UserId
    venue: str
    created_at: datetime
    is_reduce_only: bool = False
    status_reason: str = ""
    key_hint: str = ""  # last characters of the API key, for display only
    managed_cash: Decimal = ZERO  # quote currency the bot manages for the user (capital +/- what trades did)
    day_start_equity: Decimal = ZERO
    day_started_on: date | None = None  # the UTC day `day_start_equity` belongs to

    @property
    def is_paper(self) -> bool:
        return self.venue == PAPER_VENUE


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    """A venue's trading rules for one symbol, as the venue enforces them."""

    symbol: Symbol
    base: str
    quote: str
    price_step: Decimal
    amount_step: Decimal
    min_qty: Decimal = ZERO
    max_qty: Decimal | None = None
    min_notional: Decimal = ZERO

    def floor_qty(self, qty: Decimal) -> Decimal:
        return floor_to_step(qty, self.amount_step)

    def round_price(self, price: Decimal) -> Decimal:
        return round_to_step(price, self.price_step)

    def ceil_price(self, price: Decimal) -> Decimal:
        return ceil_to_step(price, self.price_step)

    def violation(self, qty: Decimal, price: Decimal) -> str | None:
        """Return why the venue would refuse this quantity at this price, or None."""
        violation = self.qty_violation(qty)
        if violation is None and qty * price < self.min_notional:
            return f"order value {qty * price:.8f} is below the minimum {self.min_notional} {self.quote}"
        return violation

    def qty_violation(self, qty: Decimal) -> str | None:
        """Return why the venue would refuse this quantity whatever the price, or None."""
        if qty <= 0:
            return "quantity must be positive"
        if self.amount_step > 0 and qty % self.amount_step != 0:
            return f"quantity {qty} is not a multiple of the step {self.amount_step}"
        if qty < self.min_qty:
            return f"quantity {qty} is below the minimum {self.min_qty}"
        if self.max_qty is not None and qty > self.max_qty:
            return f"quantity {qty} is above the maximum {self.max_qty}"
        return None

    def price_violation(self, price: Decimal) -> str | None:
        """Return why the venue would refuse this limit or stop price, or None."""
        if price <= 0:
            return "price must be positive"
        if self.price_step > 0 and price % self.price_step != 0:
            return f"price {price} is not a multiple of the tick {self.price_step}"
        return None

    @property
    def smallest_qty(self) -> Decimal:
        """The smallest quantity the venue accepts in an order; less than this is dust that cannot be sold."""
        return max(self.min_qty, self.amount_step)
