"""The order manager: every intent is written before the venue is called, every answer recorded after.

An intent is sent once, by the call that wrote it. A timeout leaves the order `unknown`, and an intent
found already written (a crash, a replayed signal) is never sent again: reconciliation resolves both by
client order id. Answers are applied to the order as stored, one batch at a time, so an answer that
arrives twice (the submit path and reconciliation) books its fills once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog

from engine.account_guard import AccountGuard
from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.accounts import Account, Market
from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderPurpose, Side
from engine.domain.events import OrdersRecorded
from engine.domain.ids import AccountId, ClientOrderId, Symbol
from engine.domain.money import ZERO
from engine.domain.orders import IllegalTransition, Order
from engine.domain.positions import Position
from engine.domain.venue import VenueOrder
from engine.gateways import GatewayRegistry
from engine.order_outcomes import (
    OrderUpdate,
    events_for,
    log_transitions,
    order_from,
    request_for,
    statuses_reached,
    update_from,
)
from engine.ports import OrderVersion, UnitOfWork, UnitOfWorkFactory
from engine.position_ledger import FillOutcome, PositionKey, apply_trades
from engine.position_orders import PositionOrders

log = structlog.get_logger(__name__)

Answer = tuple[Order, VenueOrder | Exception]


class OrderManager(PositionOrders):
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        gateways: GatewayRegistry,
        clock: Clock,
        bus: EventBus,
        guard: AccountGuard | None = None,
    ) -> None:
        self._uow = uow
        self._gateways = gateways
        self._clock = clock
        self._bus = bus
        self._guard = guard or AccountGuard(uow, clock, bus)
        self._books = asyncio.Lock()  # one writer of orders, fills and positions at a time in this process
        self._conflicts: list[tuple[AccountId, str]] = []

    # --- placing -------------------------------------------------------------------------------

    async def submit(self, commands: Sequence[SubmitOrder]) -> list[Order]:
        """Write the intents, send those this call wrote, record the answers; return every order in command order."""
        if not commands:
            return []
        orders, written = await self._write_intents(commands)
        fresh = [o for o in orders if o.client_order_id in written]
        updates = await self._record(await self._send(fresh, {c.account_id: c.venue for c in commands}))
        await self._after(updates)
        final = {u.after.client_order_id: u.after for u in updates}
        return [final.get(o.client_order_id, o) for o in orders]

    async def cancel_orders(self, client_order_ids: Sequence[ClientOrderId]) -> list[Order]:
        """Cancel resting orders at their venues and record what the venues answered."""
        if not client_order_ids:
            return []
        async with self._uow() as uow:
            orders = [o for o in (await uow.orders.get_many(client_order_ids)).values() if not o.is_final]
            accounts = await uow.accounts.get_many([o.account_id for o in orders])
        answers: list[Answer] = []
        for order in orders:
            account = accounts.get(order.account_id)
            if account is None:
                continue
            gateway = self._gateways.for_account(account)
            try:
                result = await gateway.cancel_order(order.account_id, order.symbol, order.client_order_id)
            except Exception as error:
                log.warning("order.cancel_failed", **order.log_fields(), error=str(error))
                continue
            if result is not None:
                answers.append((order, result))
        updates = await self._record(answers)
        await self._after(updates)
        return [u.after for u in updates]

    # --- answers that arrive later (execution reports, reconciliation) --------------------------

    async def on_venue_updates(self, updates: Sequence[tuple[AccountId, VenueOrder]]) -> None:
        async with self._uow() as uow:
            known = await uow.orders.get_many([v.client_order_id for _, v in updates])
        pairs: list[Answer] = []
        for account_id, venue_order in updates:
            order = known.get(venue_order.client_order_id)
            if order is None:
                log.warning(
                    "order.unknown_at_home",
                    client_order_id=venue_order.client_order_id,
                    user=None,  # not one of ours: whose it is, is what reconciliation finds out
                    symbol=venue_order.symbol,
                    account=account_id,
                )
                continue
            pairs.append((order, venue_order))
        await self.apply_outcomes(pairs)

    async def apply_outcomes(self, pairs: Sequence[Answer]) -> list[Order]:
        """Record answers gathered elsewhere (reconciliation); returns the updated orders."""
        updates = await self._record(pairs)
        await self._after(updates)
        return [u.after for u in updates]

    # --- the three steps -------------------------------------------------------------------------

    async def _write_intents(self, commands: Sequence[SubmitOrder]) -> tuple[list[Order], set[ClientOrderId]]:
        now = self._clock.now()
        wanted = [order_from(c, now) for c in commands]
        async with self._books, self._uow() as uow:
            written = await uow.orders.existing([o.client_order_id for o in wanted])
            existing = await uow.orders.get_many(list(written)) if written else {}
            new = [o for o in _unique(wanted) if o.client_order_id not in written]
            added = {o.client_order_id: o for o in await uow.orders.add_many(new)}
            await uow.commit()
        for order in added.values():
            log.debug(
                "order.intent_written",
                **order.log_fields(),
                side=order.side.value,
                qty=str(order.qty),
                purpose=order.purpose.value,
            )
        return [existing.get(o.client_order_id) or added[o.client_order_id] for o in wanted], set(added)

    async def _send(self, orders: Sequence[Order], venues: dict[AccountId, str]) -> list[Answer]:
        by_venue: dict[str, list[Order]] = defaultdict(list)
        for order in orders:  # the stored intent goes as it is: the answer is applied to the stored order anyway
            by_venue[venues[order.account_id]].append(order)
        answered: list[Answer] = []
        for venue, batch in by_venue.items():
            try:
                gateway = self._gateways.for_venue(venue)
                results = await gateway.place_orders([request_for(o) for o in batch])
            except Exception as error:  # the whole call failed: each order gets the same answer
                results = [error] * len(batch)
            answered.extend(zip(batch, results, strict=True))
        return answered

    async def _record(self, pairs: Sequence[Answer]) -> list[OrderUpdate]:
        """Apply the answers to the orders as stored, book their fills, all in one transaction."""
        if not pairs:
            return []
        now = self._clock.now()
        async with self._books, self._uow() as uow:
            current = await self._current(uow, [order for order, _ in pairs])
            updates: list[OrderUpdate] = []
            for order, result in pairs:
                stored = current.get(order.client_order_id)
                update = self._update(stored, result, now) if stored is not None else None
                if update is not None:
                    current[order.client_order_id] = update.after
                    updates.append(update)
            updates = await self._book_fills(uow, updates)
            changed = {u.after.client_order_id: u.after for u in updates if u.after is not u.before}
            await uow.orders.save_many(list(changed.values()))
            await uow.fills.add_many([(u.after, t) for u in updates for t in u.trades])
            await uow.commit()
        log_transitions(updates)
        return updates

    async def _current(self, uow: UnitOfWork, orders: Sequence[Order]) -> dict[ClientOrderId, Order]:
        """The orders as stored now: our copies where still current, read again where they changed meanwhile."""
        versions = await uow.orders.versions([o.client_order_id for o in orders])
        current = {o.client_order_id: o for o in orders if versions.get(o.client_order_id) == OrderVersion.of(o)}
        stale = [
            o.client_order_id for o in orders if o.client_order_id in versions and o.client_order_id not in current
        ]
        return current | (await uow.orders.get_many(stale) if stale else {})

    def _update(self, stored: Order, result: VenueOrder | Exception, now: object) -> OrderUpdate | None:
        try:
            return update_from(stored, result, now)  # type: ignore[arg-type]
        except IllegalTransition as error:  # e.g. fills reported for an order we had settled as never sent
            log.error("order.conflict", **stored.log_fields(), error=str(error))
            self._conflicts.append((stored.account_id, str(error)))
            return None

    async def _book_fills(self, uow: UnitOfWork, updates: list[OrderUpdate]) -> list[OrderUpdate]:
        filled = [u for u in updates if u.trades]
        if not filled:
            return updates
        account_ids = [u.after.account_id for u in filled]
        accounts = await uow.accounts.get_many(account_ids)
        open_positions = await uow.positions.open_for_accounts(account_ids)
        positions: dict[PositionKey, Position] = {(p.account_id, p.symbol): p for p in open_positions}
        changed: dict[tuple[PositionKey, object], Position] = {}
        booked: dict[int, FillOutcome] = {}
        for index, update in enumerate(updates):
            order = update.after
            key = (order.account_id, order.symbol)
            if not update.trades:
                continue
            if order.side is Side.SELL and key not in positions:
                log.error("position.sell_without_position", **order.log_fields())
                continue
            market = self._market(accounts.get(order.account_id), order.symbol)
            outcome = apply_trades(positions.get(key), order, update.trades, market.smallest_qty if market else ZERO)
            if outcome.position.is_open:
                positions[key] = outcome.position
            else:
                positions.pop(key, None)  # closed: the next buy opens a new position
            changed[(key, outcome.position.opened_at)] = outcome.position
            booked[index] = outcome
        saved = await uow.positions.save_many(list(changed.values()))
        await self._book_cash(uow, accounts, [(updates[i].after, outcome) for i, outcome in booked.items()])
        by_key = {(p.account_id, p.symbol, p.opened_at): p for p in saved}
        for index, outcome in booked.items():
            p, update = outcome.position, updates[index]
            position = by_key.get((p.account_id, p.symbol, p.opened_at), p)  # with its id when it is new
            updates[index] = OrderUpdate(update.before, update.after, update.trades, outcome.with_position(position))
        return updates

    async def _book_cash(
        self, uow: UnitOfWork, accounts: dict[AccountId, Account], outcomes: list[tuple[Order, FillOutcome]]
    ) -> None:
        """Move the cash the bot manages for each account by what the trades paid and brought, fees included."""
        for order, outcome in outcomes:
            account = accounts[order.account_id]
            accounts[order.account_id] = replace(account, managed_cash=account.managed_cash + outcome.cash_delta)
        await uow.accounts.save_many([accounts[a] for a in {order.account_id for order, _ in outcomes}])

    async def _after(self, updates: Sequence[OrderUpdate]) -> None:
        now = self._clock.now()
        for update in updates:
            for event in events_for(update, now):
                await self._bus.publish(event)
        reached = statuses_reached(updates)
        if reached:
            await self._bus.publish(OrdersRecorded(ts=now, reached=tuple(sorted(reached.items()))))
        await self._report_conflicts()
        entries = [u.outcome.position for u in updates if u.outcome and u.after.purpose is OrderPurpose.ENTRY]
        await self._protect([p for p in entries if p.is_open and p.stop_price is not None])

    async def _report_conflicts(self) -> None:
        conflicts, self._conflicts = self._conflicts, []
        for account_id, detail in conflicts:
            await self._guard.halt(account_id, f"order state conflict: {detail}", title="order state conflict")

    async def _change_positions(
        self, keys: Sequence[PositionKey], change: Callable[[Position], Position]
    ) -> list[Position]:
        """Change open positions as they are stored now (never from an older copy) and save them."""
        if not keys:
            return []
        wanted = set(keys)
        async with self._books, self._uow() as uow:
            current = [
                p
                for p in await uow.positions.open_for_accounts([a for a, _ in keys])
                if (p.account_id, p.symbol) in wanted
            ]
            changed = [change(p) for p in current]
            await uow.positions.save_many(changed)
            await uow.commit()
        return changed

    def _market(self, account: Account | None, symbol: Symbol) -> Market | None:
        if account is None:
            return None
        try:
            return self._gateways.for_account(account).market(symbol)
        except Exception:
            return None


def _unique(orders: list[Order]) -> list[Order]:
    return list({o.client_order_id: o for o in orders}.values())
