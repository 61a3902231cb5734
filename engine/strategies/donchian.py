"""Donchian breakout (the Turtle rule): buy when the close breaks above the highest high of the last
`entry_period` candles, sell when it breaks below the lowest low of the last `exit_period` candles."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.domain.ids import StrategyId
from engine.market_data.candles import Candles, FloatArray
from engine.strategies.base import ENTER, SignalArray, SignalHints, alternate
from engine.strategies.indicators import AtrState, atr, keep_last, last, rolling_extreme


def _empty() -> FloatArray:
    return np.empty(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class DonchianState:
    atr: AtrState
    seen: int
    highs: FloatArray = field(default_factory=_empty)  # the last `entry_period` highs
    lows: FloatArray = field(default_factory=_empty)  # the last `exit_period` lows
    in_trade: bool = False
    last_upper: float = math.nan
    last_lower: float = math.nan
    last_atr: float = math.nan


class DonchianBreakout:
    def __init__(
        self,
        entry_period: int = 20,
        exit_period: int = 10,
        timeframe: str = "5m",
        strategy_id: str = "donchian_breakout",
        *,
        atr_period: int = 14,
        min_stop_atr: float = 1.0,
        reward_ratio: float = 2.0,
    ) -> None:
        if not 1 < exit_period <= entry_period:
            raise ValueError(f"need 1 < exit_period <= entry_period, got {exit_period}, {entry_period}")
        if atr_period < 2 or min_stop_atr <= 0 or reward_ratio <= 0:
            raise ValueError("need atr_period >= 2 and positive min_stop_atr and reward_ratio")
        self.id = StrategyId(strategy_id)
        self.entry_period, self.exit_period, self.timeframe = entry_period, exit_period, timeframe
        self.atr_period, self.min_stop_atr, self.reward_ratio = atr_period, min_stop_atr, reward_ratio
        self.warmup = max(entry_period, atr_period) + 1
        self.description = (
            f"Donchian {entry_period}/{exit_period} breakout on {timeframe} candles: buy when the close breaks the"
            f" {entry_period}-candle high, sell when it breaks the {exit_period}-candle low"
        )

    def evaluate(self, candles: Candles, state: DonchianState | None) -> tuple[SignalArray, DonchianState]:
        state = state or DonchianState(AtrState(self.atr_period), 0)
        new = candles.slice(state.seen, len(candles))
        upper = rolling_extreme(state.highs, new.high, self.entry_period, highest=True)
        lower = rolling_extreme(state.lows, new.low, self.exit_period, highest=False)
        ranges, atr_state = atr(new.high, new.low, new.close, state.atr)
        with np.errstate(invalid="ignore"):
            actions, in_trade = alternate(new.close > upper, new.close < lower, state.in_trade)
        return actions, DonchianState(
            atr_state,
            len(candles),
            keep_last(state.highs, new.high, self.entry_period),
            keep_last(state.lows, new.low, self.exit_period),
            in_trade,
            last(upper, state.last_upper),
            last(lower, state.last_lower),
            last(ranges, state.last_atr),
        )

    def rationale(self, candles: Candles, index: int, action: int, state: DonchianState) -> str:
        close = candles.price(candles.close, index)
        if action == ENTER:
            return (
                f"The {candles.timeframe} close of {close} broke above the {self.entry_period}-candle high "
                f"({state.last_upper:.6g})"
            )
        return (
            f"The {candles.timeframe} close of {close} broke below the {self.exit_period}-candle low "
            f"({state.last_lower:.6g})"
        )

    def hints(self, candles: Candles, index: int, action: int, state: DonchianState) -> SignalHints:
        """Stop at the exit channel's low (at least `min_stop_atr` ATRs away), target `reward_ratio` times the risk;
        strength: how far the close cleared the channel, in ATRs."""
        close = float(candles.close[index])
        risk = max(close - state.last_lower, self.min_stop_atr * state.last_atr)
        return SignalHints.for_entry(
            strength=(close - state.last_upper) / state.last_atr,
            stop_distance=risk,
            target_distance=self.reward_ratio * risk,
            price=close,
        )
