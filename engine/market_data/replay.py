"""The replay feed: recorded candles played back on a simulated clock, as if the market were live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from engine.clock import SimClock
from engine.domain.ids import Symbol
from engine.domain.money import to_decimal
from engine.domain.venue import PriceBar
from engine.market_data.candles import Candles, timeframe_ms


@dataclass(frozen=True, slots=True)
class MarketStep:
    """One tick of market time: the candles that just closed, and the bars they made."""

    ts: datetime  # the close time of the candles
    closed: dict[Symbol, int]  # symbol -> index of the candle that just closed
    bars: dict[Symbol, PriceBar]


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class ReplayFeed:
    """Plays several symbols of one timeframe in step; the price after a close is the next candle's open."""

    def __init__(
        self, series: Sequence[Candles], clock: SimClock, *, warmup: int = 0, resume_ms: int | None = None
    ) -> None:
        if not series:
            raise ValueError("a replay needs at least one series")
        timeframes = {c.timeframe for c in series}
        if len(timeframes) != 1:
            raise ValueError(f"all replayed series must share one timeframe, got {sorted(timeframes)}")
        self.timeframe = series[0].timeframe
        self._step_ms = timeframe_ms(self.timeframe)
        self._series = {c.symbol: c for c in series}
        self.symbols: list[Symbol] = list(self._series)
        self._start_ms = min(int(c.ts[0]) for c in series)
        self._end_ms = max(int(c.ts[-1]) for c in series)
        self._next_open_ms = self._start_ms + warmup * self._step_ms  # open time of the next candle to close
        if resume_ms is not None:  # continue where an earlier run of the process stopped
            self._next_open_ms = max(self._next_open_ms, resume_ms)
        self._closed_count = {s: self._count_closed(c, self._next_open_ms) for s, c in self._series.items()}
        self._pending: dict[Symbol, PriceBar] = {}
        self._clock = clock
        clock.set(max(clock.now(), ms_to_datetime(self._next_open_ms)))

    @property
    def is_finished(self) -> bool:
        return self._next_open_ms > self._end_ms

    @property
    def end_ms(self) -> int:
        """The open time of the last candle of any series."""
        return self._end_ms

    @property
    def cursor_ms(self) -> int:
        """The open time of the next candle to close: where a restarted replay continues."""
        return self._next_open_ms

    @property
    def progress(self) -> tuple[int, int]:
        done = (self._next_open_ms - self._start_ms) // self._step_ms
        total = (self._end_ms - self._start_ms) // self._step_ms + 1
        return min(done, total), total

    def candles(self, symbol: Symbol) -> Candles:
        """The closed candles of `symbol` so far (a view)."""
        return self._series[symbol].head(self._closed_count[symbol])

    def full_series(self, symbol: Symbol) -> Candles:
        return self._series[symbol]

    def last_price(self, symbol: Symbol) -> Decimal | None:
        series = self._series.get(symbol)
        if series is None:
            return None
        closed = self._closed_count[symbol]
        if closed < len(series):
            return series.price(series.open, closed)  # the market has moved on to the next candle's open
        return series.price(series.close, closed - 1) if closed else None

    def take_bars(self) -> dict[Symbol, PriceBar]:
        bars, self._pending = self._pending, {}
        return bars

    def advance(self) -> MarketStep | None:
        """Close the next candle of every symbol that has one; move the clock to its close time."""
        while not self.is_finished:
            open_ms = self._next_open_ms
            self._next_open_ms += self._step_ms
            step = self._close_candles(open_ms)
            if step is not None:
                return step
        return None

    def skip_to(self, open_ms: int) -> None:
        """Close every candle that opens before `open_ms` at once, without a step: each symbol's skipped candles
        join its pending bar as one (first open, highest high, lowest low, last close, summed volume), so the next
        step's bars cover them. For a driver that knows nothing can happen on those candles (the backtest)."""
        if open_ms <= self._next_open_ms:
            return
        for symbol, series in self._series.items():
            first = self._closed_count[symbol]
            stop = self._count_closed(series, open_ms)
            if stop > first:
                close_time = ms_to_datetime(int(series.ts[stop - 1]) + self._step_ms)
                self._pending[symbol] = _merge(self._pending.get(symbol), _span_bar(series, first, stop, close_time))
                self._closed_count[symbol] = stop
        self._next_open_ms = min(open_ms, self._end_ms + self._step_ms)

    def _close_candles(self, open_ms: int) -> MarketStep | None:
        close_time = ms_to_datetime(open_ms + self._step_ms)
        closed: dict[Symbol, int] = {}
        bars: dict[Symbol, PriceBar] = {}
        for symbol, series in self._series.items():
            index = self._closed_count[symbol]
            if index < len(series) and int(series.ts[index]) == open_ms:
                closed[symbol] = index
                bars[symbol] = _bar(series, index, close_time)
                self._closed_count[symbol] = index + 1
        if not closed:
            return None
        self._clock.set(close_time)
        for symbol, bar in bars.items():
            self._pending[symbol] = _merge(self._pending.get(symbol), bar)
        return MarketStep(close_time, closed, bars)

    def _count_closed(self, series: Candles, next_open_ms: int) -> int:
        return int(np.searchsorted(series.ts, next_open_ms, side="left"))


def _bar(series: Candles, index: int, ts: datetime) -> PriceBar:
    return PriceBar(
        symbol=series.symbol,
        open=series.price(series.open, index),
        high=series.price(series.high, index),
        low=series.price(series.low, index),
        last=series.price(series.close, index),
        ts=ts,
        volume=series.price(series.volume, index),
    )


def _span_bar(series: Candles, start: int, stop: int, ts: datetime) -> PriceBar:
    """Candles start..stop-1 of `series` as one bar."""
    return PriceBar(
        symbol=series.symbol,
        open=series.price(series.open, start),
        high=to_decimal(float(series.high[start:stop].max())),
        low=to_decimal(float(series.low[start:stop].min())),
        last=series.price(series.close, stop - 1),
        ts=ts,
        volume=to_decimal(float(series.volume[start:stop].sum())),
    )


def _merge(earlier: PriceBar | None, later: PriceBar) -> PriceBar:
    if earlier is None:
        return later
    return PriceBar(
        symbol=later.symbol,
        open=earlier.open,
        high=max(earlier.high, later.high),
        low=min(earlier.low, later.low),
        last=later.last,
        ts=later.ts,
        volume=None if earlier.volume is None or later.volume is None else earlier.volume + later.volume,
    )
