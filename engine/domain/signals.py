"""Signals (what a strategy or webhook proposes) and decisions (what the risk engine answered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.domain.enums import DecisionOutcome, Side, SignalAction, SignalSource
from engine.domain.ids import DecisionId, SignalId, StrategyId, Symbol, UserId


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    strategy: StrategyId
    symbol: Symbol
    action: SignalAction
    side: Side
    price: Decimal  # the market price the signal was made at, for the price sanity check
    ts: datetime
    source: SignalSource = SignalSource.RULE
    strength: Decimal = Decimal(1)
    stop_price: Decimal | None = None
    take_profit: Decimal | None = None
    rationale: str = ""
    timeframe: str = ""
    idempotency_key: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    id: SignalId | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A business "no" from a risk rule: a stable code and a sentence the user understands."""

    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The risk engine's answer to one signal for one user, stored so `/why` can show it."""

    user_id: UserId
    symbol: Symbol
    side: Side
    outcome: DecisionOutcome
    ts: datetime
    refusals: tuple[Refusal, ...] = ()
    qty: Decimal | None = None
    price: Decimal | None = None
    strategy: str = ""
    rationale: str = ""
    signal_id: SignalId | None = None
    client_order_id: str | None = None
    signal_key: str | None = None  # what makes the signal unique, for the duplicate check
    id: DecisionId | None = None

    @property
    def is_accepted(self) -> bool:
        return self.outcome is DecisionOutcome.ACCEPTED
