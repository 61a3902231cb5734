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


def exit_order(
    command: ClosePosition, position: Position, venue: str, qty: Decimal, replaces: Order | None = None
) -> SubmitOrder:
    """A market sell of the position; a retry after an earlier attempt ended is named after that attempt."""
    origin = f"exit:{position.id}:{command.purpose.value}"
    if replaces is not None:
        origin = f"reexit:{replaces.client_order_id}"
    return SubmitOrder(
        user_id=command.user_id,
        account_id=command.account_id,
        venue=venue,
        symbol=command.symbol,
        side=Side.SELL,
        type=OrderType.MARKET,
        qty=qty,
        purpose=command.purpose,
        origin=origin,
        strategy=position.strategy,
        rationale=command.reason,
    )


NEVER_REACHED = "The order never reached the exchange"  # how reconciliation settles an intent the venue never saw


def is_replaceable(stop: Order) -> bool:
    """A stop that ended without filling and may be placed again: cancelled, expired, or never sent.

    A stop the venue refused (its price already passed, too small) is not placed again and again: the
    position monitor closes the position at market when its stop level is reached.
    """
    if stop.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        return True
    return stop.status is OrderStatus.REJECTED and stop.reason.startswith(NEVER_REACHED)


def is_guarded_by_a_stop(position: Position) -> bool:
    """A position that should have a stop resting at its venue."""
    return position.is_open and position.qty > 0 and position.stop_price is not None
