"""Orders about positions: closing them, and the protective stop each one keeps resting at its venue.

A mixin of the order manager (it places through `submit` and `cancel_orders`, and changes positions under
the manager's lock). Every order here gets a deterministic client order id, and a new attempt (a stop
replacing one the venue cancelled, a sell after an earlier one ended) is named after the attempt it
replaces: found again after a crash by walking that chain, never placed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.domain.accounts import Account, Market
from engine.domain.commands import ClosePosition, SubmitOrder
from engine.domain.ids import AccountId, ClientOrderId, Symbol, make_client_order_id
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.ports import UnitOfWork, UnitOfWorkFactory
from engine.position_ledger import PositionKey
from engine.protective_stops import exit_order, is_guarded_by_a_stop, is_replaceable, sellable_qty, stop_order

_MAX_GENERATIONS = 8  # attempts at one stop or one exit before giving up


class PositionOrders:
    if TYPE_CHECKING:  # provided by the order manager
        _uow: UnitOfWorkFactory

        async def submit(self, commands: Sequence[SubmitOrder]) -> list[Order]: ...
        async def cancel_orders(self, client_order_ids: Sequence[ClientOrderId]) -> list[Order]: ...
        async def _change_positions(
            self, keys: Sequence[PositionKey], change: Callable[[Position], Position]
        ) -> list[Position]: ...
        def _market(self, account: Account | None, symbol: Symbol) -> Market | None: ...

    async def close_positions(self, commands: Sequence[ClosePosition]) -> list[Order]:
        """Sell whole positions at market, lifting each one's resting stop first."""
        keys = [(c.account_id, c.symbol) for c in commands]
        async with self._uow() as uow:
            accounts = await uow.accounts.get_many([c.account_id for c in commands])
            positions = {(p.account_id, p.symbol): p for p in await uow.positions.open_for_accounts(list(accounts))}
        await self._cancel_stops([positions[k] for k in keys if k in positions])
        sells = []
        async with self._uow() as uow:  # the stop may have filled meanwhile: read again
            still_open = {(p.account_id, p.symbol): p for p in await uow.positions.open_for_accounts(list(accounts))}
            for command in commands:
                position = still_open.get((command.account_id, command.symbol))
                account = accounts.get(command.account_id)
                sell = (
                    None
                    if position is None or account is None
                    else await self._sell_to_place(uow, command, position, account)
                )
                if sell is not None:
                    sells.append(sell)
        return await self.submit(sells)

    async def _sell_to_place(
        self, uow: UnitOfWork, command: ClosePosition, position: Position, account: Account
    ) -> SubmitOrder | None:
        """The sell that closes the position: a new one after earlier attempts ended, never one beside a live one."""
        qty = sellable_qty(position.qty, self._market(account, position.symbol))
        if qty <= 0:
            return None
        return await self._incarnation(
            uow,
            exit_order(command, position, account.venue, qty),
            lambda e: exit_order(command, position, account.venue, qty, e),
            lambda e: True,
        )

    async def move_stops(self, moves: Sequence[tuple[Position, Decimal]]) -> None:
        """Replace resting protective stops at new levels (trailing stops, break-even)."""
        levels = {(p.account_id, p.symbol): level for p, level in moves}
        await self._cancel_stops([p for p, _ in moves])
        moved = await self._change_positions(
            list(levels), lambda p: replace(p, stop_price=levels[(p.account_id, p.symbol)], stop_order_id=None)
        )
        await self._protect(moved)

    async def restore_stops(self, positions: Sequence[Position]) -> list[AccountId]:
        """Give back a resting stop to each position whose stop is missing, or was cancelled or never sent.

        Crash-safe: the stop a position should have is found by walking its deterministic client order ids
        (the first stop, then each replacement named after the one it replaces), never by placing blindly.
        """
        guarded = [p for p in positions if is_guarded_by_a_stop(p)]
        if not guarded:
            return []
        async with self._uow() as uow:
            accounts = await uow.accounts.get_many([p.account_id for p in guarded])
            stops = await uow.orders.get_many([ClientOrderId(p.stop_order_id) for p in guarded if p.stop_order_id])
            live = {cid for cid, stop in stops.items() if not stop.is_final}
            commands = [
                c
                for p in guarded
                if p.stop_order_id not in live
                and (c := await self._stop_to_place(uow, p, accounts.get(p.account_id), stops))
            ]
        placed = await self.submit(commands)
        await self._link_stops(placed)
        return [c.account_id for c in commands]

    async def _stop_to_place(
        self, uow: UnitOfWork, position: Position, account: Account | None, stops: dict[ClientOrderId, Order]
    ) -> SubmitOrder | None:
        market = self._market(account, position.symbol)
        if account is None or sellable_qty(position.qty, market) <= 0:
            return None
        current = stops.get(ClientOrderId(position.stop_order_id)) if position.stop_order_id else None
        if current is not None and (not current.is_final or not is_replaceable(current)):
            return None  # a live stop, or one the venue refused (the monitor guards the position then)
        return await self._incarnation(
            uow,
            stop_order(position, account.venue, market, current),
            lambda e: stop_order(position, account.venue, market, e),
            is_replaceable,
        )

    async def _incarnation(
        self,
        uow: UnitOfWork,
        command: SubmitOrder,
        successor: Callable[[Order], SubmitOrder],
        may_replace: Callable[[Order], bool],
    ) -> SubmitOrder | None:
        """Walk the deterministic chain of client order ids (each named after the one it replaces) to the order
        to submit now: the first one not written yet, or one still live (submit returns it, never resends it)."""
        for _ in range(_MAX_GENERATIONS):
            existing = await uow.orders.get(make_client_order_id(command.account_id, command.origin))
            if existing is None or not existing.is_final:
                return command
            if not may_replace(existing):
                return None
            command = successor(existing)
        return None  # attempts exhausted: the admin sees the rejected orders, the monitor keeps watching

    async def _protect(
        self, positions: Sequence[Position], replacing: dict[int | None, Order | None] | None = None
    ) -> None:
        """Rest a stop order at the venue for each position, sized to the whole position (lifting an older one)."""
        if not positions:
            return
        replacing = replacing or {}
        async with self._uow() as uow:
            accounts = await uow.accounts.get_many([p.account_id for p in positions])
        await self._cancel_stops(positions)
        commands = []
        for p in positions:
            account = accounts.get(p.account_id)
            market = self._market(account, p.symbol)
            if account is not None and sellable_qty(p.qty, market) > 0:
                commands.append(stop_order(p, account.venue, market))
        await self._link_stops(await self.submit(commands))

    async def _link_stops(self, stops: Sequence[Order]) -> None:
        """Remember on each position the stop now resting for it."""
        resting = {(o.account_id, o.symbol): o.client_order_id for o in stops if not o.is_final}
        await self._change_positions(
            list(resting), lambda p: replace(p, stop_order_id=resting[(p.account_id, p.symbol)])
        )

    async def _cancel_stops(self, positions: Sequence[Position]) -> None:
        await self.cancel_orders([ClientOrderId(p.stop_order_id) for p in positions if p.stop_order_id])
