"""The strategy contract and the runner that keeps each strategy's state per symbol."""

from __future__ import annotations

import math
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

    def hints(self, candles: Candles, index: int, action: int, state: Any) -> SignalHints:
        """Strength and exit hints for the signal at the last candle `state` has seen (`index`)."""
        ...


MIN_STOP_DISTANCE = 0.002  # exit hints closer than this to the price are noise, not a stop
MAX_STOP_DISTANCE = 0.25


@dataclass(frozen=True, slots=True)
class SignalHints:
    """What a rule attaches to a signal: how decisive it is (0..1) and, for entries, a suggested stop-loss and
    take-profit as fractions of the entry price. The user's profile may tighten the stop."""

    strength: float = 1.0
    stop_loss: float | None = None
    take_profit: float | None = None

    @classmethod
    def for_entry(cls, strength: float, stop_distance: float, target_distance: float, price: float) -> SignalHints:
        """Hints from distances in price units; NaN distances (indicators still warming up) give no hint."""
        strength = min(max(strength, 0.0), 1.0) if math.isfinite(strength) else 1.0
        if not (price > 0 and math.isfinite(stop_distance) and math.isfinite(target_distance)):
            return cls(strength)
        stop = min(max(stop_distance / price, MIN_STOP_DISTANCE), MAX_STOP_DISTANCE)
        target = min(max(target_distance / price, MIN_STOP_DISTANCE), 1.0)
        return cls(strength, stop, target)

    def stop_price(self, price: Decimal) -> Decimal | None:
        return None if self.stop_loss is None else price * (1 - _fraction(self.stop_loss))

    def take_profit_price(self, price: Decimal) -> Decimal | None:
        return None if self.take_profit is None else price * (1 + _fraction(self.take_profit))


def _fraction(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def alternate(enters: npt.NDArray[np.bool_], exits: npt.NDArray[np.bool_], in_trade: bool) -> tuple[SignalArray, bool]:
    """Entries only when out of a trade, exits only when in one: the actions, and whether a trade is open after."""
    actions = np.zeros(enters.shape[0], dtype=np.int8)
    for i in np.flatnonzero(enters | exits).tolist():
        if not in_trade and enters[i]:
            actions[i], in_trade = ENTER, True
        elif in_trade and exits[i]:
            actions[i], in_trade = EXIT, False
    return actions, in_trade


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
        price = candles.price(candles.close, index)
        hints = strategy.hints(candles, index, action, state)
        is_entry = action == ENTER
        return Signal(
            strategy=strategy.id,
            symbol=candles.symbol,
            action=SignalAction.ENTER if is_entry else SignalAction.EXIT,
            side=Side.BUY if is_entry else Side.SELL,
            price=price,
            ts=self._clock.now(),
            source=SignalSource.RULE,
            strength=Decimal(f"{hints.strength:.4f}"),
            stop_price=hints.stop_price(price) if is_entry else None,
            take_profit=hints.take_profit_price(price) if is_entry else None,
            rationale=strategy.rationale(candles, index, action, state),
            timeframe=candles.timeframe,
            idempotency_key=f"{strategy.id}:{candles.symbol}:{int(candles.ts[index])}",
        )
