"""Parity: the backtest (in memory, precomputed signals, event-skipping) trades exactly as the replay path does
(real database, the incremental strategy runner, the scheduler-free engine step on every candle)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from engine.backtest.assembly import TraderSetup, assemble_trader
from engine.backtest.runner import BacktestSpec, run_backtest
from engine.clock import SimClock
from engine.domain.enums import RiskProfileName
from engine.domain.ids import Symbol
from engine.market_data.candles import Candles, load_recorded, recorded_series
from engine.market_data.recorded_markets import load_replay_series, replay_markets
from engine.market_data.replay import ReplayFeed, ms_to_datetime
from engine.ports import FillRecord
from engine.runtime import ReplayDriver
from engine.strategies.base import StrategyRunner
from engine.strategies.catalog import RULES, rule_strategy
from risk.profiles import DEFAULT_PROFILES
from storage.unit_of_work import SqlUnitOfWorkFactory

WARMUP = 30


def january_5m() -> list[Candles]:
    """Recorded January 2018 5-minute candles of two coins, in USDT at the replay's fixed rate."""
    series = load_replay_series([Symbol("ETH/USDT"), Symbol("XMR/USDT")], "5m", "USDT", Decimal(11000))
    return [c.slice(2000, 2600) for c in series]


def november_1m() -> list[Candles]:
    """The recorded November 2017 1-minute series, as it was recorded (priced in BTC)."""
    (series,) = [s for s in recorded_series() if s.timeframe == "1m"]
    return [load_recorded(series).slice(0, 1500)]


DATA_SETS = {"january_5m": (january_5m, "USDT"), "november_1m": (november_1m, "BTC")}


def trades(fills: list[FillRecord]) -> list[tuple[object, ...]]:
    return [(f.ts, f.symbol, f.side, f.qty, f.price, f.fee, f.fee_currency, f.purpose) for f in fills]


async def replayed(setup: TraderSetup, strategy_name: str, series: list[Candles], uow: SqlUnitOfWorkFactory):
    clock = SimClock(ms_to_datetime(min(int(c.ts[0]) for c in series)))
    feed = ReplayFeed(series, clock, warmup=WARMUP)
    runner = StrategyRunner([rule_strategy(strategy_name, series[0].timeframe)], clock)
    engine, _ = await assemble_trader(setup, uow, clock, feed, runner)
    await ReplayDriver(engine, feed, seconds_per_candle=0).run()
    async with uow() as work:
        return await work.fills.since(ms_to_datetime(0))


@pytest.mark.parametrize("data_set", list(DATA_SETS))
@pytest.mark.parametrize("strategy_name", list(RULES))
async def test_the_backtest_trades_exactly_as_the_replayed_paper_engine(
    strategy_name: str, data_set: str, uow: SqlUnitOfWorkFactory
) -> None:
    # Arrange
    load, quote = DATA_SETS[data_set]
    series = load()
    strategy = rule_strategy(strategy_name, series[0].timeframe)
    setup = TraderSetup(
        strategy=strategy.id,
        profile=DEFAULT_PROFILES[RiskProfileName.AGGRESSIVE],
        capital=Decimal(1000) if quote == "USDT" else Decimal("0.1"),
        markets=replay_markets(series, quote),
        quote=quote,
    )
    # Act
    backtest = await run_backtest(BacktestSpec(strategy, series, setup, warmup=WARMUP))
    replay = await replayed(setup, strategy_name, series, uow)
    # Assert
    assert trades(backtest.fills) == trades(replay)
    assert len(backtest.fills) >= 6
    assert backtest.steps < sum(len(c) for c in series) - WARMUP  # it did skip candles


TIGHT_EXITS = replace(
    DEFAULT_PROFILES[RiskProfileName.AGGRESSIVE],
    trailing_stop=Decimal("0.006"),
    trailing_activation=Decimal("0.004"),
    break_even_after=Decimal("0.003"),
    max_holding_hours=1,
)


@pytest.mark.parametrize("strategy_name", list(RULES))
async def test_trailing_stops_break_even_and_time_exits_agree_too(
    strategy_name: str, uow: SqlUnitOfWorkFactory
) -> None:
    # Arrange: stops that move soon after entry and a one-hour holding limit
    series = january_5m()
    strategy = rule_strategy(strategy_name, "5m")
    setup = TraderSetup(
        strategy=strategy.id,
        profile=TIGHT_EXITS,
        capital=Decimal(1000),
        markets=replay_markets(series, "USDT"),
        quote="USDT",
    )
    # Act
    backtest = await run_backtest(BacktestSpec(strategy, series, setup, warmup=WARMUP))
    replay = await replayed(setup, strategy_name, series, uow)
    # Assert
    assert trades(backtest.fills) == trades(replay)
    purposes = {f.purpose for f in backtest.fills}
    assert "time_exit" in purposes or strategy_name == "rsi_reversion"
    entries: dict[str, Decimal] = {}
    raised_stops = 0  # stops that filled at or above the entry: moved there by break-even or trailing
    for f in backtest.fills:
        if f.purpose == "entry":
            entries[f.symbol] = f.price
        elif f.purpose == "stop_loss" and f.price >= entries[f.symbol]:
            raised_stops += 1
    assert raised_stops >= 1
