"""What the engine tells the rest of the product: the bot turns these into messages and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import OrderPurpose, Side, TradingState
from engine.domain.ids import Symbol, UserId
from engine.domain.signals import Refusal


class Severity(StrEnum):
    P0 = "P0"  # critical: trading impaired for everyone
    P1 = "P1"  # high: a component down or failing often
    P2 = "P2"  # medium: one user's problem, or degradation

    @property
    def label(self) -> str:
        return {"P0": "critical", "P1": "high", "P2": "medium"}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeFilled:
    ts: datetime
    user_id: UserId
    client_order_id: str
    symbol: Symbol
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    purpose: OrderPurpose
    strategy: str = ""
    rationale: str = ""
    realized_pnl: Decimal | None = None  # net of fees, when the fill closed (part of) a position
    is_complete: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFailed:
    ts: datetime
    user_id: UserId
    client_order_id: str
    symbol: Symbol
    side: Side
    reason: str
    purpose: OrderPurpose


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRefused:
    ts: datetime
    user_id: UserId
    symbol: Symbol
    side: Side
    strategy: str
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitTriggered:
    ts: datetime
    user_id: UserId
    symbol: Symbol
    purpose: OrderPurpose
    trigger_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged:
    ts: datetime
    user_id: UserId | None  # None: the whole system
    state: TradingState
    reason: str
    until: datetime | None = None
    breaker: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CooldownStarted:
    """A losing streak paused a user's entries until `until` (exits go on)."""

    ts: datetime
    user_id: UserId
    losses: int
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseChanged:
    """An admin moved the rollout phase; `conflicts` are the users whose capital or profile the new phase refuses
    (they keep their positions, and new entries are refused with these reasons until they fit again)."""

    ts: datetime
    phase: str
    previous: str
    actor: str
    conflicts: tuple[tuple[UserId, tuple[Refusal, ...]], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised:
    ts: datetime
    severity: Severity
    key: str  # alerts with the same key are grouped
    title: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersRecorded:
    """One batch of venue answers applied: how many orders reached each status (for metrics, not per order)."""

    ts: datetime
    reached: tuple[tuple[str, int], ...]  # (status, count)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntriesDecided:
    """One run of entry signals decided for their followers: how many accepted, and each refusal's reason."""

    ts: datetime
    accepted: int
    refused: int
    reasons: tuple[tuple[str, int], ...]  # (refusal code, count): a refused entry may have several reasons


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmUsageRecorded:
    ts: datetime
    model: str
    outcome: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


EngineEvent = (
    TradeFilled
    | OrderFailed
    | EntryRefused
    | ExitTriggered
    | TradingStateChanged
    | AlertRaised
    | OrdersRecorded
    | EntriesDecided
    | LlmUsageRecorded
    | CooldownStarted
    | PhaseChanged
)
