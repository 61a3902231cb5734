"""The trading engine assembled: one market step runs venue matching, exits, then strategies — the same
sequence for the demo, `tradebot run` on replayed data, and the backtester."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date

import structlog

from engine.account_guard import AccountGuard
from engine.bus import EventBus
from engine.clock import Clock
from engine.closing import PositionCloser
from engine.domain.ids import AccountId, Symbol
from engine.domain.signals import Signal
from engine.domain.venue import VenueOrder
from engine.exchange_connections import ExchangeConnections, KeyChecker
from engine.gateways import GatewayRegistry
from engine.market_data.candles import Candles
from engine.market_data.replay import MarketStep, ReplayFeed
from engine.monitor import PositionMonitor
from engine.order_manager import OrderManager
from engine.paper_exchange import PaperExchange
from engine.portfolio import PortfolioService
from engine.ports import MarketFeed, UnitOfWorkFactory
from engine.reconciliation import Reconciler
from engine.strategies.base import StrategyRunner
from engine.strategy_control import StrategyControl
from engine.system import SystemControl
from engine.system_status import SystemStatusReader
from engine.trading import SignalPipeline
from engine.users import AccessPolicy, UserService

log = structlog.get_logger(__name__)


@dataclass
class TradingEngine:
    uow: UnitOfWorkFactory
    clock: Clock
    bus: EventBus
    feed: MarketFeed
    gateways: GatewayRegistry
    paper: PaperExchange
    strategies: StrategyRunner
    system: SystemControl
    orders: OrderManager
    pipeline: SignalPipeline
    monitor: PositionMonitor
    users: UserService
    portfolio: PortfolioService
    strategy_control: StrategyControl
    guard: AccountGuard | None = None
    reconciler: Reconciler | None = None
    closer: PositionCloser | None = None
    connections: ExchangeConnections | None = None
    status: SystemStatusReader | None = None
    _market_day: date | None = None  # the UTC day of the last market step

    @classmethod
    def assemble(
        cls,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        bus: EventBus,
        feed: MarketFeed,
        gateways: GatewayRegistry,
        paper: PaperExchange,
        strategies: StrategyRunner,
        system: SystemControl,
        access: AccessPolicy,
        quote_currency: str,
        reconcile_grace_seconds: float = 120.0,
        guard: AccountGuard | None = None,
        key_checkers: Mapping[str, KeyChecker] | None = None,
        forget_keys: Callable[[AccountId], None] | None = None,
    ) -> TradingEngine:
        guard = guard or AccountGuard(uow, clock, bus)
        orders = OrderManager(uow, gateways, clock, bus, guard)
        reconciler = Reconciler(
            uow, gateways, orders, guard, clock, quote=quote_currency, grace_seconds=reconcile_grace_seconds
        )
        pipeline = SignalPipeline(uow, orders, gateways, feed, clock, bus, system.policy)
        monitor = PositionMonitor(uow, orders, feed, gateways, clock, lambda: system.profiles)
        users = UserService(uow, clock, paper, quote_currency, access, lambda: system.phase, lambda: system.profiles)
        engine = cls(
            uow,
            clock,
            bus,
            feed,
            gateways,
            paper,
            strategies,
            system,
            orders,
            pipeline,
            monitor,
            users,
            PortfolioService(uow, feed),
            StrategyControl(uow, clock, strategies, lambda: system.profiles),
            guard,
            reconciler,
            closer=PositionCloser(uow, orders, clock),
            connections=ExchangeConnections(uow, clock, quote_currency, key_checkers or {}, forget_keys),
            status=SystemStatusReader(uow, clock, system),
        )
        paper.on_execution(engine._on_paper_execution)
        return engine

    async def start(self) -> None:
        """Load persisted controls and register the strategies this process runs."""
        await self.system.load()
        await self.strategy_control.load()

    async def record_error(self, source: str, message: str, context: dict[str, object] | None = None) -> None:
        """Keep a processing error for `/errors` and the admin report; never raises."""
        try:
            async with self.uow() as uow:
                await uow.errors.add(ts=self.clock.now(), source=source, message=message, context=context)
                await uow.commit()
        except Exception:
            log.exception("error.not_recorded", source=source)

    async def recent_errors(self, limit: int = 10) -> list[dict[str, object]]:
        """The latest processing errors, newest first (`/errors`)."""
        async with self.uow() as uow:
            return await uow.errors.latest(limit)

    async def _on_paper_execution(self, account_id: AccountId, order: VenueOrder) -> None:
        await self.orders.on_venue_updates([(account_id, order)])

    async def process_step(self, step: MarketStep, candles: Callable[[Symbol], Candles]) -> list[Signal]:
        """Run one market step: resting orders, then exits, the equity marks when a new UTC day began, then the
        strategies on the candles that closed."""
        bars = self.feed.take_bars()
        await self.paper.on_bars(bars)
        await self.monitor.run_pass(bars)
        if step.ts.date() != self._market_day:  # days roll on market time: a replay and a backtest agree
            await self.monitor.mark_equity()
            self._market_day = step.ts.date()
        signals: list[Signal] = []
        for symbol in step.closed:
            signals += self.strategies.on_close(candles(symbol))
        for signal in signals:
            await self.pipeline.handle(signal)
        return signals


class ReplayDriver:
    """Plays a replay feed through the engine at `seconds_per_candle` of wall time per candle."""

    def __init__(
        self,
        engine: TradingEngine,
        feed: ReplayFeed,
        seconds_per_candle: float,
        on_step: Callable[[MarketStep], Awaitable[None]] | None = None,
    ) -> None:
        self._engine = engine
        self._feed = feed
        self._delay = seconds_per_candle
        self._on_step = on_step
        self.steps = 0
        self.finished = asyncio.Event()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        log.info("replay.started", symbols=self._feed.symbols, timeframe=self._feed.timeframe)
        while not stop.is_set():
            step = self._feed.advance()
            if step is None:
                break
            await self._engine.process_step(step, self._feed.candles)
            self.steps += 1
            if self._on_step is not None:
                await self._on_step(step)
            if self._delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._delay)
            else:
                await asyncio.sleep(0)
        self.finished.set()
        log.info("replay.finished" if self._feed.is_finished else "replay.stopped", steps=self.steps)
