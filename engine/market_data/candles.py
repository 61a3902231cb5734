"""Candle series as numpy arrays, loaded from the recorded data packaged with the product or a CSV file."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.domain.ids import Symbol
from engine.domain.money import to_decimal

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def timeframe_ms(timeframe: str) -> int:
    """'5m' -> 300000."""
    try:
        return int(timeframe[:-1]) * _UNITS_MS[timeframe[-1]]
    except (KeyError, ValueError):
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1m, 5m, 1h, 1d") from None


@dataclass(frozen=True, slots=True)
class Candles:
    """OHLCV on a regular time grid; `ts` is each candle's open time in ms since the epoch (UTC)."""

    symbol: Symbol
    timeframe: str
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def head(self, count: int) -> Candles:
        """The first `count` candles (a view, no copy)."""
        return self.slice(0, count)

    def slice(self, start: int, stop: int) -> Candles:
        return Candles(
            self.symbol,
            self.timeframe,
            self.ts[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
        )

    def price(self, array: FloatArray, index: int) -> Decimal:
        """An exact price: the arrays hold prices of at most 15 significant digits, which round-trip."""
        return to_decimal(float(array[index]))

    def between(self, start_ms: int | None, end_ms: int | None) -> Candles:
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.ts, end_ms, side="right"))
        return self.slice(lo, hi)


def fill_gaps(candles: Candles) -> Candles:
    """Put missing candles back on the grid as open = high = low = close = previous close, volume 0."""
    step = timeframe_ms(candles.timeframe)
    if len(candles) == 0:
        return candles
    grid = np.arange(candles.ts[0], candles.ts[-1] + step, step, dtype=np.int64)
    if grid.shape[0] == len(candles):
        return candles
    positions = ((candles.ts - candles.ts[0]) // step).astype(np.int64)
    present = np.zeros(grid.shape[0], dtype=bool)
    present[positions] = True
    last_seen = np.maximum.accumulate(np.where(present, np.arange(grid.shape[0]), 0))
    source = np.searchsorted(positions, last_seen)
    previous_close = candles.close[source]

    def spread(values: FloatArray, filler: FloatArray | float) -> FloatArray:
        out = np.empty(grid.shape[0], dtype=np.float64)
        out[:] = filler
        out[positions] = values
        return out

    return Candles(
        candles.symbol,
        candles.timeframe,
        grid,
        spread(candles.open, previous_close),
        spread(candles.high, previous_close),
        spread(candles.low, previous_close),
        spread(candles.close, previous_close),
        spread(candles.volume, 0.0),
    )


def read_csv(
    source: Path | io.TextIOBase,
    symbol: Symbol,
    timeframe: str,
    *,
    quote_rate: Decimal = Decimal(1),
    price_step: Decimal = Decimal("1e-8"),
) -> Candles:
    """Read `timestamp,open,high,low,close,volume` rows; prices are multiplied by `quote_rate` exactly."""
    handle = _open_text(source) if isinstance(source, Path) else source
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:6]] != [
            "timestamp",
            "open",
            "high",
            "low",
            "close",
            "volume",
        ]:
            raise ValueError("expected a header 'timestamp,open,high,low,close,volume'")
        rows = [row for row in reader if row]
    ts = np.array([int(float(row[0])) for row in rows], dtype=np.int64)
    columns = [_prices([row[i] for row in rows], quote_rate, price_step) for i in (1, 2, 3, 4)]
    volume = np.array([float(row[5]) for row in rows], dtype=np.float64)
    order = np.argsort(ts, kind="stable")
    return fill_gaps(Candles(symbol, timeframe, ts[order], *(c[order] for c in columns), volume[order]))


def _prices(texts: list[str], rate: Decimal, step: Decimal) -> FloatArray:
    if rate == 1:
        return np.array([float(t) for t in texts], dtype=np.float64)
    return np.array(
        [float(((to_decimal(t) * rate) / step).to_integral_value() * step) for t in texts], dtype=np.float64
    )


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class RecordedSeries:
    """One recorded data file packaged with the product."""

    symbol: Symbol  # as recorded, e.g. ETH/BTC
    timeframe: str
    filename: str


def recorded_series() -> list[RecordedSeries]:
    """Every recorded series packaged with the product."""
    found = []
    for entry in resources.files(__package__).joinpath("candles").iterdir():
        name = entry.name
        if not name.endswith(".csv.gz"):
            continue
        stem = name.removesuffix(".csv.gz")
        pair, _, timeframe = stem.rpartition("-")
        base, _, quote = pair.partition("_")
        found.append(RecordedSeries(Symbol(f"{base}/{quote}"), timeframe, name))
    return sorted(found, key=lambda s: (s.timeframe, s.symbol))


def load_recorded(
    series: RecordedSeries,
    *,
    quote: str | None = None,
    quote_rate: Decimal = Decimal(1),
    price_step: Decimal = Decimal("1e-8"),
) -> Candles:
    """Load a packaged series; with `quote`, re-quote it (e.g. BTC -> USDT at a fixed rate)."""
    base, _, recorded_quote = series.symbol.partition("/")
    symbol = Symbol(f"{base}/{quote or recorded_quote}")
    path = resources.files(__package__).joinpath("candles", series.filename)
    with resources.as_file(path) as real_path:
        return read_csv(Path(real_path), symbol, series.timeframe, quote_rate=quote_rate, price_step=price_step)
