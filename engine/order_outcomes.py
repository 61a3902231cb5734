"""What an answer from a venue does to an order, and what the rest of the product is told about it.

Pure functions: the order manager applies them to the order as stored, inside its transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog

from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderStatus
from engine.domain.events import OrderFailed, TradeFilled
from engine.domain.ids import make_client_order_id
from engine.domain.money import ZERO
from engine.domain.orders import Order, OrderRejected, OrderStatusUnknown
from engine.domain.venue import OrderRequest, VenueOrder, VenueTrade
from engine.errors import ConfigurationError, OperationalError, TemporaryError
from engine.errors import OrderRejected as VenueRejected
from engine.position_ledger import FillOutcome
from engine.venue_sync import sync_with_venue

log = structlog.get_logger(__name__)

_AWAITING_ANSWER = (OrderStatus.NEW, OrderStatus.SUBMITTED)
_UNRESOLVED = (*_AWAITING_ANSWER, OrderStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One order before and after an answer from its venue, with the trades that answer brought."""

    before: Order
    after: Order
    trades: list[VenueTrade]
    outcome: FillOutcome | None = None


def order_from(command: SubmitOrder, now: datetime) -> Order:
    """The intent for a command; its client order id is derived from the command's cause."""
    return Order(
        client_order_id=make_client_order_id(command.account_id, command.origin),
        user_id=command.user_id,
        account_id=command.account_id,
        symbol=command.symbol,
        side=command.side,
        type=command.type,
        qty=command.qty,
        purpose=command.purpose,
        limit_price=command.limit_price,
        stop_price=command.stop_price,
        protective_stop=command.protective_stop,
        take_profit=command.take_profit,
        strategy=command.strategy,
        signal_id=command.signal_id,
        decision_id=command.decision_id,
        reason=command.rationale,
        created_at=now,
        updated_at=now,
    )


def request_for(order: Order) -> OrderRequest:
    return OrderRequest(
        account_id=order.account_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        user_id=order.user_id,
    )


def update_from(order: Order, result: VenueOrder | Exception, now: datetime) -> OrderUpdate:
    """Apply a venue's answer (its view of the order, or the error placing it raised) to the stored order."""
    if isinstance(result, VenueOrder):
        after, trades = sync_with_venue(order, result)
        return OrderUpdate(order, after, trades)
    reason = not_placed_reason(result)
    settles = order.status in _UNRESOLVED if isinstance(result, VenueRejected) else order.status in _AWAITING_ANSWER
    if reason is not None and settles:
        return OrderUpdate(order, order.apply(OrderRejected(ts=now, reason=reason)), [])
    if order.status not in _AWAITING_ANSWER:
        return OrderUpdate(order, order, [])  # settled meanwhile (reconciliation): a late error changes nothing
    log.warning("order.outcome_unknown", **order.log_fields(), error=repr(result))
    unknown = f"no clear answer from the exchange ({type(result).__name__}); checking by its id"
    return OrderUpdate(order, order.apply(OrderStatusUnknown(ts=now, reason=unknown)), [])


def not_placed_reason(error: Exception) -> str | None:
    """The sentence for an error that proves the venue did not place the order; None when it may have."""
    if isinstance(error, VenueRejected):
        return str(error)
    if isinstance(error, TemporaryError):
        return f"The exchange did not take the order ({error}); it was not placed."
    if isinstance(error, OperationalError):
        return f"The exchange refused the account ({error}); the order was not placed."
    if isinstance(error, ConfigurationError):
        return f"The order could not be sent: {error}."
    return None


_ROUTINE = frozenset({OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED})


def log_transitions(updates: Sequence[OrderUpdate]) -> None:
    """Every transition at DEBUG (INFO for the unusual ones: rejected, unknown, cancelled, expired), plus one
    INFO line per batch counting the statuses reached (5,000 fills make one line, not 5,000)."""
    for update in updates:
        order = update.after
        if order.status is update.before.status:
            continue
        (log.debug if order.status in _ROUTINE else log.info)(
            "order.transition",
            **order.log_fields(),
            status=order.status.value,
            reason=order.reason,
        )
    reached = statuses_reached(updates)
    if reached:
        log.info("orders.recorded", transitions=sum(reached.values()), **dict(reached))


def statuses_reached(updates: Sequence[OrderUpdate]) -> Counter[str]:
    """How many orders of the batch moved into each status."""
    return Counter(u.after.status.value for u in updates if u.after.status is not u.before.status)


def events_for(update: OrderUpdate, now: datetime) -> list[object]:
    """The bus events one order update produces: a fill report, or a failure with its reason."""
    order = update.after
    events: list[object] = []
    if update.trades:
        events.append(_trade_filled(update, now))
    if order.status is OrderStatus.REJECTED and update.before.status is not OrderStatus.REJECTED:
        events.append(
            OrderFailed(
                ts=now,
                user_id=order.user_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side,
                reason=order.reason,
                purpose=order.purpose,
            )
        )
    return events


def _trade_filled(update: OrderUpdate, now: datetime) -> TradeFilled:
    order, outcome = update.after, update.outcome
    qty = sum((t.qty for t in update.trades), start=ZERO)
    value = sum((t.qty * t.price for t in update.trades), start=ZERO)
    fee = outcome.fee_quote if outcome else sum((t.fee for t in update.trades), start=Decimal(0))
    return TradeFilled(
        ts=now,
        user_id=order.user_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=qty,
        price=value / qty,
        fee=fee,
        purpose=order.purpose,
        strategy=order.strategy,
        rationale=order.reason,
        realized_pnl=outcome.realized_net if outcome else None,
        is_complete=order.status is OrderStatus.FILLED,
    )
