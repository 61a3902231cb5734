"""Fills into positions: the one place where trades change what a user holds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from engine.domain.enums import Side
from engine.domain.ids import AccountId, Symbol, split_symbol
from engine.domain.money import ZERO
from engine.domain.orders import Order
from engine.domain.positions import Position, fee_in_quote
from engine.domain.venue import VenueTrade

PositionKey = tuple[AccountId, Symbol]


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """What a batch of trades of one order did to its position."""

    position: Position
    qty: Decimal
    value: Decimal
    fee_quote: Decimal
    realized_net: Decimal | None  # net PnL: of the round trip when the position closed, else of this sale
    cash_delta: Decimal = ZERO  # what the trades did to the account's quote cash (fees charged in coins excluded)

    def with_position(self, position: Position) -> FillOutcome:
        return FillOutcome(position, self.qty, self.value, self.fee_quote, self.realized_net, self.cash_delta)


def apply_trades(
    position: Position | None, order: Order, trades: list[VenueTrade], dust: Decimal = ZERO
) -> FillOutcome:
    """Apply one order's new trades to its position (opening it on a first buy).

    A sale that leaves less than `dust` (the smallest quantity the venue would accept) closes the
    position: the coins left are too few to ever sell.
    """
    base, _ = split_symbol(order.symbol)
    current = position or _opening_position(order, trades[0])
    realized_before = current.realized_pnl
    qty = value = fees = cash = ZERO
    sign = -1 if order.side is Side.BUY else 1
    for trade in trades:
        fee_quote = fee_in_quote(fee=trade.fee, fee_currency=trade.fee_currency, base=base, price=trade.price)
        received = trade.qty
        fee_in_coins = order.side is Side.BUY and trade.fee_currency == base
        if fee_in_coins:
            received = trade.qty - trade.fee  # the exchange kept part of the coins as the fee
        current = current.apply_fill(side=order.side, qty=received, price=trade.price, fee_quote=fee_quote, ts=trade.ts)
        qty += trade.qty
        value += trade.qty * trade.price
        fees += fee_quote
        cash += sign * trade.qty * trade.price - (ZERO if fee_in_coins else fee_quote)
    realized = None
    if order.side is Side.SELL:
        if current.is_open and 0 < current.qty < dust:
            current = replace(current, closed_at=trades[-1].ts)
        # a closed position reports its whole round trip, entry fees included; a partial sale its own part
        realized = current.net_realized_pnl if not current.is_open else current.realized_pnl - realized_before - fees
    return FillOutcome(current, qty, value, fees, realized, cash)


def _opening_position(order: Order, first: VenueTrade) -> Position:
    return Position(
        user_id=order.user_id,
        account_id=order.account_id,
        symbol=order.symbol,
        opened_at=first.ts,
        stop_price=order.protective_stop,
        take_profit=order.take_profit,
        highest_price=first.price,
        strategy=order.strategy,
    )
