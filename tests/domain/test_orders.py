from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.enums import OrderStatus
from engine.domain.ids import TradeId, VenueOrderId
from engine.domain.orders import (
    IllegalTransition,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    Overfill,
)
from tests.factories import T0, later, make_order


def fill(trade: str, qty: str, price: str = "100") -> OrderFilled:
    return OrderFilled(ts=later(5), trade_id=TradeId(trade), qty=Decimal(qty), price=Decimal(price), fee=Decimal("0.1"))


def test_happy_path_new_submitted_open_partially_filled_filled():
    order = make_order(qty=Decimal("2")).apply(OrderSubmitted(ts=T0))
    order = order.apply(OrderAccepted(ts=later(1), venue_order_id=VenueOrderId("v1")))
    order = order.apply(fill("t1", "0.5", "100"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order = order.apply(fill("t2", "1.5", "104"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == Decimal("2")
    assert order.avg_fill_price == Decimal("103")  # (0.5*100 + 1.5*104) / 2
    assert order.fee == Decimal("0.2")
    assert order.venue_order_id == "v1"


def test_a_repeated_trade_id_is_ignored():
    order = make_order(qty=Decimal("2")).apply(OrderSubmitted(ts=T0)).apply(fill("t1", "1"))
    assert order.apply(fill("t1", "1")) is order


def test_illegal_transition_raises_and_names_the_order():
    filled = make_order().apply(OrderSubmitted(ts=T0)).apply(fill("t1", "1"))
    with pytest.raises(IllegalTransition, match="tb-test-1"):
        filled.apply(OrderCancelled(ts=later(2)))
    with pytest.raises(IllegalTransition):
        make_order().apply(OrderAccepted(ts=T0))  # never submitted


def test_fill_beyond_the_ordered_quantity_raises():
    order = make_order(qty=Decimal("1")).apply(OrderSubmitted(ts=T0))
    with pytest.raises(Overfill):
        order.apply(fill("t1", "1.5"))


def test_unknown_outcome_resolves_to_filled_or_rejected():
    unknown = make_order().apply(OrderSubmitted(ts=T0)).apply(OrderStatusUnknown(ts=later(1), reason="timed out"))
    assert unknown.status is OrderStatus.UNKNOWN
    assert unknown.apply(fill("t1", "1")).status is OrderStatus.FILLED
    rejected = unknown.apply(OrderRejected(ts=later(2), reason="never reached the exchange"))
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason == "never reached the exchange"


def test_partially_filled_then_cancelled_keeps_the_filled_part():
    order = make_order(qty=Decimal("2")).apply(OrderSubmitted(ts=T0)).apply(fill("t1", "0.5"))
    cancelled = order.apply(OrderCancelled(ts=later(3), reason="user cancelled"))
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_qty == Decimal("0.5")
    assert cancelled.is_final


def test_order_validation():
    with pytest.raises(ValueError, match="positive"):
        make_order(qty=Decimal(0))
