"""Turn the venue's view of an order into our order's events: one mapping for answers and reconciliation."""

from __future__ import annotations

from datetime import datetime

from engine.domain.enums import OrderStatus
from engine.domain.ids import TradeId
from engine.domain.money import ZERO
from engine.domain.orders import (
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from engine.domain.venue import VenueOrder, VenueStatus, VenueTrade

_AWAITING_ACK = (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)


def sync_with_venue(order: Order, venue: VenueOrder) -> tuple[Order, list[VenueTrade]]:
    """Apply what the venue reports; return the updated order and the trades that were new to us."""
    new_trades = unseen_trades(order, venue)
    for event in _events(order, venue, new_trades):
        order = order.apply(event)
    return order, new_trades


def unseen_trades(order: Order, venue: VenueOrder) -> list[VenueTrade]:
    """Trades we have not recorded; when the venue reports only a total, the difference becomes one trade."""
    trades = [t for t in venue.trades if t.trade_id not in order.trade_ids]
    reported = sum((t.qty for t in venue.trades), start=ZERO)
    if venue.filled_qty > max(order.filled_qty, reported) and venue.avg_price is not None:
        missing_qty = venue.filled_qty - max(order.filled_qty, reported)
        known_value = (order.avg_fill_price or ZERO) * order.filled_qty
        price = (venue.avg_price * venue.filled_qty - known_value) / (venue.filled_qty - order.filled_qty)
        trades.append(
            VenueTrade(
                trade_id=TradeId(f"{venue.venue_order_id or order.client_order_id}:{venue.filled_qty}"),
                qty=missing_qty,
                price=price,
                ts=venue.ts,
            )
        )
    return trades


def _events(order: Order, venue: VenueOrder, trades: list[VenueTrade]) -> list[OrderEvent]:
    ts = venue.ts
    events: list[OrderEvent] = []
    if order.status is OrderStatus.NEW:
        events.append(OrderSubmitted(ts=ts))
    if venue.status is VenueStatus.REJECTED:
        return [*events, OrderRejected(ts=ts, reason=venue.reason or "refused by the exchange")]
    if order.status in _AWAITING_ACK and not trades:
        events.append(OrderAccepted(ts=ts, venue_order_id=venue.venue_order_id))
    events.extend(_fill_event(t, venue) for t in trades)
    if venue.status is VenueStatus.CANCELLED:
        events.append(OrderCancelled(ts=ts, reason=venue.reason))
    elif venue.status is VenueStatus.EXPIRED:
        events.append(OrderExpired(ts=ts))
    return events


def _fill_event(trade: VenueTrade, venue: VenueOrder) -> OrderFilled:
    return OrderFilled(
        ts=trade.ts,
        trade_id=trade.trade_id,
        qty=trade.qty,
        price=trade.price,
        fee=trade.fee,
        fee_currency=trade.fee_currency,
        venue_order_id=venue.venue_order_id,
    )


def is_stale(order: Order, now: datetime, grace_seconds: float) -> bool:
    return (now - order.updated_at).total_seconds() >= grace_seconds
