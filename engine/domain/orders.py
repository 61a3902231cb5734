"""Orders and their state machine: state changes only through `apply`, driven by a transition table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from engine.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.ids import (
    AccountId,
    ClientOrderId,
    DecisionId,
    SignalId,
    Symbol,
    TradeId,
    UserId,
    VenueOrderId,
)
from engine.domain.money import ZERO
from engine.domain.values import evolve


class IllegalTransition(Exception):
    """An event arrived that the order's current status cannot accept."""

    def __init__(self, client_order_id: str, status: OrderStatus, event: str) -> None:
        super().__init__(f"order {client_order_id}: {event} is not allowed in status {status}")
        self.client_order_id = client_order_id
        self.status = status
        self.event = event


class Overfill(Exception):
    """A fill would take the filled quantity above the ordered quantity."""


# --- events: what happened to an order (past tense, immutable) ---------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted:
    ts: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted:
    ts: datetime
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected:
    ts: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled:
    ts: datetime
    trade_id: TradeId
    qty: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_currency: str = ""
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled:
    ts: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired:
    ts: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusUnknown:
    ts: datetime
    reason: str


OrderEvent = (
    OrderSubmitted | OrderAccepted | OrderRejected | OrderFilled | OrderCancelled | OrderExpired | OrderStatusUnknown
)


# --- the order ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    client_order_id: ClientOrderId
    user_id: UserId
    account_id: AccountId
    symbol: Symbol
    side: Side
    type: OrderType
    qty: Decimal
    purpose: OrderPurpose
    created_at: datetime
    updated_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_qty: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    fee: Decimal = ZERO
    fee_currency: str = ""
    venue_order_id: VenueOrderId | None = None
    reason: str = ""
    strategy: str = ""
    protective_stop: Decimal | None = None  # for entries: the stop the opened position gets
    take_profit: Decimal | None = None  # for entries: the take-profit the opened position gets
    signal_id: SignalId | None = None
    decision_id: DecisionId | None = None
    trade_ids: frozenset[TradeId] = field(default_factory=frozenset)
    id: int | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"order quantity must be positive, got {self.qty}")
        if self.type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs a limit price")
        if self.type is OrderType.STOP and self.stop_price is None:
            raise ValueError("a stop order needs a stop price")

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    def log_fields(self) -> dict[str, object]:
        """What every log line about this order carries."""
        return {"client_order_id": self.client_order_id, "user": self.user_id, "symbol": self.symbol}

    def apply(self, event: OrderEvent) -> Order:
        """Return the order after `event`; raise `IllegalTransition` for an event its status cannot take."""
        if isinstance(event, OrderFilled) and event.trade_id in self.trade_ids:
            return self  # the same trade reported twice: already counted
        transition = _TRANSITIONS.get((self.status, type(event)))
        if transition is None:
            raise IllegalTransition(self.client_order_id, self.status, type(event).__name__)
        return transition(self, event)


# --- the transition table ----------------------------------------------------------------------


def _to(status: OrderStatus) -> Callable[[Order, OrderEvent], Order]:
    def move(order: Order, event: OrderEvent) -> Order:
        changes: dict[str, object] = {"status": status, "updated_at": event.ts}
        if isinstance(event, OrderAccepted) and event.venue_order_id:
            changes["venue_order_id"] = event.venue_order_id
        if isinstance(event, OrderRejected | OrderCancelled) and event.reason:  # unknown keeps the rationale
            changes["reason"] = event.reason
        return evolve(order, **changes)

    return move


def _accept(order: Order, event: OrderEvent) -> Order:
    """The venue holds the order; one that already has fills (seen while its status was unknown) stays partial."""
    status = _S.PARTIALLY_FILLED if order.filled_qty > 0 else _S.OPEN
    return _to(status)(order, event)


def _fill(order: Order, event: OrderEvent) -> Order:
    assert isinstance(event, OrderFilled)
    if event.qty <= 0:
        raise ValueError(f"fill quantity must be positive, got {event.qty}")
    filled = order.filled_qty + event.qty
    if filled > order.qty:
        raise Overfill(f"order {order.client_order_id}: fill of {event.qty} takes it past {order.qty}")
    previous_value = (order.avg_fill_price or ZERO) * order.filled_qty
    average = (previous_value + event.price * event.qty) / filled
    return evolve(
        order,
        status=OrderStatus.FILLED if filled == order.qty else OrderStatus.PARTIALLY_FILLED,
        filled_qty=filled,
        avg_fill_price=average,
        fee=order.fee + event.fee,
        fee_currency=event.fee_currency or order.fee_currency,
        venue_order_id=event.venue_order_id or order.venue_order_id,
        trade_ids=order.trade_ids | {event.trade_id},
        updated_at=event.ts,
    )


_S = OrderStatus
_LIVE_AT_VENUE = (_S.SUBMITTED, _S.OPEN, _S.PARTIALLY_FILLED, _S.UNKNOWN)

_TRANSITIONS: Final[dict[tuple[OrderStatus, type], Callable[[Order, OrderEvent], Order]]] = {
    (_S.NEW, OrderSubmitted): _to(_S.SUBMITTED),
    (_S.NEW, OrderRejected): _to(_S.REJECTED),
    (_S.NEW, OrderStatusUnknown): _to(_S.UNKNOWN),  # crashed between writing the intent and the answer
    (_S.SUBMITTED, OrderAccepted): _accept,
    (_S.SUBMITTED, OrderRejected): _to(_S.REJECTED),
    (_S.SUBMITTED, OrderStatusUnknown): _to(_S.UNKNOWN),
    (_S.UNKNOWN, OrderAccepted): _accept,
    (_S.UNKNOWN, OrderRejected): _to(_S.REJECTED),
    (_S.OPEN, OrderStatusUnknown): _to(_S.UNKNOWN),
    (_S.PARTIALLY_FILLED, OrderStatusUnknown): _to(_S.UNKNOWN),
    **{(status, OrderFilled): _fill for status in _LIVE_AT_VENUE},
    **{(status, OrderCancelled): _to(_S.CANCELLED) for status in _LIVE_AT_VENUE},
    **{(status, OrderExpired): _to(_S.EXPIRED) for status in _LIVE_AT_VENUE},
}
