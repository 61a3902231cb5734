"""Where an open position could next leave: the first candle at which any exit rule might trigger.

The backtest only runs the engine at candles where something can happen. For an open position that is
the first candle at which the monitor's exit rules (`risk.stops.evaluate_exits`: stop-loss, take-profit,
trailing stop, break-even, time) might fire — found by running those same rules over the coming candles at
once, each candle seen with the highest price before it and the stop the monitor would have moved to by
then. Levels are widened by a tick, so rounding can only make the search stop early (an extra engine step
that finds nothing), never late.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from engine.domain.positions import Position
from engine.market_data.candles import Candles, FloatArray
from risk.profiles import RiskProfile
from risk.stops import ExitReason, PositionArrays, evaluate_exits

_FIRST_WINDOW = 256
_MARGIN = 1e-9  # relative, on top of one tick: float views of decimal levels


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """One position's exit rules, as floats."""

    entry: float
    stop: float
    take_profit: float
    highest: float
    trailing_distance: float
    trailing_activation: float
    break_even_after: float
    opened_at: float  # seconds
    max_holding: float  # seconds, inf for none

    @classmethod
    def of(cls, position: Position, profile: RiskProfile | None) -> ExitPlan:
        nan = math.nan
        trailing = position.trailing_distance or (profile.trailing_stop if profile else None)
        return cls(
            entry=float(position.avg_entry),
            stop=_float(position.stop_price),
            take_profit=_float(position.take_profit),
            highest=float(position.highest_price),
            trailing_distance=_float(trailing),
            trailing_activation=float(profile.trailing_activation) if profile else nan,
            break_even_after=float(profile.break_even_after) if profile else nan,
            opened_at=position.opened_at.timestamp(),
            max_holding=profile.max_holding_hours * 3600.0 if profile else math.inf,
        )


def first_possible_exit(plan: ExitPlan, candles: Candles, start: int, step_seconds: float, tick: float) -> int | None:
    """The first candle index >= `start` at whose step an exit of this position could trigger, or None."""
    highest, stop = plan.highest, plan.stop
    size = _FIRST_WINDOW
    while start < len(candles):
        stop_at = min(start + size, len(candles))
        found, highest, stop = _search_window(plan, candles, start, stop_at, highest, stop, step_seconds, tick)
        if found is not None:
            return found
        start, size = stop_at, size * 4
    return None


def _search_window(
    plan: ExitPlan,
    candles: Candles,
    start: int,
    stop_at: int,
    highest: float,
    stop: float,
    step_seconds: float,
    tick: float,
) -> tuple[int | None, float, float]:
    high, low, close = candles.high[start:stop_at], candles.low[start:stop_at], candles.close[start:stop_at]
    now = candles.ts[start:stop_at] / 1000.0 + step_seconds  # each candle's step happens at its close
    before = np.maximum.accumulate(np.concatenate(([highest], high[:-1])))  # highest seen before each candle
    moved = evaluate_exits(_columns(plan, before, stop), high, low, close, now).stop  # the stop after each candle
    in_force = np.concatenate(([stop], moved[:-1]))
    widened = _columns(plan, before, in_force * (1 + _MARGIN) + tick, take_profit_margin=tick)
    reasons = evaluate_exits(widened, high, low, close, now).reason
    hits = np.flatnonzero(reasons != ExitReason.NONE)
    if hits.shape[0]:
        return start + int(hits[0]), highest, stop
    return None, float(max(highest, high.max())), float(np.fmax(stop, moved[-1]))


def _columns(
    plan: ExitPlan, highest: FloatArray, stop: FloatArray | float, take_profit_margin: float = 0.0
) -> PositionArrays:
    n = highest.shape[0]

    def column(value: float) -> FloatArray:
        return np.full(n, value)

    return PositionArrays(
        entry=column(plan.entry),
        stop=np.broadcast_to(stop, (n,)).astype(np.float64),
        take_profit=column(plan.take_profit * (1 - _MARGIN) - take_profit_margin),
        highest=highest,
        trailing_distance=column(plan.trailing_distance),
        trailing_activation=column(plan.trailing_activation),
        break_even_after=column(plan.break_even_after),
        opened_at=column(plan.opened_at),
        max_holding=column(plan.max_holding),
    )


def _float(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)
