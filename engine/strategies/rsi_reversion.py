"""RSI mean reversion: buy when the RSI climbs back out of oversold, sell when it has recovered to the exit level.

The rule keeps its own idea of being in a trade, so entries and exits alternate: a second dip while in a
trade is no new entry, and a recovery without an entry is no exit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.domain.ids import StrategyId
from engine.market_data.candles import Candles
from engine.strategies.base import ENTER, SignalArray, SignalHints, alternate
from engine.strategies.indicators import AtrState, RsiState, atr, last, rsi


@dataclass(frozen=True, slots=True)
class RsiReversionState:
    rsi: RsiState
    atr: AtrState
    seen: int
    in_trade: bool = False
    last_rsi: float = math.nan
    before_last_rsi: float = math.nan
    last_atr: float = math.nan


class RsiReversion:
    def __init__(
        self,
        period: int = 14,
        oversold: float = 30.0,
        exit_level: float = 55.0,
        timeframe: str = "5m",
        strategy_id: str = "rsi_reversion",
        *,
        atr_period: int = 14,
        stop_atr: float = 2.0,
        target_atr: float = 3.0,
    ) -> None:
        if period < 2 or not 0 < oversold < exit_level < 100:
            raise ValueError(f"need period >= 2 and 0 < oversold < exit_level < 100, got {period}, {oversold}")
        if atr_period < 2 or stop_atr <= 0 or target_atr <= 0:
            raise ValueError("need atr_period >= 2 and positive stop_atr and target_atr")
        self.id = StrategyId(strategy_id)
        self.period, self.oversold, self.exit_level, self.timeframe = period, oversold, exit_level, timeframe
        self.atr_period, self.stop_atr, self.target_atr = atr_period, stop_atr, target_atr
        self.warmup = max(period, atr_period) + 2
        self.description = (
            f"RSI({period}) mean reversion on {timeframe} candles: buy when the RSI climbs back above {oversold:g}"
            f" after an oversold dip, sell when it recovers to {exit_level:g}"
        )

    def evaluate(self, candles: Candles, state: RsiReversionState | None) -> tuple[SignalArray, RsiReversionState]:
        state = state or RsiReversionState(RsiState(self.period), AtrState(self.atr_period), 0)
        new = candles.slice(state.seen, len(candles))
        values, rsi_state = rsi(new.close, state.rsi)
        ranges, atr_state = atr(new.high, new.low, new.close, state.atr)
        previous = np.concatenate(([state.last_rsi], values))[:-1]  # the RSI one candle earlier
        with np.errstate(invalid="ignore"):
            recovers = (previous < self.oversold) & (values >= self.oversold)
            exits = (previous < self.exit_level) & (values >= self.exit_level)
        actions, in_trade = alternate(recovers, exits, state.in_trade)
        return actions, RsiReversionState(
            rsi_state,
            atr_state,
            len(candles),
            in_trade,
            last(values, state.last_rsi),
            last(previous, state.before_last_rsi),
            last(ranges, state.last_atr),
        )

    def rationale(self, candles: Candles, index: int, action: int, state: RsiReversionState) -> str:
        close = candles.price(candles.close, index)
        if action == ENTER:
            return (
                f"RSI{self.period} climbed back above {self.oversold:g} ({state.before_last_rsi:.1f} → "
                f"{state.last_rsi:.1f}) after an oversold dip, at the {candles.timeframe} close of {close}"
            )
        return (
            f"RSI{self.period} recovered to {state.last_rsi:.1f} (exit level {self.exit_level:g}) "
            f"at the {candles.timeframe} close of {close}"
        )

    def hints(self, candles: Candles, index: int, action: int, state: RsiReversionState) -> SignalHints:
        """Strength: how deep the RSI was just before the turn (10 points under oversold is full strength)."""
        return SignalHints.for_entry(
            strength=(self.oversold - state.before_last_rsi) / 10.0 + 0.1,
            stop_distance=self.stop_atr * state.last_atr,
            target_distance=self.target_atr * state.last_atr,
            price=float(candles.close[index]),
        )
