"""Exit rules for every open position at once, vectorised: stop-loss, take-profit, trailing stop, break-even, time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


class ExitReason(IntEnum):
    NONE = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TIME = 3


@dataclass(frozen=True, slots=True)
class PositionArrays:
    """Open positions as columns; NaN means "not set" (no stop, no take-profit, no trailing)."""

    entry: Floats
    stop: Floats
    take_profit: Floats
    highest: Floats
    trailing_distance: Floats  # fraction below the highest price
    trailing_activation: Floats  # gain from entry before trailing starts
    break_even_after: Floats  # gain from entry after which the stop goes to the entry
    opened_at: Floats  # seconds since the epoch
    max_holding: Floats  # seconds; inf for none


@dataclass(frozen=True, slots=True)
class ExitVerdicts:
    reason: npt.NDArray[np.int8]  # ExitReason per position
    trigger_price: Floats  # the level that was crossed (or the last price for time exits)
    highest: Floats  # highest price seen, updated with this bar
    stop: Floats  # the stop after trailing and break-even moves
    stop_moved: npt.NDArray[np.bool_]


def evaluate_exits(positions: PositionArrays, high: Floats, low: Floats, last: Floats, now: float) -> ExitVerdicts:
    """Judge every position against the bar its symbol made since the last pass (`high`, `low`, `last`)."""
    with np.errstate(invalid="ignore"):
        highest = np.fmax(positions.highest, high)
        stop = _moved_stop(positions, highest)
        stop_hit = low <= positions.stop  # the stop in force during the bar, not the one it moves to
        take_hit = high >= positions.take_profit
        timed_out = (now - positions.opened_at) >= positions.max_holding
    reason = np.select(
        [stop_hit, take_hit, timed_out],
        [ExitReason.STOP_LOSS, ExitReason.TAKE_PROFIT, ExitReason.TIME],
        default=ExitReason.NONE,
    ).astype(np.int8)
    trigger = np.select([stop_hit, take_hit], [positions.stop, positions.take_profit], default=last)
    moved = (reason == ExitReason.NONE) & (stop > np.nan_to_num(positions.stop, nan=-np.inf))
    return ExitVerdicts(reason, trigger, highest, stop, moved)


def _moved_stop(positions: PositionArrays, highest: Floats) -> Floats:
    """Trailing stops follow the highest price once active; break-even lifts the stop to the entry."""
    gain = highest / positions.entry - 1.0
    trailing_active = gain >= np.nan_to_num(positions.trailing_activation, nan=0.0)
    trailing_level = np.where(trailing_active, highest * (1.0 - positions.trailing_distance), np.nan)
    break_even_level = np.where(gain >= positions.break_even_after, positions.entry, np.nan)
    return np.fmax(positions.stop, np.fmax(trailing_level, break_even_level))
