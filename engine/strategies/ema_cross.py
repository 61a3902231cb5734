"""EMA crossover: enter long when the fast EMA crosses above the slow one, leave when it crosses below."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.domain.ids import StrategyId
from engine.market_data.candles import Candles
from engine.strategies.base import ENTER, EXIT, NOTHING, SignalArray, SignalHints
from engine.strategies.indicators import AtrState, EmaState, atr, ema, last


@dataclass(frozen=True, slots=True)
class EmaCrossState:
    fast: EmaState
    slow: EmaState
    seen: int
    last_fast: float = math.nan
    last_slow: float = math.nan
    atr: AtrState | None = None
    last_atr: float = math.nan


class EmaCrossover:
    def __init__(
        self,
        fast: int = 12,
        slow: int = 26,
        timeframe: str = "5m",
        strategy_id: str = "ema_cross",
        *,
        atr_period: int = 14,
        stop_atr: float = 2.0,
        target_atr: float = 4.0,
        suggest_exits: bool = True,
    ) -> None:
        if not 1 < fast < slow:
            raise ValueError(f"need 1 < fast < slow, got fast={fast}, slow={slow}")
        if atr_period < 2 or stop_atr <= 0 or target_atr <= 0:
            raise ValueError("need atr_period >= 2 and positive stop_atr and target_atr")
        self.id = StrategyId(strategy_id)
        self.fast, self.slow, self.timeframe = fast, slow, timeframe
        self.atr_period, self.stop_atr, self.target_atr = atr_period, stop_atr, target_atr
        self.suggest_exits = suggest_exits  # off: the profile's stop and take-profit alone apply
        self.warmup = slow + 1
        self.description = (
            f"EMA {fast}/{slow} crossover on {timeframe} candles: buy when the fast average crosses above"
        )
        self.description += " the slow one, sell when it crosses below"

    def evaluate(self, candles: Candles, state: EmaCrossState | None) -> tuple[SignalArray, EmaCrossState]:
        state = state or EmaCrossState(EmaState(self.fast), EmaState(self.slow), 0)
        new = candles.slice(state.seen, len(candles))
        fast, fast_state = ema(new.close, state.fast)
        slow, slow_state = ema(new.close, state.slow)
        ranges, atr_state = atr(new.high, new.low, new.close, state.atr or AtrState(self.atr_period))
        previous_fast = np.concatenate(([state.last_fast], fast))[:-1]
        previous_slow = np.concatenate(([state.last_slow], slow))[:-1]
        with np.errstate(invalid="ignore"):
            crossed_up = (fast > slow) & (previous_fast <= previous_slow)
            crossed_down = (fast < slow) & (previous_fast >= previous_slow)
        actions = np.where(crossed_up, ENTER, np.where(crossed_down, EXIT, NOTHING)).astype(np.int8)
        return actions, EmaCrossState(
            fast_state,
            slow_state,
            len(candles),
            last(fast, state.last_fast),
            last(slow, state.last_slow),
            atr_state,
            last(ranges, state.last_atr),
        )

    def rationale(self, candles: Candles, index: int, action: int, state: EmaCrossState) -> str:
        direction = "above" if action == ENTER else "below"
        return (
            f"EMA{self.fast} ({state.last_fast:.6g}) crossed {direction} EMA{self.slow} ({state.last_slow:.6g}) "
            f"at the {candles.timeframe} close of {candles.price(candles.close, index)}"
        )

    def hints(self, candles: Candles, index: int, action: int, state: EmaCrossState) -> SignalHints:
        """Strength: the gap between the averages in ATRs; stop and target at multiples of the ATR (unless the
        strategy was made not to suggest exits)."""
        spread = abs(state.last_fast - state.last_slow)
        no_hint = math.nan if not self.suggest_exits else 1.0
        return SignalHints.for_entry(
            strength=spread / state.last_atr,
            stop_distance=self.stop_atr * state.last_atr * no_hint,
            target_distance=self.target_atr * state.last_atr * no_hint,
            price=float(candles.close[index]),
        )
