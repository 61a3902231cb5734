"""The orders that guard and close positions: a stop resting at the venue for the whole position, and
market sells that close it. Pure builders; the order manager places them."""

from __future__ import annotations

from decimal import Decimal

from engine.domain.accounts import Market
from engine.domain.commands import ClosePosition, SubmitOrder
from engine.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.money import ZERO
from engine.domain.orders import Order
from engine.domain.positions import Position


def sellable_qty(qty: Decimal, market: Market | None) -> Decimal:
    """The part of `qty` the venue accepts in one order (quantities are floored to its step)."""
    if market is None:
        return qty
    floored = market.floor_qty(qty)
    return floored if floored >= market.smallest_qty else ZERO


def stop_order(position: Position, venue: str, market: Market | None, replaces: Order | None = None) -> SubmitOrder:
    """A stop-market sell for the whole position at its stop price.

    The client order id comes from the position, its size and its level, so asking twice for the same
    stop never places two; a stop that replaces one the venue cancelled is named after that one.
    """
    assert position.stop_price is not None
    qty = sellable_qty(position.qty, market)
    origin = f"stop:{position.id}:{qty}:{position.stop_price}"
    if replaces is not None:
        origin = f"restop:{replaces.client_order_id}"
    return SubmitOrder(
        user_id=position.user_id,
        account_id=position.account_id,
        venue=venue,
        symbol=position.symbol,
        side=Side.SELL,
        type=OrderType.STOP,
        qty=qty,
        stop_price=position.stop_price,
        purpose=OrderPurpose.STOP_LOSS,
        origin=origin,
        strategy=position.strategy,
        rationale=f"protective stop at {position.stop_price}",
    )


def exit_order(command: ClosePosition, position: Position, venue: str, qty: Decimal) -> SubmitOrder:
    return SubmitOrder(
        user_id=command.user_id,
        account_id=command.account_id,
        venue=venue,
        symbol=command.symbol,
        side=Side.SELL,
        type=OrderType.MARKET,
        qty=qty,
        purpose=command.purpose,
        origin=f"exit:{position.id}:{command.purpose.value}",
        strategy=position.strategy,
        rationale=command.reason,
    )


def needs_new_stop(position: Position, stop: Order | None) -> bool:
    """An open position with a stop level whose resting stop is missing or was ended without filling."""
    if not position.is_open or position.qty <= 0 or position.stop_price is None:
        return False
    if stop is None:
        return True
    return stop.is_final and stop.status is not OrderStatus.FILLED
