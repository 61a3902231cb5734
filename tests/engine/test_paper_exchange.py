from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.enums import OrderType, Side
from engine.domain.ids import ClientOrderId
from engine.domain.venue import OrderRequest, PriceBar, VenueStatus
from engine.errors import DuplicateOrder, OrderRejected
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import build_harness
from tests.factories import ETH, T0


def request(
    account_id,
    cid: str,
    side: Side = Side.BUY,
    qty: str = "0.1",
    type: OrderType = OrderType.MARKET,
    stop: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        account_id=account_id,
        client_order_id=ClientOrderId(cid),
        symbol=ETH,
        side=side,
        type=type,
        qty=Decimal(qty),
        stop_price=Decimal(stop) if stop else None,
    )


async def test_market_buy_fills_at_the_current_price_with_the_fee(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    _, account = await h.onboarded_user()
    order = await h.paper.place_order(request(account.id, "c1"))
    assert order.status is VenueStatus.FILLED
    assert order.avg_price == Decimal("1000")
    (trade,) = order.trades
    assert trade.fee == Decimal("0.1") and trade.fee_currency == "USDT"
    balances = await h.paper.fetch_balances(account.id)
    assert balances["USDT"].free == Decimal("899.9")  # 1000 - 100 - 0.1
    assert balances["ETH"].free == Decimal("0.1")


async def test_refusals_are_the_ones_an_exchange_gives(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    _, account = await h.onboarded_user()
    with pytest.raises(OrderRejected, match="insufficient balance"):
        await h.paper.place_order(request(account.id, "c1", qty="2"))
    with pytest.raises(OrderRejected, match="not a multiple of the step"):
        await h.paper.place_order(request(account.id, "c2", qty="0.00015"))
    with pytest.raises(OrderRejected, match="below the minimum 5"):
        await h.paper.place_order(request(account.id, "c3", qty="0.001"))
    await h.paper.place_order(request(account.id, "c4"))
    with pytest.raises(DuplicateOrder):
        await h.paper.place_order(request(account.id, "c4"))
    assert (await h.paper.fetch_balances(account.id))["USDT"].free == Decimal("899.9")


async def test_resting_stop_locks_the_coins_and_fills_at_its_level_when_crossed(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    _, account = await h.onboarded_user()
    await h.paper.place_order(request(account.id, "buy"))
    stop = await h.paper.place_order(request(account.id, "stop", Side.SELL, type=OrderType.STOP, stop="950"))
    assert stop.status is VenueStatus.OPEN
    assert (await h.paper.fetch_balances(account.id))["ETH"].locked == Decimal("0.1")
    untouched = await h.paper.on_bars(
        {ETH: PriceBar(symbol=ETH, open=Decimal(990), high=Decimal(995), low=Decimal(951), last=Decimal(960), ts=T0)}
    )
    assert untouched == []
    fills = await h.paper.on_bars(
        {ETH: PriceBar(symbol=ETH, open=Decimal(960), high=Decimal(965), low=Decimal(940), last=Decimal(945), ts=T0)}
    )
    ((_, filled),) = fills
    assert filled.status is VenueStatus.FILLED and filled.avg_price == Decimal("950")
    gap = await h.paper.place_order(request(account.id, "buy2"))
    assert gap.status is VenueStatus.FILLED


async def test_a_stop_gapped_through_fills_at_the_open(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    _, account = await h.onboarded_user()
    await h.paper.place_order(request(account.id, "buy"))
    await h.paper.place_order(request(account.id, "stop", Side.SELL, type=OrderType.STOP, stop="950"))
    ((_, filled),) = await h.paper.on_bars(
        {ETH: PriceBar(symbol=ETH, open=Decimal(900), high=Decimal(910), low=Decimal(890), last=Decimal(905), ts=T0)}
    )
    assert filled.avg_price == Decimal("900")


async def test_books_survive_a_new_venue_instance(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    _, account = await h.onboarded_user()
    await h.paper.place_order(request(account.id, "buy"))
    await h.paper.place_order(request(account.id, "stop", Side.SELL, type=OrderType.STOP, stop="950"))
    restarted = await build_harness(uow)
    assert [o.client_order_id for o in await restarted.paper.fetch_open_orders(account.id)] == ["stop"]
    assert (await restarted.paper.fetch_balances(account.id))["ETH"].locked == Decimal("0.1")
    cancelled = await restarted.paper.cancel_order(account.id, ETH, ClientOrderId("stop"))
    assert cancelled is not None and cancelled.status is VenueStatus.CANCELLED
    assert (await restarted.paper.fetch_balances(account.id))["ETH"].free == Decimal("0.1")
