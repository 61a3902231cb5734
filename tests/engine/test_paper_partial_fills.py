"""Resting paper limit orders fill against the candles' volume, bar by bar, with the rules an exchange enforces."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderStatus, OrderType, Side
from engine.domain.events import TradeFilled
from engine.domain.ids import ClientOrderId
from engine.domain.venue import OrderRequest, PriceBar
from engine.errors import OrderRejected
from engine.paper_matching import FillModel
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ETH, T0, entry_order

VOLUME_SHARE = FillModel(fee_rate=Decimal("0.001"), slippage=Decimal(0), volume_share=Decimal("0.1"))


def bar(low: str, volume: str | None, minutes: int) -> PriceBar:
    return PriceBar(
        symbol=ETH,
        open=Decimal(1000),
        high=Decimal(1000),
        low=Decimal(low),
        last=Decimal(1000),
        ts=T0 + timedelta(minutes=minutes),
        volume=None if volume is None else Decimal(volume),
    )


def limit_buy(user, account, qty: str, price: str, origin: str) -> SubmitOrder:  # type: ignore[no-untyped-def]
    return entry_order(
        user.id,
        account.id,
        qty=qty,
        origin=origin,
        type=OrderType.LIMIT,
        limit_price=Decimal(price),
        protective_stop=None,
    )


async def stored_status(h: Harness, client_order_id: ClientOrderId) -> tuple[OrderStatus, Decimal]:
    async with h.uow() as work:
        order = await work.orders.get(client_order_id)
    assert order is not None
    return order.status, order.filled_qty


async def test_a_resting_limit_order_fills_at_most_a_share_of_each_bars_volume(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow, fill_model=VOLUME_SHARE)
    user, account = await h.onboarded_user(capital="2000")
    (order,) = await h.orders.submit([limit_buy(user, account, "1", "990", "limit:1")])
    assert order.status is OrderStatus.OPEN
    # Act / Assert: 10% of 4 ETH per bar that reaches the limit
    await h.paper.on_bars({ETH: bar("985", "4", 5)})
    assert await stored_status(h, order.client_order_id) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.4"))
    await h.paper.on_bars({ETH: bar("995", "50", 10)})  # did not reach 990: nothing
    await h.paper.on_bars({ETH: bar("989", "4", 15)})
    assert await stored_status(h, order.client_order_id) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.8"))
    await h.paper.on_bars({ETH: bar("980", "40", 20)})
    assert await stored_status(h, order.client_order_id) == (OrderStatus.FILLED, Decimal("1"))
    # the books: three trades at the limit, the fee on each, nothing left locked
    fills = [e for e in h.events if isinstance(e, TradeFilled)]
    assert [f.qty for f in fills] == [Decimal("0.4"), Decimal("0.4"), Decimal("0.2")]
    assert not fills[0].is_complete and fills[-1].is_complete
    balances = await h.paper.fetch_balances(account.id)
    assert balances["USDT"] == type(balances["USDT"])(
        "USDT", Decimal(2000) - Decimal(990) - Decimal("0.99"), Decimal(0)
    )
    assert balances["ETH"].free == Decimal(1)
    async with h.uow() as work:
        (position,) = await work.positions.open_for_user(user.id)
        cash = (await work.accounts.get(account.id)).managed_cash  # type: ignore[union-attr]
    assert position.qty == Decimal(1) and cash == balances["USDT"].total


async def test_orders_share_a_bars_volume_oldest_first(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow, fill_model=VOLUME_SHARE)
    user, account = await h.onboarded_user(capital="3000")
    first, second = await h.orders.submit(
        [limit_buy(user, account, "0.3", "990", "limit:a"), limit_buy(user, account, "0.3", "990", "limit:b")]
    )
    # Act
    await h.paper.on_bars({ETH: bar("985", "4", 5)})  # 0.4 ETH for both
    # Assert
    assert await stored_status(h, first.client_order_id) == (OrderStatus.FILLED, Decimal("0.3"))
    assert await stored_status(h, second.client_order_id) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.1"))


async def test_without_volume_a_crossed_limit_fills_whole_and_a_cancel_after_a_partial_releases_the_rest(
    uow: SqlUnitOfWorkFactory,
):
    h = await build_harness(uow, fill_model=VOLUME_SHARE)
    user, account = await h.onboarded_user(capital="3000")
    whole, partial = await h.orders.submit(
        [limit_buy(user, account, "0.5", "990", "limit:w"), limit_buy(user, account, "1", "980", "limit:p")]
    )
    await h.paper.on_bars({ETH: bar("985", None, 5)})
    assert await stored_status(h, whole.client_order_id) == (OrderStatus.FILLED, Decimal("0.5"))
    await h.paper.on_bars({ETH: bar("975", "2", 10)})  # 0.2 of 1
    # Act
    (cancelled,) = await h.orders.cancel_orders([partial.client_order_id])
    # Assert
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.filled_qty == Decimal("0.2")
    balances = await h.paper.fetch_balances(account.id)
    spent = Decimal(495) + Decimal("0.495") + Decimal(196) + Decimal("0.196")
    assert balances["USDT"].locked == 0 and balances["USDT"].free == Decimal(3000) - spent
    assert balances["ETH"].free == Decimal("0.7")


async def test_limit_and_stop_prices_must_be_on_the_tick(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow, fill_model=VOLUME_SHARE)
    _, account = await h.onboarded_user()
    off_tick = OrderRequest(
        account_id=account.id,
        client_order_id=ClientOrderId("tick-1"),
        symbol=ETH,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.1"),
        limit_price=Decimal("990.005"),
    )
    with pytest.raises(OrderRejected, match=r"not a multiple of the tick 0\.01"):
        await h.paper.place_order(off_tick)
