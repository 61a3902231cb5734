"""The live feed against the Binance stand-in through the real ccxt client: batched tickers, candles on close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.bus import EventBus
from engine.ccxt_gateway import CcxtGateway, ClientPool, ExchangeSettings
from engine.clock import SimClock
from engine.domain.enums import OrderStatus, OrderType
from engine.domain.ids import Symbol
from engine.gateways import GatewayRegistry
from engine.market_data.live import LiveDriver, LiveFeed
from engine.paper_exchange import PaperExchange
from engine.paper_matching import FillModel
from engine.runtime import TradingEngine
from engine.strategies.base import StrategyRunner
from engine.system import SystemControl
from engine.users import AccessPolicy
from risk.phases import DEFAULT_PHASES, PhaseName
from risk.profiles import DEFAULT_PROFILES
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness
from tests.engine.live_harness import ETH, ETH_SPEC, FAST
from tests.engine.test_reconciliation import entry
from tests.standins.binance_spot import BinanceSpotStandin, SymbolSpec

BTC = Symbol("BTC/USDT")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE = 60_000


def candles(first_open: datetime, count: int, base: int = 1000) -> list[list[object]]:
    start = int(first_open.timestamp() * 1000)
    return [[start + i * MINUTE, base + i, base + i + 5, base + i - 5, base + i + 1, 10] for i in range(count)]


@asynccontextmanager
async def market(clock: SimClock) -> AsyncIterator[tuple[BinanceSpotStandin, CcxtGateway]]:
    async with BinanceSpotStandin(
        symbols=[ETH_SPEC, SymbolSpec(symbol="BTC/USDT")], prices={ETH: 1000, BTC: 30000}
    ) as standin:

        async def no_keys(_account_id: object) -> None:
            return None

        gateway = CcxtGateway(ClientPool(ExchangeSettings("binance", standin.base_url), no_keys), clock, backoff=FAST)  # type: ignore[arg-type]
        try:
            yield standin, gateway
        finally:
            await gateway.aclose()


async def test_one_batched_ticker_request_per_poll_and_candles_fetched_when_they_close():
    clock = SimClock(START + timedelta(seconds=5))
    async with market(clock) as (standin, gateway):
        standin.set_candles(ETH, candles(START - timedelta(minutes=30), 30))
        standin.set_candles(BTC, candles(START - timedelta(minutes=30), 30, 30_000))
        feed = LiveFeed(gateway, [ETH, BTC], "1m", clock, history=20)
        # Act: the first look loads history, and trades on none of it
        first = await feed.poll()
        # Assert
        assert first.closed == {}
        assert len(feed.candles(ETH)) == 20 and feed.candles(ETH).ts[-1] == int(
            (START - timedelta(minutes=1)).timestamp() * 1000
        )
        assert feed.last_price(ETH) == Decimal(1000) and feed.last_price(BTC) == Decimal(30000)
        # Act: prices move between looks, then the 12:00 candle closes
        standin.set_price(ETH, 1010)
        await feed.poll()
        standin.set_price(ETH, 995)
        clock.advance(timedelta(minutes=1))
        standin.set_candles(ETH, candles(START - timedelta(minutes=30), 31))
        standin.set_candles(BTC, candles(START - timedelta(minutes=30), 31, 30_000))
        step = await feed.poll()
        bars = feed.take_bars()
        # Assert
        assert step.closed == {ETH: 20, BTC: 20}
        assert feed.candles(ETH).ts[-1] == int(START.timestamp() * 1000) and feed.candles(ETH).close[-1] == 1031.0
        assert (bars[ETH].open, bars[ETH].high, bars[ETH].low, bars[ETH].last) == (
            Decimal(1000),
            Decimal(1010),
            Decimal(995),
            Decimal(995),
        )
        assert feed.take_bars() == {}
        assert standin.count_requests("GET", "/api/v3/ticker/24hr") == 3  # one per poll for both symbols
        assert standin.count_requests("GET", "/api/v3/klines") == 4  # history, then one close, per symbol
        assert (await feed.poll()).closed == {}  # nothing new: no candle request either
        assert standin.count_requests("GET", "/api/v3/klines") == 4


async def test_the_live_driver_runs_every_look_through_the_engine_so_paper_orders_match_live_prices(
    uow: SqlUnitOfWorkFactory,
):
    clock = SimClock(START)
    async with market(clock) as (standin, gateway):
        standin.set_candles(ETH, candles(START - timedelta(minutes=30), 30))
        standin.set_candles(BTC, candles(START - timedelta(minutes=30), 30, 30_000))
        await gateway.load_markets()
        markets = {ETH: gateway.market(ETH)}  # the paper venue trades by the exchange's own rules
        feed = LiveFeed(gateway, [ETH, BTC], "1m", clock)
        await feed.poll()
        bus = EventBus()
        paper = PaperExchange(uow, feed, clock, markets, FillModel(Decimal("0.001"), Decimal(0)))
        engine = TradingEngine.assemble(
            uow=uow,
            clock=clock,
            bus=bus,
            feed=feed,
            gateways=GatewayRegistry([paper]),
            paper=paper,
            strategies=StrategyRunner([], clock),
            system=SystemControl(uow, clock, bus, DEFAULT_PHASES, PhaseName.OPEN, DEFAULT_PROFILES, Decimal("0.001")),
            access=AccessPolicy(frozenset(), frozenset(), frozenset()),
            quote_currency="USDT",
        )
        await engine.start()
        h = Harness(uow, clock, bus, feed, paper, engine, [])  # type: ignore[arg-type]
        user, account = await h.onboarded_user()
        limit = replace(entry(user, account), type=OrderType.LIMIT, limit_price=Decimal(990), protective_stop=None)
        (resting,) = await engine.orders.submit([limit])
        assert resting.status is OrderStatus.OPEN
        # Act: the exchange's price dips under the limit between two looks of the driver
        driver = LiveDriver(engine.process_step, feed, poll_seconds=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(driver.run(stop))
        standin.set_price(ETH, 985)
        while driver.polls < 2:  # noqa: ASYNC110 - the driver offers no event to wait on
            await asyncio.sleep(0.01)
        stop.set()
        await task
        # Assert
        async with uow() as work:
            filled = await work.orders.get(resting.client_order_id)
        assert filled is not None and filled.status is OrderStatus.FILLED and filled.avg_fill_price == Decimal(990)
