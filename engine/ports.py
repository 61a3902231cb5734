"""Contracts the engine depends on; `storage/` and the gateways implement them, tests use the real ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from engine.domain.accounts import Account, Market, User
from engine.domain.enums import OrderStatus, SignalSource, TradingState, UserStatus
from engine.domain.ids import AccountId, ClientOrderId, StrategyId, Symbol, TelegramId, UserId
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.domain.signals import Decision, Signal
from engine.domain.venue import Balance, OrderRequest, PriceBar, Ticker, VenueOrder, VenueTrade


@dataclass(frozen=True, slots=True)
class Credentials:
    """Exchange API keys; never printed."""

    api_key: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(api_key='…{self.api_key[-4:]}', secret='***')"

    __str__ = __repr__


# --- exchange ----------------------------------------------------------------------------------


OrderKey = tuple[AccountId, Symbol, ClientOrderId]  # an order at its venue: whose, in which market, which


class ExchangeGateway(Protocol):
    """One venue (an exchange, or the paper venue); every account-scoped call names the account."""

    name: str

    async def load_markets(self) -> Mapping[Symbol, Market]: ...

    def market(self, symbol: Symbol) -> Market: ...

    async def place_order(self, request: OrderRequest) -> VenueOrder: ...

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[VenueOrder | Exception]:
        """Place several orders; each gets its order or its error. Never retried."""
        ...

    async def fetch_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None: ...

    async def cancel_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None: ...

    async def fetch_open_orders(self, account_id: AccountId, symbol: Symbol | None = None) -> list[VenueOrder]: ...

    async def fetch_trades(self, account_id: AccountId, symbol: Symbol, since: datetime | None) -> list[VenueTrade]: ...

    async def fetch_balances(self, account_id: AccountId) -> dict[str, Balance]: ...

    # batched reads (reconciliation of thousands of accounts): each key or account gets its answer or its error

    async def fetch_orders(self, keys: Sequence[OrderKey]) -> list[VenueOrder | Exception | None]: ...

    async def fetch_open_orders_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, list[VenueOrder] | Exception]: ...

    async def fetch_balances_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, dict[str, Balance] | Exception]: ...

    async def aclose(self) -> None: ...


Candle = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]  # open time ms, open, high, low, close, volume


class MarketDataSource(Protocol):
    """An exchange's public market data: what the live feed polls, once for every user."""

    async def fetch_tickers(self, symbols: Sequence[Symbol]) -> dict[Symbol, Ticker]: ...

    async def fetch_ohlcv(self, symbol: Symbol, timeframe: str, since_ms: int | None, limit: int) -> list[Candle]: ...


class PriceSource(Protocol):
    def last_price(self, symbol: Symbol) -> Decimal | None: ...


class MarketFeed(PriceSource, Protocol):
    """Market data shared by every user: the latest prices, and the bars seen since the last look."""

    symbols: Sequence[Symbol]

    def take_bars(self) -> dict[Symbol, PriceBar]: ...


# --- repositories ------------------------------------------------------------------------------


class UserRepository(Protocol):
    async def get(self, user_id: UserId) -> User | None: ...
    async def get_by_telegram(self, telegram_id: TelegramId) -> User | None: ...
    async def get_many(self, user_ids: Sequence[UserId]) -> dict[UserId, User]: ...
    async def subscribe(self, user_id: UserId, strategies: list[StrategyId], ts: datetime) -> None: ...
    async def subscriptions(self, user_id: UserId) -> list[StrategyId]: ...
    async def add(self, user: User) -> User: ...
    async def save(self, user: User) -> None: ...
    async def list(self, status: UserStatus | None = None) -> list[User]: ...
    async def followers(self, strategy: StrategyId) -> list[User]: ...


class AccountRepository(Protocol):
    async def get(self, account_id: AccountId) -> Account | None: ...
    async def for_user(self, user_id: UserId) -> Account | None: ...
    async def get_many(self, account_ids: Sequence[AccountId]) -> dict[AccountId, Account]: ...
    async def of_followers(self, strategy: StrategyId) -> list[Account]: ...
    async def get_many_for_users(self, user_ids: Sequence[UserId]) -> list[Account]: ...
    async def add(self, account: Account, credentials: Credentials | None = None) -> Account: ...
    async def save(self, account: Account) -> None: ...
    async def save_many(self, accounts: Sequence[Account]) -> None: ...
    async def remove(self, account_id: AccountId) -> None: ...
    async def credentials(self, account_id: AccountId) -> Credentials | None: ...
    async def list(self) -> list[Account]: ...


@dataclass(frozen=True, slots=True)
class OrderVersion:
    """The parts of a stored order that change with every event: equal versions mean an unchanged order."""

    status: OrderStatus
    filled_qty: Decimal
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderVersion:
        return cls(order.status, order.filled_qty, order.updated_at)


class OrderRepository(Protocol):
    async def add_many(self, orders: Sequence[Order]) -> list[Order]: ...
    async def versions(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, OrderVersion]: ...
    async def existing(self, client_order_ids: Sequence[ClientOrderId]) -> set[ClientOrderId]: ...
    async def save_many(self, orders: Sequence[Order]) -> None: ...
    async def get(self, client_order_id: ClientOrderId) -> Order | None: ...
    async def get_many(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, Order]: ...
    async def non_final(self, account_id: AccountId | None = None) -> list[Order]: ...
    async def for_user(self, user_id: UserId, limit: int = 20) -> list[Order]: ...
    async def since(self, moment: datetime) -> list[Order]: ...


class FillRepository(Protocol):
    async def add_many(self, fills: Sequence[tuple[Order, VenueTrade]]) -> None: ...
    async def for_user(self, user_id: UserId, since: datetime | None = None, limit: int = 50) -> list[FillRecord]: ...
    async def since(self, moment: datetime) -> list[FillRecord]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecord:
    client_order_id: ClientOrderId
    user_id: UserId
    symbol: Symbol
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    ts: datetime
    purpose: str
    strategy: str


class PositionRepository(Protocol):
    async def open_for_user(self, user_id: UserId) -> list[Position]: ...
    async def open_for_account(self, account_id: AccountId) -> list[Position]: ...
    async def open_of_followers(self, strategy: StrategyId) -> list[Position]: ...
    async def open_for_accounts(self, account_ids: Sequence[AccountId]) -> list[Position]: ...
    async def all_open(self) -> list[Position]: ...
    async def save_many(self, positions: Sequence[Position]) -> list[Position]: ...
    async def closed_for_user(self, user_id: UserId, since: datetime | None = None) -> list[Position]: ...
    async def closed_since(self, moment: datetime) -> list[Position]: ...


@dataclass(frozen=True, slots=True)
class StoredSignal:
    signal: Signal
    status: str  # received, accepted, refused, no_position, failed, disabled, expired
    received_at: datetime | None = None  # inbound signals: wall-clock arrival
    content_hash: str | None = None  # inbound signals: what makes two of them "the same content"


class SignalRepository(Protocol):
    async def add(self, signal: Signal, status: str) -> Signal: ...
    async def set_status(self, signal: Signal, status: str) -> None: ...
    async def set_statuses(self, statuses: Sequence[tuple[Signal, str]]) -> None: ...
    async def find_by_key(self, idempotency_key: str) -> Signal | None: ...
    async def add_inbound(self, items: Sequence[tuple[Signal, str]], received_at: datetime) -> dict[str, Signal]:
        """Store inbound signals (with content hashes) as received, skipping taken idempotency keys; by key."""
        ...

    async def find_duplicates(
        self, keys: Sequence[str], content_hashes: Sequence[str], since: datetime
    ) -> list[StoredSignal]: ...
    async def pending(self, source: SignalSource) -> list[StoredSignal]: ...


class DecisionRepository(Protocol):
    async def add_many(self, decisions: Sequence[Decision]) -> list[Decision]: ...
    async def latest_for_user(self, user_id: UserId, limit: int = 5) -> list[Decision]: ...
    async def recent_keys(
        self, user_ids: Sequence[UserId], keys: Collection[str], since: datetime
    ) -> dict[UserId, set[str]]: ...


class RiskEventRepository(Protocol):
    async def add(
        self,
        *,
        ts: datetime,
        user_id: UserId | None,
        kind: str,
        state: TradingState | None,
        reason: str,
        until: datetime | None = None,
    ) -> None: ...
    async def since(self, moment: datetime) -> list[dict[str, Any]]: ...


class ErrorRepository(Protocol):
    async def add(
        self, *, ts: datetime, source: str, message: str, context: Mapping[str, Any] | None = None
    ) -> None: ...
    async def latest(self, limit: int = 10) -> list[dict[str, Any]]: ...


class AuditRepository(Protocol):
    async def add(
        self, *, ts: datetime, actor: str, action: str, target: str = "", details: Mapping[str, Any] | None = None
    ) -> None: ...


class SystemStateRepository(Protocol):
    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ts: datetime) -> None: ...


class EquityRepository(Protocol):
    async def add_many(self, points: Sequence[tuple[UserId, datetime, Decimal]]) -> None: ...
    async def series(self, user_id: UserId, since: datetime | None = None) -> list[tuple[datetime, Decimal]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyRecord:
    id: str
    kind: str  # rule / llm / webhook
    enabled: bool = True
    description: str = ""


class StrategyRepository(Protocol):
    async def ensure(self, records: Sequence[StrategyRecord], ts: datetime) -> list[str]:
        """Register the strategies not stored yet; returns the ids that were new."""
        ...

    async def list(self) -> list[StrategyRecord]: ...
    async def set_enabled(self, strategy_id: str, enabled: bool, ts: datetime) -> bool: ...
    async def follower_counts(self) -> dict[str, int]: ...
    async def add_followers(self, strategy_id: str, user_ids: Sequence[UserId], ts: datetime) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmUsageRecord:
    """One decision asked of the LLM: its tokens and cost, or a cache hit (no call), or a failed call."""

    ts: datetime
    model: str
    symbol: str
    cost_usd: Decimal
    outcome: str  # ok, invalid, cache_hit, unavailable, error
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmUsageSummary:
    calls: int  # calls that reached the API and were billed
    cache_hits: int
    invalid: int
    failures: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


class LlmUsageRepository(Protocol):
    async def add(self, record: LlmUsageRecord) -> None: ...
    async def summary(self, since: datetime) -> LlmUsageSummary: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    chat_id: int
    kind: str
    text: str
    created_at: datetime
    attempts: int = 0
    id: int | None = None


class NotificationRepository(Protocol):
    async def add_many(self, messages: Sequence[OutboxMessage]) -> None: ...
    async def pending(self, limit: int = 50) -> list[OutboxMessage]: ...
    async def mark_sent(self, ids: Sequence[int], ts: datetime) -> None: ...
    async def mark_failed(self, message_id: int, error: str, give_up_at: datetime | None) -> None: ...


class PaperLedger(Protocol):
    """The paper venue's own books: balances and orders per paper account."""

    async def balances_many(self, accounts: Sequence[AccountId]) -> dict[AccountId, dict[str, Balance]]: ...
    async def set_balances(self, balances: Mapping[AccountId, Mapping[str, Balance]]) -> None: ...
    async def clear_balances(self, account_id: AccountId) -> None: ...
    async def save_orders(self, orders: Sequence[tuple[OrderRequest, VenueOrder]], *, new: bool = False) -> None: ...
    async def existing(
        self, keys: Sequence[tuple[AccountId, ClientOrderId]]
    ) -> set[tuple[AccountId, ClientOrderId]]: ...
    async def get_order(self, account_id: AccountId, client_order_id: ClientOrderId) -> VenueOrder | None: ...
    async def get_orders(
        self, keys: Sequence[tuple[AccountId, ClientOrderId]]
    ) -> dict[tuple[AccountId, ClientOrderId], VenueOrder]: ...
    async def open_orders(self, account_id: AccountId | None = None) -> list[tuple[OrderRequest, VenueOrder]]: ...
    async def orders_since(self, account_id: AccountId, moment: datetime | None) -> list[VenueOrder]: ...


class UnitOfWork(Protocol):
    """One database session for one piece of work: commit explicitly, roll back otherwise."""

    users: UserRepository
    accounts: AccountRepository
    orders: OrderRepository
    fills: FillRepository
    positions: PositionRepository
    signals: SignalRepository
    decisions: DecisionRepository
    risk_events: RiskEventRepository
    errors: ErrorRepository
    audit: AuditRepository
    system: SystemStateRepository
    equity: EquityRepository
    paper: PaperLedger
    notifications: NotificationRepository
    strategies: StrategyRepository
    llm_usage: LlmUsageRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
