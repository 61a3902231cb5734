"""Run a backtest: recorded candles through the product's engine, in memory, stepping only where it matters."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.backtest.assembly import TraderSetup, assemble_trader
from engine.backtest.driver import EventDriver, Progress
from engine.backtest.memory_store import MemoryUnitOfWorkFactory
from engine.backtest.signals import PrecomputedRunner
from engine.clock import SimClock
from engine.domain.positions import Position
from engine.market_data.candles import Candles, timeframe_ms
from engine.market_data.replay import ReplayFeed, ms_to_datetime
from engine.ports import FillRecord
from engine.strategies.base import RuleStrategy


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    """A strategy on candles for one simulated account. The first `warmup` candles of every series only warm
    the strategy up (as a replay's warm-up does): trading starts at the candle after them."""

    strategy: RuleStrategy
    series: Sequence[Candles]
    trader: TraderSetup
    warmup: int = 0


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """What the engine did: its fills in booking order and every position it opened."""

    spec: BacktestSpec
    fills: list[FillRecord]
    positions: list[Position]
    start: datetime  # the first traded candle's open
    end: datetime  # the last candle's close
    candles: int  # candles replayed, all symbols together
    steps: int  # engine steps actually run
    seconds: float


async def run_backtest(spec: BacktestSpec, on_progress: Progress | None = None) -> BacktestRun:
    started = time.perf_counter()
    uow = MemoryUnitOfWorkFactory()
    first_ms = min(int(c.ts[0]) for c in spec.series)
    clock = SimClock(ms_to_datetime(first_ms))
    feed = ReplayFeed(spec.series, clock, warmup=spec.warmup)
    start_ms = feed.cursor_ms
    runner = PrecomputedRunner([spec.strategy], clock, spec.series)
    engine, _ = await assemble_trader(spec.trader, uow, clock, feed, runner)
    driver = EventDriver(engine, feed, runner, on_progress)
    await driver.run()
    trading = uow.database.trading
    return BacktestRun(
        spec=spec,
        fills=list(trading.fills.values()),
        positions=sorted(trading.positions.values(), key=lambda p: p.id or 0),
        start=ms_to_datetime(start_ms),
        end=ms_to_datetime(feed.end_ms + timeframe_ms(feed.timeframe)),
        candles=sum(max(0, len(c) - spec.warmup) for c in spec.series),
        steps=driver.steps,
        seconds=time.perf_counter() - started,
    )
