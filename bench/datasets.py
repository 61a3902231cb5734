"""Benchmark data sets built from the recorded candles, deterministically.

`one_year(symbols=5)` makes a year of 5-minute candles per symbol (105,120 each) by chaining whole recorded
days in a seeded shuffled order: each candle keeps its recorded open/high/low/close relative to the previous
close and its volume, so the moves are real and the result is the same on every machine.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.domain.ids import Symbol
from engine.market_data.candles import Candles, load_recorded, recorded_series

CANDLES_PER_DAY = 288
DAYS = 365
START = datetime(2019, 1, 1, tzinfo=UTC)
SEED = 20180110


def recorded_5m() -> list[Candles]:
    return [load_recorded(s) for s in recorded_series() if s.timeframe == "5m"]


def one_year(symbols: int = 5, seed: int = SEED) -> list[Candles]:
    sources = recorded_5m()[:symbols]
    rng = np.random.default_rng(seed)
    return [_chain_days(source, rng) for source in sources]


def _chain_days(source: Candles, rng: np.random.Generator) -> Candles:
    days = len(source) // CANDLES_PER_DAY
    previous_close = np.concatenate(([source.open[0]], source.close[:-1]))
    relative = np.stack([source.open, source.high, source.low, source.close]) / previous_close
    order = rng.integers(0, days, size=DAYS)
    picks = np.concatenate([np.arange(d * CANDLES_PER_DAY, (d + 1) * CANDLES_PER_DAY) for d in order])
    steps = relative[:, picks]
    closes = source.close[0] * np.cumprod(steps[3])
    anchors = np.concatenate(([source.close[0]], closes[:-1]))
    ohlc = np.round(steps * anchors, 8)  # on the 1e-8 tick, as the recorded data; repr stays short
    ohlc[1] = np.maximum(ohlc[1], np.maximum(ohlc[0], ohlc[3]))  # rounding must not break high >= open, close
    ohlc[2] = np.minimum(ohlc[2], np.minimum(ohlc[0], ohlc[3]))
    start_ms = int(START.timestamp() * 1000)
    ts = start_ms + np.arange(picks.shape[0], dtype=np.int64) * 300_000
    return Candles(Symbol(source.symbol), "5m", ts, ohlc[0], ohlc[1], ohlc[2], ohlc[3], source.volume[picks])


def write_csv(candles: Candles, path: Path) -> Path:
    """Write in the product's CSV format (what `tradebot backtest --data` reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
        for row in ohlcv_rows(candles):
            writer.writerow([row[0], *(f"{v:.8f}" for v in row[1:5]), f"{row[5]:.8f}"])
    return path


def ohlcv_rows(candles: Candles) -> list[tuple[int, float, float, float, float, float]]:
    """(open time ms, open, high, low, close, volume) per candle, as Python numbers."""
    return list(
        zip(
            candles.ts.tolist(),
            candles.open.tolist(),
            candles.high.tolist(),
            candles.low.tolist(),
            candles.close.tolist(),
            candles.volume.tolist(),
            strict=True,
        )
    )
