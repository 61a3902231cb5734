"""Pre-trade checks: one rule per function, each returning a refusal (stable code, a sentence) or None.

Every check runs for every entry, so a user sees all the reasons at once. The codes and sentences are in
`risk/refusals.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.domain.enums import TradingState
from engine.domain.ids import Symbol
from engine.domain.signals import Refusal
from risk.refusals import money, percent, refusal
from risk.snapshot import AccountSnapshot, EntryProposal

Check = Callable[[AccountSnapshot, EntryProposal], Refusal | None]


def check_user_paused(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return refusal("user_paused") if s.is_paused else None


def check_user_state(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    reason = s.state_reason or "a circuit breaker tripped"
    if s.trading_state is TradingState.HALTED:
        return refusal("user_halted", reason=reason)
    if s.trading_state is TradingState.REDUCING:
        return refusal("user_reducing", reason=reason)
    return None


def check_system_state(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.system_state is TradingState.ACTIVE:
        return None
    if s.is_system_paused_by_admin:
        return refusal("system_paused")
    return refusal("system_reducing", reason=s.system_reason or "a circuit breaker tripped")


def check_account_reduce_only(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return refusal("account_reduce_only") if s.is_reduce_only else None


def check_capital_bounds(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return s.phase.capital_refusal(s.capital)


def check_profile_in_phase(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return s.phase.profile_refusal(s.profile.name)


def check_profile_strategy(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.strategy not in s.profile.strategies:
        return refusal("strategy_not_in_profile", strategy=p.strategy, profile=s.profile.name.value)
    return None


def check_open_positions(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    held = {h.symbol for h in s.positions if h.qty > 0}
    if p.symbol not in held and len(held) >= s.profile.max_open_positions:
        return refusal("max_open_positions", held=len(held), profile=s.profile.name.value)
    return None


def check_position_size(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_position_size
    if p.notional > limit:
        return refusal("max_position_size", notional=money(p.notional), limit=money(limit))
    return None


def check_symbol_exposure(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_symbol_exposure
    after = s.symbol_exposure(p.symbol) + p.notional
    if after > limit:
        return refusal("max_symbol_exposure", after=money(after), symbol=p.symbol, limit=money(limit))
    return None


def check_total_exposure(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_total_exposure
    after = s.exposure + p.notional
    if after > limit:
        return refusal("max_total_exposure", after=money(after), limit=money(limit))
    return None


def check_daily_loss(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.day_start_equity * s.profile.daily_loss_limit
    loss = s.day_start_equity - s.equity
    if limit > 0 and loss >= limit:
        return refusal("daily_loss_limit", loss=money(loss), limit=money(limit))
    return None


def check_drawdown(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.peak_equity <= 0:
        return None
    drawdown = (s.peak_equity - s.equity) / s.peak_equity
    if drawdown >= s.profile.max_drawdown:
        return refusal("max_drawdown", drawdown=percent(drawdown), limit=percent(s.profile.max_drawdown, 0))
    return None


def check_cooldown(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.cooldown_until is not None and s.now < s.cooldown_until:
        minutes = int((s.cooldown_until - s.now).total_seconds() // 60) + 1
        return refusal("cooldown", losses=s.profile.cooldown_after_losses, minutes=minutes)
    return None


def check_min_notional(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    minimum = max(p.market.min_notional, p.market.min_qty * p.price)
    if p.qty <= 0 or p.notional < minimum:
        return refusal("below_min_notional", notional=money(p.notional), minimum=money(minimum), symbol=p.symbol)
    return None


def check_free_balance(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.cost > s.free_cash:
        return refusal("insufficient_balance", cost=money(p.cost), free=money(s.free_cash))
    return None


def check_price_sanity(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.signal_price <= 0:
        return refusal("price_missing")
    gap = abs(p.price - p.signal_price) / p.signal_price
    if gap > s.price_tolerance:
        return refusal("price_sanity", signal_price=p.signal_price, gap=percent(gap), price=p.price)
    return None


def check_duplicate_signal(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.signal_key is not None and p.signal_key in s.recent_signal_keys:
        return refusal("duplicate_signal")
    return None


def check_already_holding(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return refusal("already_in_position", symbol=p.symbol) if s.holds(p.symbol) else None


ENTRY_CHECKS: tuple[Check, ...] = (
    check_user_paused,
    check_user_state,
    check_system_state,
    check_account_reduce_only,
    check_capital_bounds,
    check_profile_in_phase,
    check_profile_strategy,
    check_duplicate_signal,
    check_already_holding,
    check_open_positions,
    check_daily_loss,
    check_drawdown,
    check_cooldown,
    check_price_sanity,
    check_min_notional,
    check_position_size,
    check_symbol_exposure,
    check_total_exposure,
    check_free_balance,
)


def vet_entry(snapshot: AccountSnapshot, proposal: EntryProposal) -> tuple[Refusal, ...]:
    """Run every check; all refusals are returned so the user sees every reason at once."""
    return tuple(r for check in ENTRY_CHECKS if (r := check(snapshot, proposal)) is not None)


def no_market(symbol: Symbol) -> Refusal:
    """The refusal when the user's venue has no market or no price for the symbol: nothing can be sized."""
    return refusal("no_market", symbol=symbol)
