"""Each user's trading state and the circuit breakers that change it: pure transitions, the time passed in.

- daily loss past the profile's limit → reducing (exits only) until the next UTC day;
- drawdown from the equity peak past the profile's limit → halted until the user resumes after reviewing it;
- a run of losing trades → a cooldown (no entries) for the profile's cooldown minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import TradingState
from risk.profiles import RiskProfile
from risk.refusals import money, percent


class Breaker(StrEnum):
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    LOSING_STREAK = "losing_streak"
    USERS_TRIPPING = "users_tripping"  # global: several users tripped breakers within a window
    ORDER_FAILURES = "order_failures"  # global: too many orders failed within a window


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTradingState:
    """What the breakers keep per user (persisted with the user)."""

    state: TradingState = TradingState.ACTIVE
    reason: str = ""
    until: datetime | None = None  # when a reducing state ends by itself
    consecutive_losses: int = 0
    cooldown_until: datetime | None = None

    def allows_entries(self, now: datetime) -> bool:
        return self.state is TradingState.ACTIVE and (self.cooldown_until is None or now >= self.cooldown_until)


def next_utc_day(now: datetime) -> datetime:
    """Midnight UTC after `now`."""
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)


def daily_loss_tripped(
    current: UserTradingState, now: datetime, loss: Decimal, limit: Decimal, profile: RiskProfile
) -> UserTradingState:
    """Exits only until the next UTC day (a halt stays a halt)."""
    if current.state is TradingState.HALTED:
        return current
    reason = (
        f"today's loss of {money(loss)} reached your daily limit of {money(limit)} "
        f"({percent(profile.daily_loss_limit, 0)}); new trades resume at 00:00 UTC"
    )
    return replace(current, state=TradingState.REDUCING, reason=reason, until=next_utc_day(now))


def drawdown_tripped(
    current: UserTradingState, drawdown: Decimal, peak: Decimal, profile: RiskProfile
) -> UserTradingState:
    """Halted until the user reviews it and resumes."""
    reason = (
        f"your account fell {percent(drawdown)} from its peak of {money(peak)}, "
        f"past your {percent(profile.max_drawdown, 0)} drawdown limit"
    )
    return replace(current, state=TradingState.HALTED, reason=reason, until=None)


def expired(current: UserTradingState, now: datetime) -> UserTradingState:
    """A reducing state whose time is up becomes active again; a halt never ends by itself."""
    if current.state is TradingState.REDUCING and current.until is not None and now >= current.until:
        return replace(current, state=TradingState.ACTIVE, reason="", until=None)
    return current


def after_closed_trade(
    current: UserTradingState, net_pnl: Decimal, now: datetime, profile: RiskProfile
) -> UserTradingState:
    """Count a closed round trip: a loss lengthens the streak, anything else ends it; a long enough streak
    starts a cooldown (and the count starts again)."""
    if net_pnl >= 0:
        return replace(current, consecutive_losses=0)
    losses = current.consecutive_losses + 1
    if profile.cooldown_after_losses > 0 and losses >= profile.cooldown_after_losses:
        return replace(current, consecutive_losses=0, cooldown_until=now + timedelta(minutes=profile.cooldown_minutes))
    return replace(current, consecutive_losses=losses)


def resumed(current: UserTradingState) -> UserTradingState:
    """The user reviewed a halt and resumes: active again (the streak and cooldown are kept)."""
    return replace(current, state=TradingState.ACTIVE, reason="", until=None)
