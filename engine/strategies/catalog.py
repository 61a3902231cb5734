"""The built-in rule strategies by name, with their default parameters (the backtester and the engine share it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.strategies.base import RuleStrategy
from engine.strategies.donchian import DonchianBreakout
from engine.strategies.ema_cross import EmaCrossover
from engine.strategies.rsi_reversion import RsiReversion

RULES: dict[str, Callable[..., RuleStrategy]] = {
    "ema_cross": EmaCrossover,
    "rsi_reversion": RsiReversion,
    "donchian_breakout": DonchianBreakout,
}


def rule_strategy(name: str, timeframe: str, **parameters: Any) -> RuleStrategy:
    """A built-in rule by name, e.g. rule_strategy("rsi_reversion", "5m", oversold=25)."""
    try:
        factory = RULES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; built-in: {', '.join(RULES)}") from None
    return factory(timeframe=timeframe, **parameters)


def builtin_rules(timeframe: str) -> list[RuleStrategy]:
    """Every built-in rule with its default parameters."""
    return [rule_strategy(name, timeframe) for name in RULES]
