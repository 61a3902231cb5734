"""Pre-trade checks: one rule per function, each returning a refusal (stable code, a sentence) or None."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from engine.domain.enums import TradingState
from engine.domain.signals import Refusal
from risk.snapshot import AccountSnapshot, EntryProposal

Check = Callable[[AccountSnapshot, EntryProposal], Refusal | None]

PRICE_SANITY_TOLERANCE = Decimal("0.05")  # a signal priced 5% away from the market is stale or wrong


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def check_user_paused(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.is_paused:
        return Refusal("user_paused", "You paused trading, so no new positions are opened. /resume to start again.")
    return None


def check_user_state(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.trading_state is TradingState.HALTED:
        return Refusal(
            "user_halted", "Your account is halted after a circuit breaker; /resume once you have reviewed it."
        )
    if s.trading_state is TradingState.REDUCING:
        return Refusal("user_reducing", "Your account only closes positions for now (a circuit breaker tripped).")
    return None


def check_system_state(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.system_state is not TradingState.ACTIVE:
        return Refusal(
            "system_paused", "Trading is paused for everyone by the operators; open positions are still managed."
        )
    return None


def check_account_reduce_only(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.is_reduce_only:
        return Refusal(
            "account_reduce_only",
            "Your exchange account is in reduce-only mode until a difference with the exchange is resolved.",
        )
    return None


def check_capital_bounds(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    return s.phase.capital_refusal(s.capital)


def check_profile_strategy(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.strategy not in s.profile.strategies:
        return Refusal(
            "strategy_not_in_profile",
            f"The {p.strategy} strategy is not part of your {s.profile.name.value} profile.",
        )
    return None


def check_open_positions(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    held = {h.symbol for h in s.positions if h.qty > 0}
    if p.symbol not in held and len(held) >= s.profile.max_open_positions:
        return Refusal(
            "max_open_positions",
            f"You already hold {len(held)} positions, the most your {s.profile.name.value} profile allows.",
        )
    return None


def check_position_size(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_position_size
    if p.notional > limit:
        return Refusal(
            "max_position_size",
            f"This order ({_money(p.notional)}) is larger than one position may be ({_money(limit)}).",
        )
    return None


def check_symbol_exposure(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_symbol_exposure
    after = s.symbol_exposure(p.symbol) + p.notional
    if after > limit:
        return Refusal(
            "max_symbol_exposure",
            f"It would put {_money(after)} in {p.symbol}; your profile allows at most {_money(limit)} in one coin.",
        )
    return None


def check_total_exposure(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.equity * s.profile.max_total_exposure
    after = s.exposure + p.notional
    if after > limit:
        return Refusal(
            "max_total_exposure",
            f"It would put {_money(after)} in the market in total; your profile allows at most {_money(limit)}.",
        )
    return None


def check_daily_loss(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    limit = s.day_start_equity * s.profile.daily_loss_limit
    loss = s.day_start_equity - s.equity
    if limit > 0 and loss >= limit:
        return Refusal(
            "daily_loss_limit",
            f"Today's loss ({_money(loss)}) reached your daily limit ({_money(limit)}); "
            "new trades resume tomorrow (UTC).",
        )
    return None


def check_drawdown(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.peak_equity <= 0:
        return None
    drawdown = (s.peak_equity - s.equity) / s.peak_equity
    if drawdown >= s.profile.max_drawdown:
        return Refusal(
            "max_drawdown",
            f"Your account is {drawdown:.1%} below its peak, past your {s.profile.max_drawdown:.0%} drawdown limit.",
        )
    return None


def check_cooldown(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.cooldown_until is not None and s.now < s.cooldown_until:
        minutes = int((s.cooldown_until - s.now).total_seconds() // 60) + 1
        return Refusal(
            "cooldown",
            f"After {s.profile.cooldown_after_losses} losing trades in a row the bot waits; {minutes} min left.",
        )
    return None


def check_min_notional(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    minimum = max(p.market.min_notional, p.market.min_qty * p.price)
    if p.qty <= 0 or p.notional < minimum:
        return Refusal(
            "below_min_notional",
            f"The position your limits allow ({_money(p.notional)}) is below the exchange minimum "
            f"({_money(minimum)}) for {p.symbol}.",
        )
    return None


def check_free_balance(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.cost > s.free_cash:
        return Refusal(
            "insufficient_balance",
            f"The order needs {_money(p.cost)} with fees; you have {_money(s.free_cash)} free.",
        )
    return None


def check_price_sanity(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.signal_price <= 0:
        return Refusal("price_sanity", "The signal carried no usable price.")
    gap = abs(p.price - p.signal_price) / p.signal_price
    if gap > PRICE_SANITY_TOLERANCE:
        return Refusal(
            "price_sanity",
            f"The signal's price ({p.signal_price}) is {gap:.1%} away from the market ({p.price}); it looks stale.",
        )
    return None


def check_duplicate_signal(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if p.signal_key is not None and p.signal_key in s.recent_signal_keys:
        return Refusal("duplicate_signal", "This signal was already acted on for you.")
    return None


def check_already_holding(s: AccountSnapshot, p: EntryProposal) -> Refusal | None:
    if s.holds(p.symbol):
        return Refusal("already_in_position", f"You already hold {p.symbol}; the bot does not add to a position.")
    return None


ENTRY_CHECKS: tuple[Check, ...] = (
    check_user_paused,
    check_user_state,
    check_system_state,
    check_account_reduce_only,
    check_capital_bounds,
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
