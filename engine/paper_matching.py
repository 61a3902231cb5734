"""How the paper venue prices fills: pure functions, so a backtest and a live paper account fill alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from engine.domain.accounts import Market
from engine.domain.enums import OrderType, Side
from engine.domain.ids import Symbol
from engine.domain.venue import OrderRequest, PriceBar


@dataclass(frozen=True, slots=True)
class FillModel:
    fee_rate: Decimal = Decimal("0.001")  # 0.1%, Binance's base taker fee
    slippage: Decimal = Decimal("0.0005")  # market orders pay 0.05% against them
    volume_share: Decimal | None = None  # resting limit orders of a symbol fill at most this share of a bar's volume


def volume_budgets(bars: Mapping[Symbol, PriceBar], model: FillModel) -> dict[Symbol, Decimal]:
    """How much resting limit orders may fill per symbol during these bars; absent: no limit (volume unknown)."""
    if model.volume_share is None:
        return {}
    return {symbol: bar.volume * model.volume_share for symbol, bar in bars.items() if bar.volume is not None}


def take_from_budget(
    request: OrderRequest, remaining: Decimal, market: Market, budgets: dict[Symbol, Decimal]
) -> Decimal:
    """The part of a resting order that fills now: all of it, or for a limit order what the bar's volume allows."""
    budget = budgets.get(request.symbol)
    if request.type is not OrderType.LIMIT or budget is None:
        return remaining
    taken = min(remaining, market.floor_qty(budget))
    budgets[request.symbol] = budget - taken
    return taken


def market_fill_price(side: Side, reference: Decimal, market: Market, model: FillModel) -> Decimal:
    """The price a market order gets against a reference price, slippage against the taker, on the tick."""
    if side is Side.BUY:
        return market.ceil_price(reference * (1 + model.slippage))
    return max(market.price_step, market.round_price(reference * (1 - model.slippage)))


def fee_for(qty: Decimal, price: Decimal, model: FillModel) -> Decimal:
    return qty * price * model.fee_rate


def is_marketable(request: OrderRequest, last: Decimal) -> bool:
    """Would this order execute at once against the current price?"""
    if request.type is OrderType.MARKET:
        return True
    if request.type is OrderType.LIMIT:
        assert request.limit_price is not None
        return last <= request.limit_price if request.side is Side.BUY else last >= request.limit_price
    assert request.stop_price is not None
    return last >= request.stop_price if request.side is Side.BUY else last <= request.stop_price


def resting_fill_price(request: OrderRequest, bar: PriceBar, market: Market, model: FillModel) -> Decimal | None:
    """The price a resting limit or stop order fills at during `bar`, or None if the bar did not reach it.

    A bar that opens beyond the level fills at the open (a gap), otherwise at the level itself.
    """
    opening = bar.open if bar.open is not None else bar.last
    if request.type is OrderType.LIMIT:
        assert request.limit_price is not None
        level = request.limit_price
        if request.side is Side.BUY:
            return min(opening, level) if bar.low <= level else None
        return max(opening, level) if bar.high >= level else None
    assert request.stop_price is not None
    level = request.stop_price
    if request.side is Side.SELL:
        triggered = min(opening, level) if bar.low <= level else None
    else:
        triggered = max(opening, level) if bar.high >= level else None
    return None if triggered is None else market_fill_price(request.side, triggered, market, model)
