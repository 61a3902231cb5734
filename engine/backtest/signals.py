"""Strategies evaluated once over whole series: the signals a replay would produce candle by candle, known ahead.

Every rule strategy is causal and resumable (`RuleStrategy`): its action at candle i depends only on candles
0..i, and a state carried forward gives bit-identical values to a full run. So the backtest evaluates each
series once, vectorised, and only at the candles where a signal appears does it bring a state up to that
candle for the signal's hints and rationale — the same `Signal` the incremental runner makes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.clock import Clock
from engine.domain.ids import StrategyId, Symbol
from engine.market_data.candles import Candles, IntArray
from engine.strategies.base import NOTHING, RuleStrategy, SignalArray, StrategyRunner


class PrecomputedRunner(StrategyRunner):
    """A `StrategyRunner` whose actions were computed over the whole series up front."""

    def __init__(self, strategies: list[RuleStrategy], clock: Clock, series: Sequence[Candles]) -> None:
        super().__init__(strategies, clock)
        self._series = {c.symbol: c for c in series}
        self._actions: dict[tuple[StrategyId, Symbol], SignalArray] = {
            (s.id, c.symbol): s.evaluate(c, None)[0] for s in strategies for c in series if s.timeframe == c.timeframe
        }

    def signal_times(self) -> IntArray:
        """Open times (ms) of every candle where an enabled strategy signals, sorted, without repeats."""
        times = [
            self._series[symbol].ts[np.flatnonzero(actions)]
            for (strategy, symbol), actions in self._actions.items()
            if self.is_enabled(strategy)
        ]
        return np.unique(np.concatenate(times)) if times else np.empty(0, dtype=np.int64)

    def _advance(self, strategy: RuleStrategy, candles: Candles) -> tuple[int, Any]:
        actions = self._actions.get((strategy.id, candles.symbol))
        if actions is None or not self._is_known(candles):
            return super()._advance(strategy, candles)  # candles it was not computed on: evaluate as usual
        action = int(actions[len(candles) - 1])
        if action == NOTHING:
            return NOTHING, None
        return action, self._catch_up(strategy, candles)

    def _is_known(self, candles: Candles) -> bool:
        """Are these candles a beginning of the series the actions were computed on?"""
        series = self._series.get(candles.symbol)
        count = len(candles)
        return series is not None and 0 < count <= len(series) and candles.ts[0] == series.ts[0]

    def _catch_up(self, strategy: RuleStrategy, candles: Candles) -> Any:
        """The strategy's state after the last of `candles`, resumed from where it was last brought up to date."""
        key = (strategy.id, candles.symbol)
        _, state = self._states.get(key, (0, None))
        _, state = strategy.evaluate(candles, state)
        self._states[key] = (len(candles), state)
        return state
