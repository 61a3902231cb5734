"""Position sizing: as large as the profile's risk per trade allows, never past a limit or the free cash."""

from __future__ import annotations

from decimal import Decimal

from engine.domain.accounts import Market
from engine.domain.ids import Symbol
from engine.domain.money import ZERO
from risk.snapshot import AccountSnapshot


def size_entry(
    snapshot: AccountSnapshot,
    symbol: Symbol,
    market: Market,
    price: Decimal,
    stop_price: Decimal,
    fee_rate: Decimal = Decimal("0.001"),
) -> Decimal:
    """The quantity to buy, floored to the market's step; zero when nothing fits."""
    if price <= 0 or stop_price >= price or snapshot.equity <= 0:
        return ZERO
    profile, equity = snapshot.profile, snapshot.equity
    budgets = (
        equity * profile.risk_per_trade / (price - stop_price),  # loss at the stop = risk per trade
        equity * profile.max_position_size / price,
        (equity * profile.max_symbol_exposure - snapshot.symbol_exposure(symbol)) / price,
        (equity * profile.max_total_exposure - snapshot.exposure) / price,
        snapshot.free_cash / (price * (1 + fee_rate)),
    )
    qty = market.floor_qty(max(min(budgets), ZERO))
    return qty if qty > 0 else ZERO


def default_stop(price: Decimal, distance: Decimal, market: Market) -> Decimal:
    """A stop `distance` (a fraction) below `price`, on the market's tick."""
    return market.round_price(price * (1 - distance))


def default_take_profit(price: Decimal, distance: Decimal, market: Market) -> Decimal:
    return market.round_price(price * (1 + distance))


def entry_exit_prices(
    price: Decimal,
    profile_stop: Decimal,
    profile_take_profit: Decimal,
    market: Market,
    suggested_stop: Decimal | None = None,
    suggested_take_profit: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """Stop and take-profit for a long entry at `price`: the signal's suggestions where they make sense, but the
    stop never further below the price than the profile's stop-loss distance (the profile may only tighten)."""
    stop = default_stop(price, profile_stop, market)
    if suggested_stop is not None and 0 < suggested_stop < price:
        stop = max(stop, market.round_price(suggested_stop))
    take_profit = default_take_profit(price, profile_take_profit, market)
    if suggested_take_profit is not None and suggested_take_profit > price:
        take_profit = market.round_price(suggested_take_profit)
    return stop, take_profit
