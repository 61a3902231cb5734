"""Where an open position could next leave: the first candle at which any exit rule might trigger.

The backtest only runs the engine at candles where something can happen. For an open position that is
the first candle at which the monitor's exit rules (`risk.stops.evaluate_exits`: stop-loss, take-profit,
trailing stop, break-even, time) might fire — found by running those same rules over the coming candles at
once, each candle seen with the highest price before it and the stop the monitor would have moved to by
then. Levels are widened by a tick, so rounding can only make the search stop early (an extra engine step
that finds nothing), never late.

A search also forecasts how the position evolves until then (its highest price and its stop before each
candle). While the position, as stored, is where the forecast said it would be, the answer stands and is
not searched again.
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

    @property
    def rules(self) -> tuple[float, ...]:
        """What does not move while the position is held (the highest price and the stop do)."""
        return (
            self.entry,
            self.take_profit,
            self.trailing_distance,
            self.trailing_activation,
            self.break_even_after,
            self.opened_at,
            self.max_holding,
        )


@dataclass(frozen=True, slots=True)
class ExitForecast:
    """The first candle where an exit could trigger (None: none in the candles searched), searched from `start`,
    with the highest price and the stop the position should have before each candle searched (up to the hit)."""

    start: int
    index: int | None
    highest: FloatArray
    stop: FloatArray
    until: int  # the candles searched end here (exclusive)

    def holds_for(self, plan: ExitPlan, start: int, until: int, tick: float) -> bool:
        """Is this still the answer for `plan` searched from `start` to `until` (the position evolved as
        forecast, and the search covered those candles)?"""
        offset = start - self.start
        if offset < 0 or offset >= self.highest.shape[0] or (self.index is not None and start > self.index):
            return False
        if self.index is None and self.until < until:
            return False
        expected_stop = float(self.stop[offset])
        same_stop = (math.isnan(plan.stop) and math.isnan(expected_stop)) or abs(plan.stop - expected_stop) <= tick
        return same_stop and plan.highest == float(self.highest[offset])


def forecast_exit(
    plan: ExitPlan, candles: Candles, start: int, step_seconds: float, tick: float, until: int | None = None
) -> ExitForecast:
    """Search from candle `start` for the first one at whose step an exit of this position could trigger: at
    least up to `until` (exclusive; the end of the data by default), in windows of growing size."""
    highest, stop = plan.highest, plan.stop
    size = _FIRST_WINDOW
    highs: list[FloatArray] = []
    stops: list[FloatArray] = []
    at, wanted = start, len(candles) if until is None else min(until, len(candles))
    found = None
    while at < len(candles) and (at < wanted or not highs):
        end = min(at + size, len(candles))
        found, before, in_force, stop = _search_window(plan, candles, at, end, highest, stop, step_seconds, tick)
        highs.append(before)
        stops.append(in_force)
        if found is not None:
            break
        highest = float(max(before[-1], candles.high[end - 1]))
        at, size = end, size * 4
    empty = np.empty(0)
    return ExitForecast(
        start, found, np.concatenate(highs) if highs else empty, np.concatenate(stops) if stops else empty, at
    )


def first_possible_exit(plan: ExitPlan, candles: Candles, start: int, step_seconds: float, tick: float) -> int | None:
    """The first candle index >= `start` at whose step an exit of this position could trigger, or None."""
    return forecast_exit(plan, candles, start, step_seconds, tick).index


__all__ = ["ExitForecast", "ExitPlan", "first_possible_exit", "forecast_exit"]


def _search_window(
    plan: ExitPlan,
    candles: Candles,
    start: int,
    end: int,
    highest: float,
    stop: float,
    step_seconds: float,
    tick: float,
) -> tuple[int | None, FloatArray, FloatArray, float]:
    """The first hit in candles start..end-1 (or None), the highest price and the stop in force before each
    candle (up to the hit), and the stop after the last candle."""
    high, low, close = candles.high[start:end], candles.low[start:end], candles.close[start:end]
    now = candles.ts[start:end] / 1000.0 + step_seconds  # each candle's step happens at its close
    before = np.maximum.accumulate(np.concatenate(([highest], high[:-1])))  # highest seen before each candle
    moved = evaluate_exits(_columns(plan, before, stop), high, low, close, now).stop  # the stop after each candle
    in_force = np.concatenate(([stop], moved[:-1]))
    widened = _columns(plan, before, in_force * (1 + _MARGIN) + tick, take_profit_margin=tick)
    reasons = evaluate_exits(widened, high, low, close, now).reason
    hits = np.flatnonzero(reasons != ExitReason.NONE)
    if hits.shape[0]:
        last = int(hits[0]) + 1
        return start + int(hits[0]), before[:last], in_force[:last], stop
    return None, before, in_force, float(np.fmax(stop, moved[-1]))


def _columns(
    plan: ExitPlan, highest: FloatArray, stop: FloatArray | float, take_profit_margin: float = 0.0
) -> PositionArrays:
    """The plan as columns over candles; what does not change from candle to candle stays a scalar (numpy
    broadcasts it)."""
    scalar = np.float64
    return PositionArrays(
        entry=scalar(plan.entry),  # type: ignore[arg-type]
        stop=np.broadcast_to(np.asarray(stop, dtype=np.float64), highest.shape),
        take_profit=scalar(plan.take_profit * (1 - _MARGIN) - take_profit_margin),  # type: ignore[arg-type]
        highest=highest,
        trailing_distance=scalar(plan.trailing_distance),  # type: ignore[arg-type]
        trailing_activation=scalar(plan.trailing_activation),  # type: ignore[arg-type]
        break_even_after=scalar(plan.break_even_after),  # type: ignore[arg-type]
        opened_at=scalar(plan.opened_at),  # type: ignore[arg-type]
        max_holding=scalar(plan.max_holding),  # type: ignore[arg-type]
    )


def _float(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)
