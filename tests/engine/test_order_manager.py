from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from engine.domain.commands import ClosePosition, SubmitOrder
from engine.domain.enums import OrderPurpose, OrderStatus, OrderType
from engine.domain.events import TradeFilled
from engine.domain.venue import OrderRequest, VenueOrder, VenueStatus
from engine.errors import OutcomeUnknown
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.paper_exchange import PaperExchange
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ETH, entry_order


class WitnessGateway:
    """Wraps the paper venue; looks in the database at the moment an order reaches the venue."""

    def __init__(self, inner: PaperExchange, uow: SqlUnitOfWorkFactory, drop_answers: bool = False) -> None:
        self.inner, self.uow, self.drop_answers = inner, uow, drop_answers
        self.name = inner.name
        self.seen_in_db: list[OrderStatus | None] = []
        self.placed = 0

    def __getattr__(self, item: str):
        return getattr(self.inner, item)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[VenueOrder | Exception]:
        async with self.uow() as work:
            for r in requests:
                stored = await work.orders.get(r.client_order_id)
                self.seen_in_db.append(stored.status if stored else None)
        self.placed += len(requests)
        results = await self.inner.place_orders(requests)
        if self.drop_answers:  # the venue acted, but the answer never arrived
            return [OutcomeUnknown("request timed out") for _ in results]
        return results


def entry(h: Harness, user, account, qty: str = "0.1", origin: str = "signal:s1:entry") -> SubmitOrder:
    return entry_order(user.id, account.id, qty=qty, origin=origin, take_profit=Decimal("1060"))


async def manager_with(h: Harness, gateway: WitnessGateway) -> OrderManager:
    return OrderManager(h.uow, GatewayRegistry([gateway]), h.clock, h.bus)  # type: ignore[list-item]


async def test_every_intent_is_in_the_database_before_the_venue_sees_it(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    witness = WitnessGateway(h.paper, uow)
    manager = await manager_with(h, witness)
    (order,) = await manager.submit([entry(h, user, account)])
    assert witness.seen_in_db[0] is OrderStatus.NEW
    assert order.status is OrderStatus.FILLED
    async with uow() as work:
        (position,) = await work.positions.open_for_user(user.id)
        account_after = await work.accounts.get(account.id)
    assert position.qty == Decimal("0.1") and position.avg_entry == Decimal(1000)
    assert account_after is not None and account_after.managed_cash == Decimal("899.9")
    assert any(isinstance(e, TradeFilled) and e.client_order_id == order.client_order_id for e in h.events)


async def test_the_same_cause_never_makes_a_second_order(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    witness = WitnessGateway(h.paper, uow)
    manager = await manager_with(h, witness)
    first = await manager.submit([entry(h, user, account)])
    again = await manager.submit([entry(h, user, account)])
    assert first[0].client_order_id == again[0].client_order_id
    assert witness.seen_in_db.count(OrderStatus.NEW) == 1 + 1  # the entry, then its protective stop
    async with uow() as work:
        (position,) = await work.positions.open_for_user(user.id)
    assert position.qty == Decimal("0.1")


async def test_a_lost_answer_leaves_the_order_unknown_and_it_is_resolved_not_resent(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    witness = WitnessGateway(h.paper, uow, drop_answers=True)
    manager = await manager_with(h, witness)
    (order,) = await manager.submit([entry(h, user, account)])
    assert order.status is OrderStatus.UNKNOWN
    assert witness.placed == 1
    venue_view = await h.paper.fetch_order(account.id, ETH, order.client_order_id)
    assert venue_view is not None and venue_view.status is VenueStatus.FILLED
    await manager.on_venue_updates([(account.id, venue_view)])
    async with uow() as work:
        resolved = await work.orders.get(order.client_order_id)
        positions = await work.positions.open_for_user(user.id)
    assert resolved is not None and resolved.status is OrderStatus.FILLED
    assert [p.qty for p in positions] == [Decimal("0.1")]
    assert witness.placed == 2  # the entry once; then its protective stop (also "lost", still unknown)


async def test_entry_gets_a_resting_stop_and_closing_lifts_it_first(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    await h.orders.submit([entry(h, user, account)])
    async with uow() as work:
        (position,) = await work.positions.open_for_user(user.id)
        stop = await work.orders.get(position.stop_order_id)  # type: ignore[arg-type]
    assert stop is not None and stop.type is OrderType.STOP and stop.status is OrderStatus.OPEN
    assert stop.stop_price == Decimal("970") and stop.qty == Decimal("0.1")
    h.prices.set(ETH, "1010")
    await h.orders.close_positions(
        [
            ClosePosition(
                user_id=user.id, account_id=account.id, symbol=ETH, purpose=OrderPurpose.MANUAL_CLOSE, reason="asked"
            )
        ]
    )
    async with uow() as work:
        assert await work.positions.open_for_user(user.id) == []
        (closed,) = await work.positions.closed_for_user(user.id)
        stop_after = await work.orders.get(stop.client_order_id)
        cash = (await work.accounts.get(account.id)).managed_cash  # type: ignore[union-attr]
    assert stop_after is not None and stop_after.status is OrderStatus.CANCELLED
    assert closed.realized_pnl == Decimal("1")  # 0.1 * (1010 - 1000)
    assert cash == Decimal("1000") + Decimal("1") - Decimal("0.1") - Decimal("0.101")
    assert (await h.paper.fetch_balances(account.id))["USDT"].free == cash
