"""Indicators that can resume: a continuation from a saved state gives bit-identical values to a full run."""

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
