"""Circuit breakers evaluated for every user at once (vectorised), and the global ones over a time window.

Per user: the daily loss and drawdown breakers judge equity against the day's start and the peak (the losing
streak is judged per closed trade in `risk/trading_states.py`). Global: when several users trip breakers within
a window, or too many orders fail, the whole system goes to exits only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]

# state codes in the columns
ACTIVE, REDUCING, HALTED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class AccountColumns:
    """One row per user with an account; NaN `until` means "no end"."""

    equity: Floats
    day_start: Floats
    peak: Floats
    daily_loss_limit: Floats  # fraction of the day's starting equity
    max_drawdown: Floats  # fraction of the peak
    state: npt.NDArray[np.int8]
    until: Floats  # seconds since the epoch when a reducing state ends


@dataclass(frozen=True, slots=True)
class BreakerVerdicts:
    expired: Flags  # reducing whose time is up: active again (before the trips below are judged)
    daily_loss: Flags  # trips the daily loss breaker now
    drawdown: Flags  # trips the drawdown breaker now
    peak: Floats  # the peak, raised by this pass's equity


def evaluate_breakers(accounts: AccountColumns, now: float) -> BreakerVerdicts:
    """Judge every user's equity: which reducing states end, which users trip a breaker now."""
    with np.errstate(invalid="ignore"):
        expired = (accounts.state == REDUCING) & (accounts.until <= now)
        state = np.where(expired, ACTIVE, accounts.state)
        peak = np.fmax(accounts.peak, accounts.equity)
        loss = accounts.day_start - accounts.equity
        daily = (state == ACTIVE) & (accounts.day_start > 0) & (loss >= accounts.day_start * accounts.daily_loss_limit)
        fall = peak - accounts.equity
        drawdown = (state != HALTED) & (peak > 0) & (fall >= peak * accounts.max_drawdown)
    return BreakerVerdicts(expired, daily & ~drawdown, drawdown, peak)


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalBreakerRules:
    min_users: int = 3  # users tripping breakers within the window…
    user_share: Decimal = Decimal("0.02")  # …or this share of the traders, whichever is more
    window_seconds: int = 1800
    failure_rate: Decimal = Decimal("0.25")  # share of the orders ended in the window that failed
    failure_min_orders: int = 20  # orders ended in the window before the rate means anything
    failure_window_seconds: int = 900

    def users_threshold(self, traders: int) -> int:
        return max(self.min_users, math.ceil(self.user_share * traders))


def users_tripping_reason(
    trips: Sequence[tuple[datetime, int]], traders: int, now: datetime, rules: GlobalBreakerRules
) -> str | None:
    """Why the system must stop, when enough different users tripped a breaker within the window; else None."""
    since = now - timedelta(seconds=rules.window_seconds)
    users = {user for ts, user in trips if since < ts <= now}
    threshold = rules.users_threshold(traders)
    if len(users) >= threshold:
        minutes = rules.window_seconds // 60
        return f"{len(users)} users tripped a circuit breaker within {minutes} minutes (threshold {threshold})"
    return None


def order_failures_reason(
    outcomes: Sequence[tuple[datetime, bool]], now: datetime, rules: GlobalBreakerRules
) -> str | None:
    """Why the system must stop, when the share of failed orders in the window passes the rate; else None.
    `outcomes` are (when the order ended, whether it failed)."""
    since = now - timedelta(seconds=rules.failure_window_seconds)
    recent = [failed for ts, failed in outcomes if since < ts <= now]
    if len(recent) < rules.failure_min_orders:
        return None
    failed = sum(recent)
    if Decimal(failed) / Decimal(len(recent)) > rules.failure_rate:
        minutes = rules.failure_window_seconds // 60
        return f"{failed} of the last {len(recent)} orders failed within {minutes} minutes"
    return None
