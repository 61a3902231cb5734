"""Contracts the engine depends on; `storage/` and the gateways implement them, tests use the real ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
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
    async def count_by_pause(self) -> dict[bool, int]: ...


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
    async def outcome_counts(self, since: datetime) -> OrderOutcomes: ...


_TAKEN = frozenset({"open", "partially_filled", "filled", "cancelled", "expired"})  # the venue accepted the order
_FAILED = frozenset({"rejected", "unknown"})


@dataclass(frozen=True, slots=True)
class OrderOutcomes:
    """Orders created in a period, counted by their status now."""

    by_status: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def taken(self) -> int:
        return sum(n for status, n in self.by_status.items() if status in _TAKEN)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.by_status.items() if status in _FAILED)

    @property
    def success_ratio(self) -> float:
        """Of the orders that got an answer, the share the venue took; NaN when none did."""
        answered = self.taken + self.failed
        return self.taken / answered if answered else float("nan")


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
    async def count_open(self) -> int: ...
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
    async def count_by_source(self, since: datetime) -> dict[str, int]: ...


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
    async def hourly(
        self, user_ids: Sequence[UserId], since: datetime
    ) -> dict[UserId, list[tuple[datetime, Decimal]]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRecord:
    """A report as sent: its text, and its figures for later comparison."""

    ts: datetime
    kind: str  # daily_user, daily_admin, weekly_review
    user_id: UserId | None
    period_start: datetime
    period_end: datetime
    body: str
    figures: Mapping[str, Any]


class ReportRepository(Protocol):
    async def add_many(self, reports: Sequence[ReportRecord]) -> None: ...
    async def users_with(self, kind: str, period_start: datetime) -> set[UserId]: ...
    async def latest(self, kind: str, user_id: UserId | None = None) -> ReportRecord | None: ...


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

    @classmethod
    def of(cls, rows: Sequence[Any]) -> LlmUsageSummary:
        """Sum calls recorded as `LlmUsageRecord`s (or rows with the same fields; costs as exact decimals)."""
        billed = LLM_BILLED_OUTCOMES
        return cls(
            calls=sum(1 for r in rows if r.outcome in billed),
            cache_hits=sum(1 for r in rows if r.cached),
            invalid=sum(1 for r in rows if r.outcome == "invalid"),
            failures=sum(1 for r in rows if r.outcome not in billed and not r.cached),
            input_tokens=sum(r.input_tokens for r in rows),
            output_tokens=sum(r.output_tokens for r in rows),
            cost_usd=sum((Decimal(r.cost_usd) for r in rows), start=Decimal(0)),
        )


LLM_BILLED_OUTCOMES = frozenset({"ok", "invalid"})  # the API answered: tokens were used, usable answer or not


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
    photo: bytes | None = None  # a picture, `text` being its caption

    def __repr__(self) -> str:
        picture = f", photo={len(self.photo)} bytes" if self.photo else ""
        return f"OutboxMessage(id={self.id}, chat_id={self.chat_id}, kind={self.kind!r}{picture})"


class NotificationRepository(Protocol):
    async def add_many(self, messages: Sequence[OutboxMessage]) -> None: ...
    async def pending(self, limit: int = 50) -> list[OutboxMessage]: ...
    async def mark_sent(self, ids: Sequence[int], ts: datetime) -> None: ...
    async def mark_failed(self, message_id: int, error: str, give_up_at: datetime | None) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """One alert episode for the admins: its first and latest occurrence, grouped repeats, its resolution."""

    key: str
    severity: str  # P0, P1, P2
    title: str
    detail: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int = 1
    unsent: int = 0  # repeats since the last message about it
    last_sent_at: datetime | None = None
    resolved_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def evolve(self, **changes: Any) -> AlertRecord:
        return replace(self, **changes)


class AlertRepository(Protocol):
    async def open_for(self, key: str) -> AlertRecord | None: ...
    async def open_all(self) -> list[AlertRecord]: ...
    async def since(self, moment: datetime) -> list[AlertRecord]: ...
    async def save(self, record: AlertRecord) -> AlertRecord: ...


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
    alerts: AlertRepository
    reports: ReportRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
