"""The order manager: every intent is written before the venue is called, every answer recorded after.

A timeout leaves the order `unknown`; reconciliation resolves it by client order id, never by resending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.commands import ClosePosition, SubmitOrder
from engine.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.events import OrderFailed, TradeFilled
from engine.domain.ids import AccountId, ClientOrderId, make_client_order_id
from engine.domain.orders import Order, OrderRejected, OrderStatusUnknown, OrderSubmitted
from engine.domain.positions import Position
from engine.domain.venue import OrderRequest, VenueOrder, VenueTrade
from engine.errors import OrderRejected as VenueRejected
from engine.gateways import GatewayRegistry
from engine.ports import UnitOfWork, UnitOfWorkFactory
from engine.position_ledger import FillOutcome, PositionKey, apply_trades
from engine.venue_sync import sync_with_venue

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One order before and after an answer from its venue, with the trades that answer brought."""

    before: Order
    after: Order
    trades: list[VenueTrade]
    outcome: FillOutcome | None = None


class OrderManager:
    def __init__(self, uow: UnitOfWorkFactory, gateways: GatewayRegistry, clock: Clock, bus: EventBus) -> None:
        self._uow = uow
        self._gateways = gateways
        self._clock = clock
        self._bus = bus

    # --- placing -------------------------------------------------------------------------------

    async def submit(self, commands: Sequence[SubmitOrder]) -> list[Order]:
        """Write the intents, send the new ones, record the answers; return every order in command order."""
        if not commands:
            return []
        orders = await self._write_intents(commands)
        fresh = [o for o in orders if o.status is OrderStatus.NEW]
        updates = await self._record(await self._send(fresh, {c.account_id: c.venue for c in commands}))
        await self._after(updates)
        final = {u.after.client_order_id: u.after for u in updates}
        return [final.get(o.client_order_id, o) for o in orders]

    async def close_positions(self, commands: Sequence[ClosePosition]) -> list[Order]:
        """Sell whole positions at market, lifting each one's resting stop first."""
        async with self._uow() as uow:
            accounts = {c.account_id: await uow.accounts.get(c.account_id) for c in commands}
            positions = {(p.account_id, p.symbol): p for p in await uow.positions.open_for_accounts(list(accounts))}
        await self._cancel_stops([positions[k] for k in _keys(commands) if k in positions])
        async with self._uow() as uow:  # the stop may have filled meanwhile: read again
            still_open = {(p.account_id, p.symbol): p for p in await uow.positions.open_for_accounts(list(accounts))}
        sells = []
        for command in commands:
            position = still_open.get((command.account_id, command.symbol))
            account = accounts[command.account_id]
            if position is None or account is None or position.qty <= 0:
                continue
            sells.append(_exit_order(command, position, account.venue))
        return await self.submit(sells)

    async def move_stops(self, moves: Sequence[tuple[Position, Decimal]]) -> None:
        """Replace resting protective stops at new levels (trailing stops, break-even)."""
        moved = [replace(p, stop_price=level) for p, level in moves]
        await self._cancel_stops([p for p, _ in moves])
        async with self._uow() as uow:
            await uow.positions.save_many([replace(p, stop_order_id=None) for p in moved])
            await uow.commit()
        await self._protect([replace(p, stop_order_id=None) for p in moved])

    # --- answers that arrive later (execution reports, reconciliation) --------------------------

    async def on_venue_updates(self, updates: Sequence[tuple[AccountId, VenueOrder]]) -> None:
        async with self._uow() as uow:
            known = await uow.orders.get_many([v.client_order_id for _, v in updates])
        pairs: list[tuple[Order, VenueOrder | Exception]] = []
        for _, venue_order in updates:
            order = known.get(venue_order.client_order_id)
            if order is None:
                log.warning("order.unknown_at_home", client_order_id=venue_order.client_order_id)
                continue
            pairs.append((order, venue_order))
        recorded = await self._record(pairs)
        await self._after(recorded)

    async def apply_outcomes(self, pairs: Sequence[tuple[Order, VenueOrder | Exception]]) -> list[Order]:
        """Record answers gathered elsewhere (reconciliation); returns the updated orders."""
        updates = await self._record(pairs)
        await self._after(updates)
        return [u.after for u in updates]

    # --- the three steps -------------------------------------------------------------------------

    async def _write_intents(self, commands: Sequence[SubmitOrder]) -> list[Order]:
        now = self._clock.now()
        wanted = [_order_from(c, now) for c in commands]
        async with self._uow() as uow:
            existing = await uow.orders.get_many([o.client_order_id for o in wanted])
            new = [o for o in _unique(wanted) if o.client_order_id not in existing]
            added = {o.client_order_id: o for o in await uow.orders.add_many(new)}
            await uow.commit()
        for order in added.values():
            log.info(
                "order.intent_written",
                client_order_id=order.client_order_id,
                user=order.user_id,
                symbol=order.symbol,
                side=order.side.value,
                qty=str(order.qty),
                purpose=order.purpose.value,
            )
        return [existing.get(o.client_order_id) or added[o.client_order_id] for o in wanted]

    async def _send(
        self, orders: Sequence[Order], venues: dict[AccountId, str]
    ) -> list[tuple[Order, VenueOrder | Exception]]:
        by_venue: dict[str, list[Order]] = defaultdict(list)
        for order in orders:
            by_venue[venues[order.account_id]].append(order.apply(OrderSubmitted(ts=self._clock.now())))
        answered: list[tuple[Order, VenueOrder | Exception]] = []
        for venue, batch in by_venue.items():
            gateway = self._gateways.for_venue(venue)
            try:
                results = await gateway.place_orders([_request(o) for o in batch])
            except Exception as error:  # the whole call failed: each order's outcome is unknown
                results = [error] * len(batch)
            answered.extend(zip(batch, results, strict=True))
        return answered

    async def _record(self, pairs: Sequence[tuple[Order, VenueOrder | Exception]]) -> list[OrderUpdate]:
        if not pairs:
            return []
        now = self._clock.now()
        updates = [_update_from(order, result, now) for order, result in pairs]
        async with self._uow() as uow:
            updates = await self._book_fills(uow, updates)
            await uow.orders.save_many([u.after for u in updates])
            await uow.fills.add_many([(u.after, t) for u in updates for t in u.trades])
            await uow.commit()
        for update in updates:
            if update.after.status is not update.before.status:
                log.info(
                    "order.transition",
                    client_order_id=update.after.client_order_id,
                    user=update.after.user_id,
                    symbol=update.after.symbol,
                    status=update.after.status.value,
                    reason=update.after.reason,
                )
        return updates

    async def _book_fills(self, uow: UnitOfWork, updates: list[OrderUpdate]) -> list[OrderUpdate]:
        filled = [u for u in updates if u.trades]
        if not filled:
            return updates
        open_positions = await uow.positions.open_for_accounts([u.after.account_id for u in filled])
        positions: dict[PositionKey, Position] = {(p.account_id, p.symbol): p for p in open_positions}
        changed: dict[tuple[PositionKey, object], Position] = {}
        booked: dict[ClientOrderId, FillOutcome] = {}
        for update in filled:
            key = (update.after.account_id, update.after.symbol)
            current = positions.get(key)
            if update.after.side is Side.SELL and current is None:
                log.error("position.sell_without_position", client_order_id=update.after.client_order_id)
                continue
            outcome = apply_trades(current, update.after, update.trades)
            if outcome.position.is_open:
                positions[key] = outcome.position
            else:
                positions.pop(key, None)  # closed: the next buy opens a new position
            changed[(key, outcome.position.opened_at)] = outcome.position
            booked[update.after.client_order_id] = outcome
        saved = await uow.positions.save_many(list(changed.values()))
        await self._book_cash(
            uow, [(u.after, booked[u.after.client_order_id]) for u in filled if u.after.client_order_id in booked]
        )
        by_key = {(p.account_id, p.symbol, p.opened_at): p for p in saved}
        result = []
        for update in updates:
            outcome = booked.get(update.after.client_order_id)
            if outcome is not None:
                p = outcome.position
                outcome = replace(outcome, position=by_key.get((p.account_id, p.symbol, p.opened_at), p))
            result.append(replace(update, outcome=outcome))
        return result

    async def _book_cash(self, uow: UnitOfWork, outcomes: list[tuple[Order, FillOutcome]]) -> None:
        """Move the cash the bot manages for each account: buys spend value and fee, sells bring value less fee."""
        accounts = await uow.accounts.get_many([order.account_id for order, _ in outcomes])
        for order, outcome in outcomes:
            account = accounts[order.account_id]
            delta = -outcome.value if order.side is Side.BUY else outcome.value
            accounts[order.account_id] = replace(account, managed_cash=account.managed_cash + delta - outcome.fee_quote)
        await uow.accounts.save_many(list(accounts.values()))

    async def _after(self, updates: Sequence[OrderUpdate]) -> None:
        for update in updates:
            for event in _events_for(update, self._clock):
                await self._bus.publish(event)
        entries = [u.outcome.position for u in updates if u.outcome and u.after.purpose is OrderPurpose.ENTRY]
        await self._protect([p for p in entries if p.is_open and p.stop_price is not None])

    # --- protective stops ----------------------------------------------------------------------

    async def _protect(self, positions: Sequence[Position]) -> None:
        """Rest a stop order at the venue for each position, sized to the whole position."""
        if not positions:
            return
        async with self._uow() as uow:
            accounts = {p.account_id: await uow.accounts.get(p.account_id) for p in positions}
        stale = [p for p in positions if p.stop_order_id]
        await self._cancel_stops(stale)
        commands = [_stop_order(p, accounts[p.account_id].venue) for p in positions if accounts.get(p.account_id)]
        placed = await self.submit(commands)
        resting = {(o.account_id, o.symbol): o for o in placed if not o.is_final}
        async with self._uow() as uow:
            current = {(p.account_id, p.symbol): p for p in await uow.positions.open_for_accounts(list(accounts))}
            protected = [
                replace(current[key], stop_order_id=order.client_order_id)
                for key, order in resting.items()
                if key in current
            ]
            await uow.positions.save_many(protected)
            await uow.commit()

    async def _cancel_stops(self, positions: Sequence[Position]) -> None:
        with_stop = [p for p in positions if p.stop_order_id]
        if not with_stop:
            return
        async with self._uow() as uow:
            orders = await uow.orders.get_many([ClientOrderId(p.stop_order_id or "") for p in with_stop])
            accounts = {p.account_id: await uow.accounts.get(p.account_id) for p in with_stop}
        answers: list[tuple[Order, VenueOrder | Exception]] = []
        for order in orders.values():
            if order.is_final or accounts.get(order.account_id) is None:
                continue
            gateway = self._gateways.for_account(accounts[order.account_id])  # type: ignore[arg-type]
            try:
                result = await gateway.cancel_order(order.account_id, order.symbol, order.client_order_id)
            except Exception as error:
                log.warning("order.cancel_failed", client_order_id=order.client_order_id, error=str(error))
                continue
            if result is not None:
                answers.append((order, result))
        updates = await self._record(answers)
        await self._after(updates)


# --- helpers ---------------------------------------------------------------------------------------


def _keys(commands: Sequence[ClosePosition]) -> list[PositionKey]:
    return [(c.account_id, c.symbol) for c in commands]


def _unique(orders: list[Order]) -> list[Order]:
    return list({o.client_order_id: o for o in orders}.values())


def _order_from(command: SubmitOrder, now: object) -> Order:
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
        created_at=now,  # type: ignore[arg-type]
        updated_at=now,  # type: ignore[arg-type]
    )


def _request(order: Order) -> OrderRequest:
    return OrderRequest(
        account_id=order.account_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
    )


def _update_from(order: Order, result: VenueOrder | Exception, now: object) -> OrderUpdate:
    if isinstance(result, VenueOrder):
        after, trades = sync_with_venue(order, result)
        return OrderUpdate(order, after, trades)
    if isinstance(result, VenueRejected):
        return OrderUpdate(order, order.apply(OrderRejected(ts=now, reason=str(result))), [])  # type: ignore[arg-type]
    log.warning("order.outcome_unknown", client_order_id=order.client_order_id, error=repr(result))
    if order.status in (OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
        reason = f"no clear answer from the exchange ({type(result).__name__}); checking"
        return OrderUpdate(order, order.apply(OrderStatusUnknown(ts=now, reason=reason)), [])  # type: ignore[arg-type]
    return OrderUpdate(order, order, [])


def _exit_order(command: ClosePosition, position: Position, venue: str) -> SubmitOrder:
    return SubmitOrder(
        user_id=command.user_id,
        account_id=command.account_id,
        venue=venue,
        symbol=command.symbol,
        side=Side.SELL,
        type=OrderType.MARKET,
        qty=position.qty,
        purpose=command.purpose,
        origin=f"exit:{position.id}:{command.purpose.value}",
        strategy=position.strategy,
        rationale=command.reason,
    )


def _stop_order(position: Position, venue: str) -> SubmitOrder:
    assert position.stop_price is not None
    return SubmitOrder(
        user_id=position.user_id,
        account_id=position.account_id,
        venue=venue,
        symbol=position.symbol,
        side=Side.SELL,
        type=OrderType.STOP,
        qty=position.qty,
        stop_price=position.stop_price,
        purpose=OrderPurpose.STOP_LOSS,
        origin=f"stop:{position.id}:{position.qty}:{position.stop_price}",
        strategy=position.strategy,
        rationale=f"protective stop at {position.stop_price}",
    )


def _events_for(update: OrderUpdate, clock: Clock) -> list[object]:
    order = update.after
    events: list[object] = []
    if update.trades:
        outcome = update.outcome
        qty = sum((t.qty for t in update.trades), start=Decimal(0))
        value = sum((t.qty * t.price for t in update.trades), start=Decimal(0))
        fee = outcome.fee_quote if outcome else sum((t.fee for t in update.trades), start=Decimal(0))
        events.append(
            TradeFilled(
                ts=clock.now(),
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
        )
    if order.status is OrderStatus.REJECTED and update.before.status is not OrderStatus.REJECTED:
        events.append(
            OrderFailed(
                ts=clock.now(),
                user_id=order.user_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side,
                reason=order.reason,
                purpose=order.purpose,
            )
        )
    return events
