"""The backtest's exit search finds the candle where the monitor's exit rules, applied candle by candle, first
fire — never later (it may only stop early, by design, when levels sit within a tick)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.exit_search import ExitPlan, first_possible_exit, forecast_exit
from engine.market_data.candles import Candles, load_recorded, recorded_series
from risk.stops import ExitReason, PositionArrays, evaluate_exits

STEP_SECONDS = 300.0


def eth() -> Candles:
    return load_recorded(next(s for s in recorded_series() if s.symbol == "ETH/BTC"))


CANDLES = eth()


def candle_by_candle(plan: ExitPlan, candles: Candles, start: int) -> int | None:
    """What the monitor does: one pass per candle, the stop moved after each pass that found no exit."""
    highest, stop = plan.highest, plan.stop
    for i in range(start, len(candles)):

        def one(value: float) -> np.ndarray:
            return np.array([value])

        arrays = PositionArrays(
            entry=one(plan.entry),
            stop=one(stop),
            take_profit=one(plan.take_profit),
            highest=one(highest),
            trailing_distance=one(plan.trailing_distance),
            trailing_activation=one(plan.trailing_activation),
            break_even_after=one(plan.break_even_after),
            opened_at=one(plan.opened_at),
            max_holding=one(plan.max_holding),
        )
        now = candles.ts[i] / 1000 + STEP_SECONDS
        verdict = evaluate_exits(arrays, candles.high[i : i + 1], candles.low[i : i + 1], candles.close[i : i + 1], now)
        if verdict.reason[0] != ExitReason.NONE:
            return i
        highest, stop = float(verdict.highest[0]), float(np.fmax(stop, verdict.stop[0]))
    return None


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=len(CANDLES) - 2),
    stop_distance=st.sampled_from([math.nan, 0.005, 0.02, 0.05]),
    target_distance=st.sampled_from([math.nan, 0.01, 0.04]),
    trailing=st.sampled_from([math.nan, 0.01, 0.03]),
    activation=st.sampled_from([0.0, 0.01, 0.03]),
    break_even=st.sampled_from([math.nan, 0.005, 0.02]),
    hold_hours=st.sampled_from([math.inf, 2.0, 48.0]),
)
def test_the_search_finds_the_first_candle_the_monitor_would_exit_on(
    start: int,
    stop_distance: float,
    target_distance: float,
    trailing: float,
    activation: float,
    break_even: float,
    hold_hours: float,
) -> None:
    entry = float(CANDLES.open[start])
    plan = ExitPlan(
        entry=entry,
        stop=entry * (1 - stop_distance),
        take_profit=entry * (1 + target_distance),
        highest=entry,
        trailing_distance=trailing,
        trailing_activation=activation,
        break_even_after=break_even,
        opened_at=CANDLES.ts[start] / 1000,
        max_holding=hold_hours * 3600,
    )
    expected = candle_by_candle(plan, CANDLES, start)
    assert first_possible_exit(plan, CANDLES, start, STEP_SECONDS, tick=0.0) == expected
    widened = first_possible_exit(plan, CANDLES, start, STEP_SECONDS, tick=1e-8)
    assert expected is None or (widened is not None and widened <= expected)


def test_a_forecast_holds_while_the_position_evolves_as_it_said_and_not_after_a_change() -> None:
    start = 1000
    entry = float(CANDLES.open[start])
    plan = ExitPlan(
        entry=entry,
        stop=entry * 0.97,
        take_profit=math.nan,
        highest=entry,
        trailing_distance=0.01,
        trailing_activation=0.005,
        break_even_after=math.nan,
        opened_at=CANDLES.ts[start] / 1000,
        max_holding=math.inf,
    )
    forecast = forecast_exit(plan, CANDLES, start, STEP_SECONDS, tick=1e-8)
    assert forecast.index is not None and forecast.index > start + 2
    later = start + 2
    evolved = ExitPlan(
        **{
            **{name: getattr(plan, name) for name in plan.__slots__},
            "highest": float(forecast.highest[2]),
            "stop": float(forecast.stop[2]),
        }
    )
    assert forecast.holds_for(evolved, later, later + 1, tick=1e-8)
    moved = ExitPlan(**{**{name: getattr(evolved, name) for name in plan.__slots__}, "stop": evolved.stop * 0.9})
    assert not forecast.holds_for(moved, later, later + 1, tick=1e-8)
    assert not forecast.holds_for(evolved, forecast.index + 1, forecast.index + 2, tick=1e-8)


@pytest.mark.parametrize("hold_hours", [1.0, 5.0])
def test_a_time_exit_is_found_at_the_first_step_past_the_holding_time(hold_hours: float) -> None:
    start = 200
    entry = float(CANDLES.open[start])
    opened = datetime.fromtimestamp(CANDLES.ts[start] / 1000, tz=UTC).timestamp()
    plan = ExitPlan(entry, math.nan, math.nan, entry, math.nan, 0.0, math.nan, opened, hold_hours * 3600)
    found = first_possible_exit(plan, CANDLES, start, STEP_SECONDS, tick=1e-8)
    assert found == start + int(hold_hours * 12) - 1  # the step at that candle's close is hold_hours after opening
