"""The strategy contract and the runner that keeps each strategy's state per symbol."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from engine.clock import Clock
from engine.domain.enums import Side, SignalAction, SignalSource
from engine.domain.ids import StrategyId, Symbol
from engine.domain.signals import Signal
from engine.market_data.candles import Candles

ENTER = 1
EXIT = -1
NOTHING = 0

SignalArray = npt.NDArray[np.int8]


class RuleStrategy(Protocol):
    """A causal rule: signal i depends only on candles 0..i, whether computed at once or in pieces."""

    id: StrategyId
    timeframe: str
    warmup: int  # candles needed before the first signal can appear
    description: str

    def evaluate(self, candles: Candles, state: Any | None) -> tuple[SignalArray, Any]:
        """Signals for the candles `state` has not seen yet (all of them when `state` is None), and the new state."""
        ...

    def rationale(self, candles: Candles, index: int, action: int, state: Any) -> str:
        """One sentence a user understands, explaining the signal at `index`."""
        ...


@dataclass(frozen=True, slots=True)
class StrategyParameters:
    """Exit hints a rule attaches to its entries (fractions of the entry price); the user's profile may tighten them."""

    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


class StrategyRunner:
    """Runs the enabled rule strategies on each closed candle, resuming each one's state per symbol."""

    def __init__(self, strategies: list[RuleStrategy], clock: Clock) -> None:
        self._strategies = {s.id: s for s in strategies}
        self._enabled = set(self._strategies)
        self._states: dict[tuple[StrategyId, Symbol], tuple[int, Any]] = {}
        self._clock = clock

    @property
    def strategies(self) -> list[RuleStrategy]:
        return list(self._strategies.values())

    def is_enabled(self, strategy: StrategyId) -> bool:
        return strategy in self._enabled

    def set_enabled(self, strategy: StrategyId, enabled: bool) -> None:
        if strategy not in self._strategies:
            raise KeyError(strategy)
        (self._enabled.add if enabled else self._enabled.discard)(strategy)

    def on_close(self, candles: Candles) -> list[Signal]:
        """Evaluate every enabled strategy on the newly closed candles of one symbol; signals for the last one."""
        signals = []
        for strategy in self._strategies.values():
            if strategy.timeframe != candles.timeframe:
                continue
            action, state = self._advance(strategy, candles)
            if action != NOTHING and strategy.id in self._enabled:
                signals.append(self._signal(strategy, candles, action, state))
        return signals

    def _advance(self, strategy: RuleStrategy, candles: Candles) -> tuple[int, Any]:
        key = (strategy.id, candles.symbol)
        _, state = self._states.get(key, (0, None))
        actions, state = strategy.evaluate(candles, state)
        self._states[key] = (len(candles), state)
        return (int(actions[-1]) if actions.shape[0] else NOTHING), state

    def _signal(self, strategy: RuleStrategy, candles: Candles, action: int, state: Any) -> Signal:
        index = len(candles) - 1
        return Signal(
            strategy=strategy.id,
            symbol=candles.symbol,
            action=SignalAction.ENTER if action == ENTER else SignalAction.EXIT,
            side=Side.BUY if action == ENTER else Side.SELL,
            price=candles.price(candles.close, index),
            ts=self._clock.now(),
            source=SignalSource.RULE,
            rationale=strategy.rationale(candles, index, action, state),
            timeframe=candles.timeframe,
            idempotency_key=f"{strategy.id}:{candles.symbol}:{int(candles.ts[index])}",
        )
