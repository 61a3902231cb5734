"""Orders, fills and positions: the hot path, written in batches with Core statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping

from engine.domain.enums import FINAL_STATUSES, OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.ids import (
    AccountId,
    ClientOrderId,
    DecisionId,
    SignalId,
    StrategyId,
    Symbol,
    TradeId,
    UserId,
    VenueOrderId,
)
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.domain.venue import VenueTrade
from engine.ports import FillRecord, OrderOutcomes, OrderVersion
from storage.models import ExchangeAccountRow, FillRow, OrderRow, PositionRow, SubscriptionRow
from storage.repositories.base import SqlRepository, dec, dec_or_none

_orders = OrderRow.__table__
_fills = FillRow.__table__
_positions = PositionRow.__table__
_accounts = ExchangeAccountRow.__table__
_subscriptions = SubscriptionRow.__table__
# Built once: the signal pipeline reads the open positions of a strategy's followers for every signal.
_OPEN_OF_FOLLOWERS = (
    select(_positions)
    .join(_accounts, _accounts.c.id == _positions.c.account_id)
    .join(_subscriptions, _subscriptions.c.user_id == _accounts.c.user_id)
    .where(_subscriptions.c.strategy_id == bindparam("strategy"), _positions.c.closed_at.is_(None))
    .order_by(_positions.c.id)
)
_FINAL = [s.value for s in FINAL_STATUSES]


class SqlOrderRepository(SqlRepository):
    async def add_many(self, orders: Sequence[Order]) -> list[Order]:
        if not orders:
            return []
        rows = [_order_values(order) for order in orders]
        # RETURNING in batches, matched by client order id (ordered RETURNING would insert row by row on SQLite)
        result = await self.session.execute(insert(_orders).returning(_orders.c.id, _orders.c.client_order_id), rows)
        ids = {client_order_id: new_id for new_id, client_order_id in result.all()}
        return [replace(order, id=ids[order.client_order_id]) for order in orders]

    async def versions(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, OrderVersion]:
        """What each order's state is now, in a few narrow columns: enough to tell whether a copy is stale."""
        found: dict[ClientOrderId, OrderVersion] = {}
        ids = list(client_order_ids)
        columns = (_orders.c.client_order_id, _orders.c.status, _orders.c.filled_qty, _orders.c.updated_at)
        for start in range(0, len(ids), 500):
            query = select(*columns).where(_orders.c.client_order_id.in_(ids[start : start + 500]))
            for cid, status, filled, updated in (await self.session.execute(query)).all():
                found[ClientOrderId(cid)] = OrderVersion(OrderStatus(status), dec(filled), updated)
        return found

    async def existing(self, client_order_ids: Sequence[ClientOrderId]) -> set[ClientOrderId]:
        """Which of these client order ids are already written (one narrow query per 500)."""
        found: set[ClientOrderId] = set()
        ids = list(client_order_ids)
        for start in range(0, len(ids), 500):
            query = select(_orders.c.client_order_id).where(_orders.c.client_order_id.in_(ids[start : start + 500]))
            found.update(ClientOrderId(c) for c in (await self.session.execute(query)).scalars())
        return found

    async def save_many(self, orders: Sequence[Order]) -> None:
        if not orders:
            return
        rows = [{"b_client_order_id": o.client_order_id, **_mutable_values(o)} for o in orders]
        statement = update(_orders).where(_orders.c.client_order_id == bindparam("b_client_order_id"))
        await self.session.execute(statement, rows)

    async def get(self, client_order_id: ClientOrderId) -> Order | None:
        row = (
            (await self.session.execute(select(_orders).where(_orders.c.client_order_id == client_order_id)))
            .mappings()
            .first()
        )
        return None if row is None else _order(row)

    async def get_many(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, Order]:
        found: dict[ClientOrderId, Order] = {}
        ids = list(client_order_ids)
        for start in range(0, len(ids), 500):
            query = select(_orders).where(_orders.c.client_order_id.in_(ids[start : start + 500]))
            for row in (await self.session.execute(query)).mappings():
                order = _order(row)
                found[order.client_order_id] = order
        return found

    async def non_final(self, account_id: AccountId | None = None) -> list[Order]:
        query = select(_orders).where(_orders.c.status.not_in(_FINAL)).order_by(_orders.c.id)
        if account_id is not None:
            query = query.where(_orders.c.account_id == account_id)
        return [_order(row) for row in (await self.session.execute(query)).mappings()]

    async def for_user(self, user_id: UserId, limit: int = 20) -> list[Order]:
        query = select(_orders).where(_orders.c.user_id == user_id).order_by(_orders.c.id.desc()).limit(limit)
        return [_order(row) for row in (await self.session.execute(query)).mappings()]

    async def since(self, moment: datetime) -> list[Order]:
        query = select(_orders).where(_orders.c.created_at >= moment).order_by(_orders.c.id)
        return [_order(row) for row in (await self.session.execute(query)).mappings()]

    async def outcome_counts(self, since: datetime) -> OrderOutcomes:
        query = select(_orders.c.status, func.count()).where(_orders.c.created_at >= since).group_by(_orders.c.status)
        return OrderOutcomes({status: count for status, count in (await self.session.execute(query)).all()})


class SqlFillRepository(SqlRepository):
    async def add_many(self, fills: Sequence[tuple[Order, VenueTrade]]) -> None:
        if not fills:
            return
        rows = [
            {
                "client_order_id": order.client_order_id,
                "user_id": order.user_id,
                "symbol": order.symbol,
                "side": order.side.value,
                "trade_id": trade.trade_id,
                "qty": trade.qty,
                "price": trade.price,
                "fee": trade.fee,
                "fee_currency": trade.fee_currency,
                "purpose": order.purpose.value,
                "strategy": order.strategy,
                "ts": trade.ts,
            }
            for order, trade in fills
        ]
        await self.session.execute(insert(_fills), rows)

    async def for_user(self, user_id: UserId, since: datetime | None = None, limit: int = 50) -> list[FillRecord]:
        query = select(_fills).where(_fills.c.user_id == user_id).order_by(_fills.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(_fills.c.ts >= since)
        return [_fill(row) for row in (await self.session.execute(query)).mappings()]

    async def since(self, moment: datetime) -> list[FillRecord]:
        query = select(_fills).where(_fills.c.ts >= moment).order_by(_fills.c.id)
        return [_fill(row) for row in (await self.session.execute(query)).mappings()]


class SqlPositionRepository(SqlRepository):
    async def open_for_user(self, user_id: UserId) -> list[Position]:
        return await self._where(_positions.c.user_id == user_id, _positions.c.closed_at.is_(None))

    async def open_for_account(self, account_id: AccountId) -> list[Position]:
        return await self._where(_positions.c.account_id == account_id, _positions.c.closed_at.is_(None))

    async def open_of_followers(self, strategy: StrategyId) -> list[Position]:
        """Open positions (of any strategy) in the accounts of the users subscribed to `strategy`."""
        rows = await self.session.execute(_OPEN_OF_FOLLOWERS, {"strategy": strategy})
        return [_position(row) for row in rows.mappings()]

    async def open_for_accounts(self, account_ids: Sequence[AccountId]) -> list[Position]:
        ids = sorted(set(account_ids))
        found: list[Position] = []
        for start in range(0, len(ids), 500):
            found += await self._where(
                _positions.c.account_id.in_(ids[start : start + 500]), _positions.c.closed_at.is_(None)
            )
        return found

    async def all_open(self) -> list[Position]:
        return await self._where(_positions.c.closed_at.is_(None))

    async def count_open(self) -> int:
        query = select(func.count()).select_from(_positions).where(_positions.c.closed_at.is_(None))
        return int((await self.session.execute(query)).scalar_one())

    async def closed_for_user(self, user_id: UserId, since: datetime | None = None) -> list[Position]:
        conditions = [_positions.c.user_id == user_id, _positions.c.closed_at.is_not(None)]
        if since is not None:
            conditions.append(_positions.c.closed_at >= since)
        return await self._where(*conditions)

    async def closed_since(self, moment: datetime) -> list[Position]:
        return await self._where(_positions.c.closed_at >= moment)

    async def save_many(self, positions: Sequence[Position]) -> list[Position]:
        """Insert new positions and update known ones; return them with their ids."""
        new = [p for p in positions if p.id is None]
        known = [p for p in positions if p.id is not None]
        if known:
            rows = [{"b_id": p.id, **_position_values(p)} for p in known]
            statement = update(_positions).where(_positions.c.id == bindparam("b_id"))
            await self.session.execute(statement, rows)
        inserted: dict[tuple[int, str, object], int] = {}
        if new:
            # RETURNING in batches, matched by (account, symbol, opened at): one position per key in a batch
            columns = (_positions.c.id, _positions.c.account_id, _positions.c.symbol, _positions.c.opened_at)
            result = await self.session.execute(
                insert(_positions).returning(*columns), [_position_values(p) for p in new]
            )
            inserted = {(a, s, o): new_id for new_id, a, s, o in result.all()}
        return [
            p if p.id is not None else replace(p, id=inserted[(p.account_id, p.symbol, p.opened_at)]) for p in positions
        ]

    async def _where(self, *conditions: object) -> list[Position]:
        query = select(_positions).where(*conditions).order_by(_positions.c.id)  # type: ignore[arg-type]
        return [_position(row) for row in (await self.session.execute(query)).mappings()]


# --- mapping -------------------------------------------------------------------------------------


def _mutable_values(order: Order) -> dict[str, object]:
    return {
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "avg_fill_price": order.avg_fill_price,
        "fee": order.fee,
        "fee_currency": order.fee_currency,
        "venue_order_id": order.venue_order_id,
        "reason": order.reason,
        "trade_ids": sorted(order.trade_ids),
        "updated_at": order.updated_at,
    }


def _order_values(order: Order) -> dict[str, object]:
    return {
        "client_order_id": order.client_order_id,
        "user_id": order.user_id,
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "purpose": order.purpose.value,
        "qty": order.qty,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "strategy": order.strategy,
        "protective_stop": order.protective_stop,
        "take_profit": order.take_profit,
        "signal_id": order.signal_id,
        "decision_id": order.decision_id,
        "created_at": order.created_at,
        **_mutable_values(order),
    }


def _order(row: RowMapping) -> Order:
    return Order(
        id=row["id"],
        client_order_id=ClientOrderId(row["client_order_id"]),
        user_id=UserId(row["user_id"]),
        account_id=AccountId(row["account_id"]),
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        type=OrderType(row["type"]),
        purpose=OrderPurpose(row["purpose"]),
        qty=dec(row["qty"]),
        limit_price=dec_or_none(row["limit_price"]),
        stop_price=dec_or_none(row["stop_price"]),
        status=OrderStatus(row["status"]),
        filled_qty=dec(row["filled_qty"]),
        avg_fill_price=dec_or_none(row["avg_fill_price"]),
        fee=dec(row["fee"]),
        fee_currency=row["fee_currency"],
        venue_order_id=VenueOrderId(row["venue_order_id"]) if row["venue_order_id"] else None,
        reason=row["reason"],
        strategy=row["strategy"],
        protective_stop=dec_or_none(row["protective_stop"]),
        take_profit=dec_or_none(row["take_profit"]),
        signal_id=SignalId(row["signal_id"]) if row["signal_id"] is not None else None,
        decision_id=DecisionId(row["decision_id"]) if row["decision_id"] is not None else None,
        trade_ids=frozenset(TradeId(t) for t in row["trade_ids"] or ()),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _fill(row: RowMapping) -> FillRecord:
    return FillRecord(
        client_order_id=ClientOrderId(row["client_order_id"]),
        user_id=UserId(row["user_id"]),
        symbol=Symbol(row["symbol"]),
        side=row["side"],
        qty=dec(row["qty"]),
        price=dec(row["price"]),
        fee=dec(row["fee"]),
        fee_currency=row["fee_currency"],
        ts=row["ts"],
        purpose=row["purpose"],
        strategy=row["strategy"],
    )


_POSITION_COLUMNS = (
    "user_id",
    "account_id",
    "symbol",
    "qty",
    "avg_entry",
    "realized_pnl",
    "fees",
    "cost_basis_total",
    "stop_price",
    "take_profit",
    "trailing_distance",
    "highest_price",
    "stop_order_id",
    "strategy",
    "opened_at",
    "closed_at",
)


def _position_values(position: Position) -> dict[str, object]:
    return {name: getattr(position, name) for name in _POSITION_COLUMNS}


def _position(row: RowMapping) -> Position:
    return Position(
        id=row["id"],
        user_id=UserId(row["user_id"]),
        account_id=AccountId(row["account_id"]),
        symbol=Symbol(row["symbol"]),
        qty=dec(row["qty"]),
        avg_entry=dec(row["avg_entry"]),
        realized_pnl=dec(row["realized_pnl"]),
        fees=dec(row["fees"]),
        cost_basis_total=dec(row["cost_basis_total"]),
        stop_price=dec_or_none(row["stop_price"]),
        take_profit=dec_or_none(row["take_profit"]),
        trailing_distance=dec_or_none(row["trailing_distance"]),
        highest_price=dec(row["highest_price"]),
        stop_order_id=row["stop_order_id"],
        strategy=row["strategy"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
    )
