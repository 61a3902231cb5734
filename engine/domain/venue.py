"""What crosses the exchange boundary: requests we send and the venue's view of orders, trades and balances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import OrderType, Side
from engine.domain.ids import AccountId, ClientOrderId, Symbol, TradeId, UserId, VenueOrderId
from engine.domain.money import ZERO


class VenueStatus(StrEnum):
    OPEN = "open"  # resting (possibly partially filled)
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    account_id: AccountId
    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    type: OrderType
    qty: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    user_id: UserId | None = None  # whose order (for logs); venues never need it

    def log_fields(self) -> dict[str, object]:
        """What every log line about this order carries."""
        return {"client_order_id": self.client_order_id, "user": self.user_id, "symbol": self.symbol}


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueTrade:
    trade_id: TradeId
    qty: Decimal
    price: Decimal
    ts: datetime
    fee: Decimal = ZERO
    fee_currency: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """The venue's current view of one of our orders."""

    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    status: VenueStatus
    qty: Decimal
    filled_qty: Decimal
    ts: datetime
    venue_order_id: VenueOrderId | None = None
    avg_price: Decimal | None = None
    trades: tuple[VenueTrade, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceBar:
    """Prices seen for a symbol since the last look: last, and the extremes in between."""

    symbol: Symbol
    last: Decimal
    high: Decimal
    low: Decimal
    ts: datetime
    open: Decimal | None = None
    volume: Decimal | None = None  # base units traded in the bar, when the source knows it


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    """The latest price of a symbol at a venue."""

    symbol: Symbol
    last: Decimal
    ts: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None
