"""Closed sets of values, as `StrEnum`s so they store and print as words."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # stop-market: becomes a market order when the price crosses the stop


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class OrderPurpose(StrEnum):
    """Why an order exists; shown to the user and used to tell entries from exits."""

    ENTRY = "entry"
    EXIT_SIGNAL = "exit_signal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    TIME_EXIT = "time_exit"
    MANUAL_CLOSE = "manual_close"

    @property
    def is_exit(self) -> bool:
        return self is not OrderPurpose.ENTRY


class TradingState(StrEnum):
    """NautilusTrader's trading states: new entries allowed, exits only, or nothing."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def allows_entries(self) -> bool:
        return self is TradingState.ACTIVE

    @property
    def allows_exits(self) -> bool:
        return self is not TradingState.HALTED


class AccountMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class UserStatus(StrEnum):
    PENDING = "pending"  # asked for access, waiting for an admin
    APPROVED = "approved"  # may onboard
    ACTIVE = "active"  # onboarded: profile, capital and account chosen
    BLOCKED = "blocked"


class RiskProfileName(StrEnum):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class DecisionOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


class SignalSource(StrEnum):
    RULE = "rule"
    LLM = "llm"
    WEBHOOK = "webhook"
    MANUAL = "manual"


class SignalAction(StrEnum):
    """What a signal asks: open a long position, or leave it."""

    ENTER = "enter"
    EXIT = "exit"
