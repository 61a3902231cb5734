"""The paper venue's books: balances and orders per paper account, persisted like an exchange's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.engine import RowMapping

from engine.domain.enums import OrderType, Side
from engine.domain.ids import AccountId, ClientOrderId, Symbol, TradeId, VenueOrderId
from engine.domain.venue import Balance, OrderRequest, VenueOrder, VenueStatus, VenueTrade
from storage.models import PaperBalanceRow, PaperOrderRow
from storage.repositories.base import SqlRepository, dec, dec_or_none, upsert

_balances = PaperBalanceRow.__table__
_orders = PaperOrderRow.__table__


class SqlPaperLedger(SqlRepository):
    async def balances_many(self, accounts: Sequence[AccountId]) -> dict[AccountId, dict[str, Balance]]:
        found: dict[AccountId, dict[str, Balance]] = {}
        for chunk in _chunks(list(accounts)):
            query = select(_balances).where(_balances.c.account_id.in_(chunk))
            for row in (await self.session.execute(query)).mappings():
                balance = Balance(row["asset"], dec(row["free"]), dec(row["locked"]))
                found.setdefault(AccountId(row["account_id"]), {})[balance.asset] = balance
        return found

    async def set_balances(self, balances: Mapping[AccountId, Mapping[str, Balance]]) -> None:
        """Store these balances (one upsert per row); assets not given keep what they had."""
        rows = [
            {"account_id": account_id, "asset": b.asset, "free": b.free, "locked": b.locked}
            for account_id, assets in balances.items()
            for b in assets.values()
        ]
        if rows:
            statement = upsert(self.session, _balances)
            excluded = statement.excluded
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[_balances.c.account_id, _balances.c.asset],
                    set_={"free": excluded.free, "locked": excluded.locked},
                ),
                rows,
            )

    async def clear_balances(self, account_id: AccountId) -> None:
        await self.session.execute(delete(_balances).where(_balances.c.account_id == account_id))

    async def existing(self, keys: Sequence[tuple[AccountId, ClientOrderId]]) -> set[tuple[AccountId, ClientOrderId]]:
        found: set[tuple[AccountId, ClientOrderId]] = set()
        for chunk in _chunks(list(keys)):
            pair = tuple_(_orders.c.account_id, _orders.c.client_order_id)
            query = select(_orders.c.account_id, _orders.c.client_order_id).where(pair.in_(chunk))
            found.update((AccountId(a), ClientOrderId(c)) for a, c in (await self.session.execute(query)).all())
        return found

    async def save_orders(self, orders: Sequence[tuple[OrderRequest, VenueOrder]], *, new: bool = False) -> None:
        """Store orders as the venue holds them now; `new`: orders just placed, known to have no row yet."""
        if not orders:
            return
        if not new:
            keys = [(request.account_id, request.client_order_id) for request, _ in orders]
            for chunk in _chunks(keys):
                pair = tuple_(_orders.c.account_id, _orders.c.client_order_id)
                await self.session.execute(delete(_orders).where(pair.in_(chunk)))
        await self.session.execute(insert(_orders), [_order_values(r, o) for r, o in orders])

    async def get_order(self, account_id: AccountId, client_order_id: ClientOrderId) -> VenueOrder | None:
        query = select(_orders).where(_orders.c.account_id == account_id, _orders.c.client_order_id == client_order_id)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _venue_order(row)

    async def get_orders(
        self, keys: Sequence[tuple[AccountId, ClientOrderId]]
    ) -> dict[tuple[AccountId, ClientOrderId], VenueOrder]:
        found: dict[tuple[AccountId, ClientOrderId], VenueOrder] = {}
        for chunk in _chunks(list(keys)):
            pair = tuple_(_orders.c.account_id, _orders.c.client_order_id)
            for row in (await self.session.execute(select(_orders).where(pair.in_(chunk)))).mappings():
                found[(AccountId(row["account_id"]), ClientOrderId(row["client_order_id"]))] = _venue_order(row)
        return found

    async def open_orders(self, account_id: AccountId | None = None) -> list[tuple[OrderRequest, VenueOrder]]:
        query = select(_orders).where(_orders.c.status == VenueStatus.OPEN.value).order_by(_orders.c.ts)
        if account_id is not None:
            query = query.where(_orders.c.account_id == account_id)
        return [(_request(row), _venue_order(row)) for row in (await self.session.execute(query)).mappings()]

    async def orders_since(self, account_id: AccountId, moment: datetime | None) -> list[VenueOrder]:
        query = select(_orders).where(_orders.c.account_id == account_id)
        if moment is not None:
            query = query.where(_orders.c.ts >= moment)
        return [_venue_order(row) for row in (await self.session.execute(query)).mappings()]


def _chunks(items: list, size: int = 500) -> Iterator[list]:  # type: ignore[type-arg]
    """Keep IN lists under the SQLite variable limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _order_values(request: OrderRequest, order: VenueOrder) -> dict[str, object]:
    return {
        "account_id": request.account_id,
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": request.type.value,
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "status": order.status.value,
        "qty": order.qty,
        "filled_qty": order.filled_qty,
        "avg_price": order.avg_price,
        "trades": [_trade_values(t) for t in order.trades],
        "reason": order.reason,
        "ts": order.ts,
    }


def _trade_values(trade: VenueTrade) -> dict[str, str]:
    return {
        "trade_id": trade.trade_id,
        "qty": format(trade.qty, "f"),
        "price": format(trade.price, "f"),
        "fee": format(trade.fee, "f"),
        "fee_currency": trade.fee_currency,
        "ts": trade.ts.isoformat(),
    }


def _venue_order(row: RowMapping) -> VenueOrder:
    trades = tuple(
        VenueTrade(
            trade_id=TradeId(t["trade_id"]),
            qty=Decimal(t["qty"]),
            price=Decimal(t["price"]),
            fee=Decimal(t["fee"]),
            fee_currency=t["fee_currency"],
            ts=datetime.fromisoformat(t["ts"]),
        )
        for t in row["trades"] or ()
    )
    return VenueOrder(
        client_order_id=ClientOrderId(row["client_order_id"]),
        venue_order_id=VenueOrderId(row["venue_order_id"]) if row["venue_order_id"] else None,
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        status=VenueStatus(row["status"]),
        qty=dec(row["qty"]),
        filled_qty=dec(row["filled_qty"]),
        avg_price=dec_or_none(row["avg_price"]),
        trades=trades,
        reason=row["reason"],
        ts=row["ts"],
    )


def _request(row: RowMapping) -> OrderRequest:
    return OrderRequest(
        account_id=AccountId(row["account_id"]),
        client_order_id=ClientOrderId(row["client_order_id"]),
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        type=OrderType(row["type"]),
        qty=dec(row["qty"]),
        limit_price=dec_or_none(row["limit_price"]),
        stop_price=dec_or_none(row["stop_price"]),
    )
