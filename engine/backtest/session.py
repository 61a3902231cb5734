"""A backtest as a person asks for it: a strategy, symbols, a period, a profile and capital, on the recorded
candles or an OHLCV CSV file; answered with the run, its equity curve, its round trips and the summary."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from engine.backtest.assembly import TraderSetup
from engine.backtest.driver import Progress
from engine.backtest.metrics import EquityCurve, RoundTrip, Summary, equity_curve, round_trips, summarize
from engine.backtest.runner import BacktestRun, BacktestSpec, run_backtest
from engine.domain.enums import RiskProfileName
from engine.domain.ids import Symbol, split_symbol
from engine.errors import ConfigurationError
from engine.market_data.candles import Candles, read_csv, timeframe_ms
from engine.market_data.recorded_markets import load_replay_series, replay_markets
from engine.market_data.replay import ms_to_datetime
from engine.paper_matching import FillModel
from engine.strategies.catalog import rule_strategy
from risk.profiles import DEFAULT_PROFILES, RiskProfile

MIN_WARMUP_CANDLES = 200  # history every strategy sees before the first traded candle (indicators settle)
REPLAY_RATE = Decimal(11000)  # the recorded BTC prices in USDT, as the demo shows them


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    strategy: str
    symbols: tuple[str, ...]
    timeframe: str = "5m"
    start: datetime | None = None
    end: datetime | None = None
    profile: RiskProfileName = RiskProfileName.MODERATE
    capital: Decimal = Decimal(1000)
    data: Path | None = None  # an OHLCV CSV file (one symbol), or a folder of BASE_QUOTE-TIMEFRAME.csv[.gz]
    fill_model: FillModel = field(default_factory=FillModel)
    days: int | None = None  # the last `days` days of the data (instead of `start` and `end`)
    risk_profile: RiskProfile | None = None  # a custom profile instead of the named one


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    run: BacktestRun
    curve: EquityCurve
    trips: list[RoundTrip]
    summary: Summary

    @property
    def title(self) -> str:
        spec = self.run.spec
        symbols = ", ".join(c.symbol for c in spec.series)
        return f"{spec.strategy.id} on {symbols} ({spec.series[0].timeframe}), {spec.trader.profile.name.value}"


async def backtest(request: BacktestRequest, on_progress: Progress | None = None) -> BacktestOutcome:
    """Run the backtest a request describes; bad requests raise ValueError with a sentence for the person."""
    run = await run_backtest(prepare(request), on_progress)
    curve = equity_curve(run)
    trips = round_trips(run)
    return BacktestOutcome(run, curve, trips, summarize(run, curve, trips))


def backtest_blocking(request: BacktestRequest) -> BacktestOutcome:
    """`backtest` on its own event loop: for a worker process."""
    return asyncio.run(backtest(request))


def prepare(request: BacktestRequest) -> BacktestSpec:
    try:
        strategy = rule_strategy(request.strategy, request.timeframe)
        step = timeframe_ms(request.timeframe)
    except ValueError as error:
        raise ValueError(str(error)) from None
    if request.capital <= 0:
        raise ValueError("the capital must be more than zero")
    quotes = {split_symbol(Symbol(s))[1] for s in request.symbols}
    if len(quotes) != 1:
        raise ValueError("all symbols must share one quote currency, e.g. ETH/USDT and LTC/USDT")
    quote = quotes.pop()
    series = _load(request, quote)
    start, end = request.start, request.end
    if request.days is not None:
        if request.days < 1:
            raise ValueError("the number of days must be at least 1")
        end = ms_to_datetime(max(int(c.ts[-1]) for c in series) + step)
        start = end - timedelta(days=request.days)
    warmup_candles = max(strategy.warmup, MIN_WARMUP_CANDLES)
    series, warmup = _window(series, start, end, warmup_candles, step)
    profile = request.risk_profile or DEFAULT_PROFILES[request.profile]
    trader = TraderSetup(
        strategy=strategy.id,
        profile=profile,
        capital=request.capital,
        markets=replay_markets(series, quote),
        quote=quote,
        fill_model=request.fill_model,
    )
    return BacktestSpec(strategy, series, trader, warmup)


def _load(request: BacktestRequest, quote: str) -> list[Candles]:
    symbols = [Symbol(s) for s in request.symbols]
    if request.data is None:
        rate = Decimal(1) if quote == "BTC" else REPLAY_RATE
        try:
            return load_replay_series(symbols, request.timeframe, quote, rate)
        except ConfigurationError as error:
            raise ValueError(str(error)) from None
    if request.data.is_file():
        if len(symbols) != 1:
            raise ValueError("a CSV file holds one symbol: give exactly one with it, or a folder of files")
        return [_read(request.data, symbols[0], request.timeframe)]
    if not request.data.is_dir():
        raise ValueError(f"no such file or folder: {request.data}")
    loaded = []
    for symbol in symbols:
        stem = f"{symbol.replace('/', '_')}-{request.timeframe}"
        found = [p for p in (request.data / f"{stem}.csv", request.data / f"{stem}.csv.gz") if p.is_file()]
        if not found:
            raise ValueError(f"no {stem}.csv or {stem}.csv.gz in {request.data}")
        loaded.append(_read(found[0], symbol, request.timeframe))
    return loaded


def _read(path: Path, symbol: Symbol, timeframe: str) -> Candles:
    try:
        candles = read_csv(path, symbol, timeframe)
    except (ValueError, IndexError, OSError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if len(candles) == 0:
        raise ValueError(f"{path} has no candles")
    return candles


def _window(
    series: Sequence[Candles], start: datetime | None, end: datetime | None, warmup: int, step: int
) -> tuple[list[Candles], int]:
    """The candles from `warmup` candles before `start` to `end`, and how many of them only warm up."""
    start_ms = None if start is None else int(start.timestamp() * 1000)
    end_ms = None if end is None else int(end.timestamp() * 1000) - step  # the last candle closes by `end`
    cut = [c.between(None if start_ms is None else start_ms - warmup * step, end_ms) for c in series]
    if any(len(c) == 0 for c in cut):
        raise ValueError("no candles in that period")
    first = min(int(c.ts[0]) for c in cut)
    trading_from = max(first + warmup * step, start_ms or first)
    last = max(int(c.ts[-1]) for c in cut)
    if trading_from > last:
        raise ValueError(f"the period is too short: the strategy needs {warmup} candles of history before it")
    return cut, (trading_from - first) // step
