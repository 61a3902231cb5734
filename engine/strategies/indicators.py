"""Indicators that can resume: a continuation from a saved state gives bit-identical values to a full run.

Each function takes the values its state has not seen yet and returns one output per value plus the new
state. The arithmetic is done value by value in a fixed order, so the split point never changes a bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.market_data.candles import FloatArray


@dataclass(frozen=True, slots=True)
class EmaState:
    """Where an EMA left off: how many values it has seen, their running sum (for the seed), its last value."""

    period: int
    seen: int = 0
    seed_sum: float = 0.0
    value: float = math.nan


def ema(values: FloatArray, state: EmaState) -> tuple[FloatArray, EmaState]:
    """TA-Lib style EMA: NaN until `period` values, seeded with their mean, then alpha = 2 / (period + 1).

    `values` are the values not yet seen by `state`; the result has one EMA per value.
    """
    alpha = 2.0 / (state.period + 1)
    out = np.empty(values.shape[0], dtype=np.float64)
    seen, seed_sum, value, period = state.seen, state.seed_sum, state.value, state.period
    for i, x in enumerate(values.tolist()):
        seen += 1
        if seen < period:
            seed_sum += x
            out[i] = math.nan
        elif seen == period:
            seed_sum += x
            value = seed_sum / period
            out[i] = value
        else:
            value = (x - value) * alpha + value
            out[i] = value
    return out, EmaState(period, seen, seed_sum, value)


@dataclass(frozen=True, slots=True)
class WilderState:
    """Wilder's smoothing: a running sum while seeding, then the smoothed average."""

    period: int
    seen: int = 0
    value: float = 0.0


def wilder(values: FloatArray, state: WilderState) -> tuple[FloatArray, WilderState]:
    """NaN until `period` values, seeded with their mean, then (previous * (period - 1) + x) / period."""
    out = np.empty(values.shape[0], dtype=np.float64)
    seen, value, period = state.seen, state.value, state.period
    for i, x in enumerate(values.tolist()):
        seen += 1
        if seen < period:
            value += x
            out[i] = math.nan
        elif seen == period:
            value = (value + x) / period
            out[i] = value
        else:
            value = (value * (period - 1) + x) / period
            out[i] = value
    return out, WilderState(period, seen, value)


@dataclass(frozen=True, slots=True)
class RsiState:
    period: int
    previous: float = math.nan  # the last value seen (NaN before the first)
    gains: WilderState | None = None
    losses: WilderState | None = None


def rsi(values: FloatArray, state: RsiState) -> tuple[FloatArray, RsiState]:
    """Wilder's RSI as TA-Lib computes it (first value after `period` changes).

    One deliberate difference: a window with no movement at all reads 50 (neutral), where TA-Lib says 0,
    so that a flat, gap-filled stretch never looks oversold.
    """
    gains_state = state.gains or WilderState(state.period)
    losses_state = state.losses or WilderState(state.period)
    changes = np.diff(values, prepend=state.previous)
    if math.isnan(state.previous):  # the very first value has no change before it
        changes = changes[1:]
    gains, gains_state = wilder(np.where(changes > 0, changes, 0.0), gains_state)
    losses, losses_state = wilder(np.where(changes < 0, -changes, 0.0), losses_state)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, 100.0 * (gains / total), 50.0)
    ratio = np.where(np.isnan(total), math.nan, ratio)
    if math.isnan(state.previous) and values.shape[0]:
        ratio = np.concatenate(([math.nan], ratio))
    previous = float(values[-1]) if values.shape[0] else state.previous
    return ratio, RsiState(state.period, previous, gains_state, losses_state)


@dataclass(frozen=True, slots=True)
class AtrState:
    period: int
    previous_close: float = math.nan
    smoothing: WilderState | None = None


def atr(high: FloatArray, low: FloatArray, close: FloatArray, state: AtrState) -> tuple[FloatArray, AtrState]:
    """Wilder's average true range as TA-Lib computes it (first value after `period` true ranges)."""
    smoothing = state.smoothing or WilderState(state.period)
    previous = np.concatenate(([state.previous_close], close))[:-1]
    with np.errstate(invalid="ignore"):
        true_range = np.maximum(high - low, np.maximum(np.abs(high - previous), np.abs(low - previous)))
    has_previous = ~np.isnan(previous)
    out = np.full(close.shape[0], math.nan)
    out[has_previous], smoothing = wilder(true_range[has_previous], smoothing)
    previous_close = float(close[-1]) if close.shape[0] else state.previous_close
    return out, AtrState(state.period, previous_close, smoothing)


def rolling_extreme(tail: FloatArray, values: FloatArray, period: int, *, highest: bool) -> FloatArray:
    """For each of `values`, the max (or min) of the `period` values before it; `tail` holds what came earlier.

    NaN where fewer than `period` earlier values exist. Comparisons only, so it is exact.
    """
    joined = np.concatenate((tail, values))
    out = np.full(values.shape[0], math.nan)
    first = max(period - tail.shape[0], 0)  # the first new value with a full window behind it
    if first >= values.shape[0]:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(joined[:-1], period)
    extreme = windows.max(axis=1) if highest else windows.min(axis=1)
    out[first:] = extreme[tail.shape[0] + first - period :]
    return out


def keep_last(tail: FloatArray, values: FloatArray, count: int) -> FloatArray:
    """The last `count` values of `tail` followed by `values`, as a fresh array (for a state)."""
    joined = np.concatenate((tail, values))
    return joined[-count:].copy() if count else joined[:0].copy()


def last(values: FloatArray, default: float) -> float:
    """The last value, or `default` when there are none (a state that saw nothing new keeps its value)."""
    return float(values[-1]) if values.shape[0] else default
