"""The live feed: one per exchange, shared by every user.

Each poll asks the exchange for the latest prices of every symbol in one batched ticker request, and
gathers them into bars (open, extremes and last price since the last look) for the paper venue's
matching and the position monitor. When a candle has closed, its OHLCV row is fetched and appended, and
the strategies run on it exactly as on a replayed candle: `LiveDriver` hands each poll to
`TradingEngine.process_step`, as `ReplayDriver` does with each replayed candle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np
import structlog

from engine.clock import Clock
from engine.domain.ids import Symbol
from engine.domain.venue import PriceBar, Ticker
from engine.errors import BotError
from engine.market_data.candles import Candles, timeframe_ms
from engine.market_data.replay import MarketStep
from engine.ports import Candle, MarketDataSource

log = structlog.get_logger(__name__)

Step = Callable[[MarketStep, Callable[[Symbol], Candles]], Awaitable[object]]


class LiveFeed:
    """Implements `MarketFeed`: `last_price` and `take_bars`, plus the closed candles of each symbol."""

    def __init__(
        self,
        source: MarketDataSource,
        symbols: Sequence[Symbol],
        timeframe: str,
        clock: Clock,
        *,
        history: int = 200,
        settle_seconds: float = 2.0,
    ) -> None:
        self.symbols: list[Symbol] = list(symbols)
        self.timeframe = timeframe
        self._source = source
        self._clock = clock
        self._step_ms = timeframe_ms(timeframe)
        self._history = history
        self._settle_ms = int(settle_seconds * 1000)  # the exchange needs a moment to finish a candle
        self._prices: dict[Symbol, Decimal] = {}
        self._pending: dict[Symbol, PriceBar] = {}
        self._rows: dict[Symbol, list[Candle]] = {s: [] for s in self.symbols}
        self._candles: dict[Symbol, Candles] = {}

    # --- MarketFeed ----------------------------------------------------------------------------

    def last_price(self, symbol: Symbol) -> Decimal | None:
        return self._prices.get(symbol)

    def take_bars(self) -> dict[Symbol, PriceBar]:
        bars, self._pending = self._pending, {}
        return bars

    def candles(self, symbol: Symbol) -> Candles:
        """The closed candles of `symbol` so far."""
        cached = self._candles.get(symbol)
        if cached is None:
            cached = self._candles[symbol] = _as_candles(symbol, self.timeframe, self._rows[symbol])
        return cached

    # --- polling -------------------------------------------------------------------------------

    async def poll(self) -> MarketStep:
        """One look at the market: every price at once, then the candles that closed since the last look."""
        now = self._clock.now()
        for ticker in (await self._source.fetch_tickers(self.symbols)).values():
            self._see(ticker, now)
        closed = await self._fetch_closed(now)
        return MarketStep(now, closed, dict(self._pending))

    async def _fetch_closed(self, now: datetime) -> dict[Symbol, int]:
        newest_closed_open = self._newest_closed_open(now)
        behind = [s for s in self.symbols if not self._rows[s] or self._rows[s][-1][0] < newest_closed_open]
        fetched = await asyncio.gather(*(self._fetch(s, newest_closed_open) for s in behind))
        closed: dict[Symbol, int] = {}
        for symbol, rows in zip(behind, fetched, strict=True):
            if not rows:
                continue
            is_history = not self._rows[symbol]  # the first load only warms the strategies up: no trade on old news
            self._rows[symbol].extend(rows)
            self._candles.pop(symbol, None)
            if not is_history:
                closed[symbol] = len(self._rows[symbol]) - 1
        return closed

    async def _fetch(self, symbol: Symbol, newest_closed_open: int) -> list[Candle]:
        known = self._rows[symbol]
        since = known[-1][0] + self._step_ms if known else newest_closed_open - (self._history - 1) * self._step_ms
        limit = (newest_closed_open - since) // self._step_ms + 1
        try:
            rows = await self._source.fetch_ohlcv(symbol, self.timeframe, since, max(1, limit))
        except BotError as error:  # tried again at the next poll
            log.warning("feed.candles_failed", symbol=symbol, error=str(error))
            return []
        return [row for row in rows if since <= row[0] <= newest_closed_open]

    def _newest_closed_open(self, now: datetime) -> int:
        """The open time of the newest candle that has closed (and settled) at `now`."""
        now_ms = int(now.timestamp() * 1000) - self._settle_ms
        return (now_ms // self._step_ms) * self._step_ms - self._step_ms

    def _see(self, ticker: Ticker, now: datetime) -> None:
        price, earlier = ticker.last, self._pending.get(ticker.symbol)
        self._prices[ticker.symbol] = price
        self._pending[ticker.symbol] = PriceBar(
            symbol=ticker.symbol,
            open=earlier.open if earlier else price,
            high=max(earlier.high, price) if earlier else price,
            low=min(earlier.low, price) if earlier else price,
            last=price,
            ts=now,
        )


class LiveDriver:
    """Polls the live feed every `poll_seconds` and runs each look through the engine, until stopped."""

    def __init__(self, step: Step, feed: LiveFeed, poll_seconds: float) -> None:
        self._step = step
        self._feed = feed
        self._poll = poll_seconds
        self.polls = 0
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        log.info("feed.started", symbols=self._feed.symbols, timeframe=self._feed.timeframe)
        while not stop.is_set():
            try:
                step = await self._feed.poll()
                await self._step(step, self._feed.candles)
                self.polls += 1
            except BotError as error:  # the exchange is busy or away: the next poll tries again
                self.failures += 1
                log.warning("feed.poll_failed", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll)
        log.info("feed.stopped", polls=self.polls)


def _as_candles(symbol: Symbol, timeframe: str, rows: list[Candle]) -> Candles:
    def column(index: int) -> np.ndarray:
        return np.array([float(row[index]) for row in rows], dtype=np.float64)

    return Candles(
        symbol,
        timeframe,
        np.array([row[0] for row in rows], dtype=np.int64),
        column(1),
        column(2),
        column(3),
        column(4),
        column(5),
    )
