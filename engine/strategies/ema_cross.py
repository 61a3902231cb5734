"""EMA crossover: enter long when the fast EMA crosses above the slow one, leave when it crosses below."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.domain.ids import StrategyId
from engine.market_data.candles import Candles
from engine.strategies.base import ENTER, EXIT, NOTHING, SignalArray
from engine.strategies.indicators import EmaState, ema


@dataclass(frozen=True, slots=True)
class EmaCrossState:
    fast: EmaState
    slow: EmaState
    seen: int
    last_fast: float = math.nan
    last_slow: float = math.nan


class EmaCrossover:
    def __init__(self, fast: int = 12, slow: int = 26, timeframe: str = "5m", strategy_id: str = "ema_cross") -> None:
        if not 1 < fast < slow:
            raise ValueError(f"need 1 < fast < slow, got fast={fast}, slow={slow}")
        self.id = StrategyId(strategy_id)
        self.fast, self.slow, self.timeframe = fast, slow, timeframe
        self.warmup = slow + 1
        self.description = (
            f"EMA {fast}/{slow} crossover on {timeframe} candles: buy when the fast average crosses above"
        )
        self.description += " the slow one, sell when it crosses below"

    def evaluate(self, candles: Candles, state: EmaCrossState | None) -> tuple[SignalArray, EmaCrossState]:
        state = state or EmaCrossState(EmaState(self.fast), EmaState(self.slow), 0)
        new_closes = candles.close[state.seen :]
        fast, fast_state = ema(new_closes, state.fast)
        slow, slow_state = ema(new_closes, state.slow)
        previous_fast = np.concatenate(([state.last_fast], fast[:-1]))
        previous_slow = np.concatenate(([state.last_slow], slow[:-1]))
        with np.errstate(invalid="ignore"):
            crossed_up = (fast > slow) & (previous_fast <= previous_slow)
            crossed_down = (fast < slow) & (previous_fast >= previous_slow)
        actions = np.where(crossed_up, ENTER, np.where(crossed_down, EXIT, NOTHING)).astype(np.int8)
        last_fast = float(fast[-1]) if fast.shape[0] else state.last_fast
        last_slow = float(slow[-1]) if slow.shape[0] else state.last_slow
        return actions, EmaCrossState(fast_state, slow_state, len(candles), last_fast, last_slow)

    def rationale(self, candles: Candles, index: int, action: int, state: EmaCrossState) -> str:
        direction = "above" if action == ENTER else "below"
        return (
            f"EMA{self.fast} ({state.last_fast:.6g}) crossed {direction} EMA{self.slow} ({state.last_slow:.6g}) "
            f"at the {candles.timeframe} close of {candles.price(candles.close, index)}"
        )
