"""Database tables (SQLAlchemy 2 declarative). Rows are mapped to domain objects in the repositories."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import Amount, Json, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    profile: Mapped[str | None] = mapped_column(String(16))
    capital: Mapped[Decimal | None] = mapped_column(Amount)
    mode: Mapped[str] = mapped_column(String(8), default="paper")
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    trading_state: Mapped[str] = mapped_column(String(16), default="active")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    state_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    peak_equity: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    consecutive_losses: Mapped[int] = mapped_column(Integer, default=0)
    cooldown_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notifications_muted: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExchangeAccountRow(Base):
    __tablename__ = "exchange_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    venue: Mapped[str] = mapped_column(String(32))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(8), default="")
    is_reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    managed_cash: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    day_start_equity: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    day_started_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StrategyRow(Base):
    __tablename__ = "strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # rule / llm / webhook
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Amount)
    strength: Mapped[Decimal] = mapped_column(Amount)
    stop_price: Mapped[Decimal | None] = mapped_column(Amount)
    take_profit: Mapped[Decimal | None] = mapped_column(Amount)
    rationale: Mapped[str] = mapped_column(Text, default="")
    timeframe: Mapped[str] = mapped_column(String(8), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", Json, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # inbound: same content = duplicate
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # inbound signals: wall-clock arrival


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_user_ts", "user_id", "ts"),
        Index("ix_decisions_user_signal_key", "user_id", "signal_key", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    outcome: Mapped[str] = mapped_column(String(16))
    refusals: Mapped[list[dict[str, str]]] = mapped_column(Json, default=list)
    qty: Mapped[Decimal | None] = mapped_column(Amount)
    price: Mapped[Decimal | None] = mapped_column(Amount)
    strategy: Mapped[str] = mapped_column(String(64), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    client_order_id: Mapped[str | None] = mapped_column(String(40))
    signal_key: Mapped[str | None] = mapped_column(String(160))
    ts: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    qty: Mapped[Decimal] = mapped_column(Amount)
    limit_price: Mapped[Decimal | None] = mapped_column(Amount)
    stop_price: Mapped[Decimal | None] = mapped_column(Amount)
    status: Mapped[str] = mapped_column(String(16), index=True)
    filled_qty: Mapped[Decimal] = mapped_column(Amount)
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Amount)
    fee: Mapped[Decimal] = mapped_column(Amount)
    fee_currency: Mapped[str] = mapped_column(String(16), default="")
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    strategy: Mapped[str] = mapped_column(String(64), default="")
    protective_stop: Mapped[Decimal | None] = mapped_column(Amount)
    take_profit: Mapped[Decimal | None] = mapped_column(Amount)
    signal_id: Mapped[int | None] = mapped_column(Integer)
    decision_id: Mapped[int | None] = mapped_column(Integer)
    trade_ids: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("client_order_id", "trade_id", name="uq_fills_order_trade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    trade_id: Mapped[str] = mapped_column(String(64))
    qty: Mapped[Decimal] = mapped_column(Amount)
    price: Mapped[Decimal] = mapped_column(Amount)
    fee: Mapped[Decimal] = mapped_column(Amount)
    fee_currency: Mapped[str] = mapped_column(String(16), default="")
    purpose: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(64), default="")
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (
        Index(
            "uq_positions_open_account_symbol",
            "account_id",
            "symbol",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(32))
    qty: Mapped[Decimal] = mapped_column(Amount)
    avg_entry: Mapped[Decimal] = mapped_column(Amount)
    realized_pnl: Mapped[Decimal] = mapped_column(Amount)
    fees: Mapped[Decimal] = mapped_column(Amount)
    cost_basis_total: Mapped[Decimal] = mapped_column(Amount)
    stop_price: Mapped[Decimal | None] = mapped_column(Amount)
    take_profit: Mapped[Decimal | None] = mapped_column(Amount)
    trailing_distance: Mapped[Decimal | None] = mapped_column(Amount)
    highest_price: Mapped[Decimal] = mapped_column(Amount)
    stop_order_id: Mapped[str | None] = mapped_column(String(40))  # the resting protective stop at the venue
    strategy: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class RiskEventRow(Base):
    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProcessingErrorRow(Base):
    __tablename__ = "processing_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class LlmUsageRow(Base):
    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    model: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32), default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Amount)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    body: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class SystemStateRow(Base):
    __tablename__ = "system_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EquitySnapshotRow(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (Index("ix_equity_user_ts", "user_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    equity: Mapped[Decimal] = mapped_column(Amount)


class PaperBalanceRow(Base):
    __tablename__ = "paper_balances"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    free: Mapped[Decimal] = mapped_column(Amount)
    locked: Mapped[Decimal] = mapped_column(Amount)


class PaperOrderRow(Base):
    __tablename__ = "paper_orders"
    __table_args__ = (Index("ix_paper_orders_status", "status"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(8))
    limit_price: Mapped[Decimal | None] = mapped_column(Amount)
    stop_price: Mapped[Decimal | None] = mapped_column(Amount)
    status: Mapped[str] = mapped_column(String(16))
    qty: Mapped[Decimal] = mapped_column(Amount)
    filled_qty: Mapped[Decimal] = mapped_column(Amount)
    avg_price: Mapped[Decimal | None] = mapped_column(Amount)
    trades: Mapped[list[dict[str, str]]] = mapped_column(Json, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    ts: Mapped[datetime] = mapped_column(UtcDateTime)


class NotificationRow(Base):
    """Outbox of messages to users and admins: written first, delivered when Telegram answers."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)  # a picture sent with `text` as its caption


class AlertRow(Base):
    """An admin alert episode: from the first occurrence of its key to its resolution; repeats are grouped."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_key_resolved", "key", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    unsent: Mapped[int] = mapped_column(Integer, default=0)  # repeats since the last message about it
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InviteRow(Base):
    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    uses_left: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
