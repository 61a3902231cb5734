"""Commands: what the engine is asked to do (imperative, immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.enums import OrderPurpose, OrderType, Side
from engine.domain.ids import AccountId, DecisionId, SignalId, Symbol, UserId


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOrder:
    """Place an order. `origin` names its cause uniquely; the client order id is derived from it."""

    user_id: UserId
    account_id: AccountId
    venue: str
    symbol: Symbol
    side: Side
    type: OrderType
    qty: Decimal
    purpose: OrderPurpose
    origin: str
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    protective_stop: Decimal | None = None
    take_profit: Decimal | None = None
    strategy: str = ""
    rationale: str = ""
    signal_id: SignalId | None = None
    decision_id: DecisionId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePosition:
    """Sell a whole position at market (cancelling its resting stop first)."""

    user_id: UserId
    account_id: AccountId
    symbol: Symbol
    purpose: OrderPurpose
    reason: str
    trigger_price: Decimal | None = None
