"""Frozen inputs of every risk decision: what the user holds and may do, and what is proposed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.domain.accounts import Market
from engine.domain.enums import TradingState
from engine.domain.ids import Symbol, UserId
from engine.domain.money import ZERO
from risk.phases import RolloutPhase
from risk.profiles import RiskProfile


@dataclass(frozen=True, slots=True)
class HeldPosition:
    symbol: Symbol
    qty: Decimal
    price: Decimal

    @property
    def value(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSnapshot:
    """One user's account as the risk engine sees it, at `now`."""

    user_id: UserId
    now: datetime
    profile: RiskProfile
    phase: RolloutPhase
    capital: Decimal
    equity: Decimal  # capital + realized + unrealized PnL (only the capital entrusted to the bot)
    free_cash: Decimal  # quote currency free to spend, never more than the bot manages
    day_start_equity: Decimal
    peak_equity: Decimal
    positions: tuple[HeldPosition, ...] = ()
    is_paused: bool = False
    trading_state: TradingState = TradingState.ACTIVE
    state_reason: str = ""
    system_state: TradingState = TradingState.ACTIVE
    system_reason: str = ""
    is_system_paused_by_admin: bool = False  # pause-all, as opposed to the global circuit breaker
    is_reduce_only: bool = False
    cooldown_until: datetime | None = None
    recent_signal_keys: frozenset[str] = field(default_factory=frozenset)
    price_tolerance: Decimal = Decimal("0.05")  # how far a signal's price may be from the market

    @property
    def exposure(self) -> Decimal:
        return sum((p.value for p in self.positions), start=ZERO)

    def symbol_exposure(self, symbol: Symbol) -> Decimal:
        return sum((p.value for p in self.positions if p.symbol == symbol), start=ZERO)

    def holds(self, symbol: Symbol) -> bool:
        return any(p.symbol == symbol and p.qty > 0 for p in self.positions)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryProposal:
    """A buy the engine would like to place for this user."""

    symbol: Symbol
    strategy: str
    market: Market
    price: Decimal  # the market price now
    signal_price: Decimal  # the price the signal was made at
    qty: Decimal
    stop_price: Decimal
    fee_rate: Decimal = Decimal("0.001")
    signal_key: str | None = None

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price

    @property
    def cost(self) -> Decimal:
        return self.notional * (1 + self.fee_rate)
