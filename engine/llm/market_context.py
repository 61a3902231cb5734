"""What the LLM agent shows the model: a compact summary of the recent candles with indicators computed
locally (numpy), and the position the agent's followers hold. Numbers are rounded, so two markets that look
the same to a reader give the same text, and the same cache key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from engine.domain.ids import Symbol
from engine.market_data.candles import Candles
from engine.strategies.indicators import AtrState, EmaState, RsiState, atr, ema, rsi

RECENT = 8  # candles shown one by one


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """The agent's position in a symbol, over all its followers."""

    holders: int
    average_entry: Decimal


@dataclass(frozen=True, slots=True)
class MarketContext:
    symbol: Symbol
    timeframe: str
    text: str  # the JSON the model reads
    price: Decimal  # the last close
    candle_ts: int  # open time (ms) of the last closed candle
    is_held: bool

    def key(self, model: str) -> str:
        """Identical contexts for the same model share a key (the answer cache)."""
        return hashlib.sha256(f"{model}\n{self.text}".encode()).hexdigest()


def summarize(candles: Candles, position: HeldPosition | None, count: int) -> MarketContext:
    """Summarise the last `count` candles (fewer if fewer exist)."""
    window = candles.slice(max(0, len(candles) - count), len(candles))
    close = window.close
    last = float(close[-1])
    document = {
        "symbol": window.symbol,
        "timeframe": window.timeframe,
        "price": _price(last),
        "change_pct": _changes(close, window.timeframe),
        "range": {
            "candles": len(window),
            "high": _price(float(window.high.max())),
            "low": _price(float(window.low.min())),
            "position_in_range": _round(_position(last, float(window.low.min()), float(window.high.max())), 2),
        },
        "indicators": _indicators(window),
        "recent_candles_ohlcv": [
            [_price(o), _price(h), _price(lo), _price(c), _round(v, 0)]
            for o, h, lo, c, v in zip(*(a[-RECENT:].tolist() for a in _columns(window)), strict=True)
        ],
        "position": _position_summary(position, last),
    }
    text = json.dumps(document, separators=(",", ":"))
    price = window.price(close, len(window) - 1)
    return MarketContext(window.symbol, window.timeframe, text, price, int(window.ts[-1]), position is not None)


def _columns(window: Candles) -> tuple[np.ndarray, ...]:
    return window.open, window.high, window.low, window.close, window.volume


def _changes(close: np.ndarray, timeframe: str) -> dict[str, float]:
    per_hour = {"1m": 60, "5m": 12, "15m": 4, "1h": 1}.get(timeframe, 1)
    changes = {}
    for label, candles in (("last_candle", 1), ("1h", per_hour), ("4h", 4 * per_hour), ("window", len(close) - 1)):
        if 0 < candles < len(close):
            changes[label] = _round((float(close[-1]) / float(close[-1 - candles]) - 1) * 100, 2)
    return changes


def _indicators(window: Candles) -> dict[str, float | None]:
    close = window.close
    fast, _ = ema(close, EmaState(12))
    slow, _ = ema(close, EmaState(26))
    strength, _ = rsi(close, RsiState(14))
    ranges, _ = atr(window.high, window.low, close, AtrState(14))
    last = float(close[-1])
    returns = np.diff(close) / close[:-1] if len(close) > 1 else np.zeros(1)
    volume_average = float(window.volume[-21:-1].mean()) if len(window) > 21 else float("nan")
    return {
        "rsi14": _round(float(strength[-1]), 1),
        "ema12": _price(float(fast[-1])),
        "ema26": _price(float(slow[-1])),
        "ema12_above_ema26_pct": _round((float(fast[-1]) / float(slow[-1]) - 1) * 100, 2),
        "atr14_pct_of_price": _round(float(ranges[-1]) / last * 100, 2),
        "volatility_pct_per_candle": _round(float(np.std(returns)) * 100, 2),
        "volume_vs_20_candle_average": _round(float(window.volume[-1]) / volume_average, 2)
        if volume_average > 0
        else None,
    }


def _position_summary(position: HeldPosition | None, last: float) -> dict[str, object]:
    if position is None:
        return {"held": False}
    entry = float(position.average_entry)
    return {"held": True, "average_entry": _price(entry), "pnl_pct": _round((last / entry - 1) * 100, 1)}


def _position(value: float, low: float, high: float) -> float:
    return (value - low) / (high - low) if high > low else 0.5


def _price(value: float) -> float | None:
    return float(f"{value:.5g}") if np.isfinite(value) else None


def _round(value: float, digits: int) -> float | None:
    return round(value, digits) if np.isfinite(value) else None
