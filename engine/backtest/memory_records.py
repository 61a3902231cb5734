"""Signals, decisions and the append-only records kept in memory, behind the same ports as the SQL repositories."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.backtest.journal import IdSequence, Journal
from engine.backtest.memory_trading import TradingTables
from engine.domain.enums import SignalSource, TradingState, UserStatus
from engine.domain.ids import DecisionId, SignalId, StrategyId, UserId
from engine.domain.signals import Decision, Signal
from engine.ports import (
    AlertRecord,
    LlmUsageRecord,
    LlmUsageSummary,
    OutboxMessage,
    ReportRecord,
    StoredSignal,
    StrategyRecord,
)


@dataclass
class RecordTables:
    signals: dict[int, StoredSignal] = field(default_factory=dict)
    signals_by_key: dict[str, int] = field(default_factory=dict)
    signal_ids: IdSequence = field(default_factory=IdSequence)
    decisions: dict[int, Decision] = field(default_factory=dict)
    accepted_keys: dict[int, tuple[UserId, datetime, str]] = field(default_factory=dict)  # decision id -> key
    decision_ids: IdSequence = field(default_factory=IdSequence)
    risk_events: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: dict[int, dict[str, Any]] = field(default_factory=dict)
    audit: dict[int, dict[str, Any]] = field(default_factory=dict)
    record_ids: IdSequence = field(default_factory=IdSequence)
    system: dict[str, Any] = field(default_factory=dict)
    equity: dict[int, tuple[UserId, datetime, Decimal]] = field(default_factory=dict)
    outbox: dict[int, tuple[OutboxMessage, datetime | None]] = field(default_factory=dict)
    strategies: dict[str, StrategyRecord] = field(default_factory=dict)
    llm_usage: dict[int, LlmUsageRecord] = field(default_factory=dict)
    alerts: dict[int, AlertRecord] = field(default_factory=dict)
    reports: dict[int, ReportRecord] = field(default_factory=dict)


class MemorySignalRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add(self, signal: Signal, status: str) -> Signal:
        return self._store(signal, status, None, None)

    async def set_status(self, signal: Signal, status: str) -> None:
        await self.set_statuses([(signal, status)])

    async def set_statuses(self, statuses: Sequence[tuple[Signal, str]]) -> None:
        for signal, status in statuses:
            stored = self._t.signals.get(int(signal.id or 0))
            if stored is not None:
                self._j.put(self._t.signals, int(signal.id or 0), replace(stored, status=status))

    async def find_by_key(self, idempotency_key: str) -> Signal | None:
        signal_id = self._t.signals_by_key.get(idempotency_key)
        return None if signal_id is None else self._t.signals[signal_id].signal

    async def add_inbound(self, items: Sequence[tuple[Signal, str]], received_at: datetime) -> dict[str, Signal]:
        stored: dict[str, Signal] = {}
        for signal, content_hash in items:
            if signal.idempotency_key is None or signal.idempotency_key in self._t.signals_by_key:
                continue
            stored[signal.idempotency_key] = self._store(signal, "received", received_at, content_hash)
        return stored

    async def find_duplicates(
        self, keys: Sequence[str], content_hashes: Sequence[str], since: datetime
    ) -> list[StoredSignal]:
        wanted_keys, wanted_hashes = set(keys), set(content_hashes)
        return [
            s
            for s in self._t.signals.values()
            if s.signal.idempotency_key in wanted_keys
            or (s.content_hash in wanted_hashes and s.received_at is not None and s.received_at >= since)
        ]

    async def pending(self, source: SignalSource) -> list[StoredSignal]:
        return [s for s in self._t.signals.values() if s.signal.source is source and s.status == "received"]

    def _store(self, signal: Signal, status: str, received_at: datetime | None, content_hash: str | None) -> Signal:
        key = signal.idempotency_key
        if key is not None and key in self._t.signals_by_key:
            raise ValueError(f"signal key {key} is taken")  # the unique constraint
        stored = replace(signal, id=SignalId(self._t.signal_ids.next()))
        self._j.put(self._t.signals, int(stored.id or 0), StoredSignal(stored, status, received_at, content_hash))
        if key is not None:
            self._j.put(self._t.signals_by_key, key, int(stored.id or 0))
        return stored


class MemoryDecisionRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, decisions: Sequence[Decision]) -> list[Decision]:
        added = []
        for decision in decisions:
            stored = replace(decision, id=DecisionId(self._t.decision_ids.next()))
            self._j.put(self._t.decisions, int(stored.id or 0), stored)
            if stored.is_accepted and stored.signal_key is not None:
                entry = (stored.user_id, stored.ts, stored.signal_key)
                self._j.put(self._t.accepted_keys, int(stored.id or 0), entry)
            added.append(stored)
        return added

    async def latest_for_user(self, user_id: UserId, limit: int = 5) -> list[Decision]:
        mine = [d for d in self._t.decisions.values() if d.user_id == user_id]
        return sorted(mine, key=lambda d: (d.ts, d.id or 0), reverse=True)[:limit]

    async def recent_keys(
        self, user_ids: Sequence[UserId], keys: Collection[str], since: datetime
    ) -> dict[UserId, set[str]]:
        """Which of `keys` each user's accepted decisions carried since `since`, for the duplicate check."""
        wanted, wanted_keys = set(user_ids), set(keys)
        found: dict[UserId, set[str]] = {}
        for user_id, ts, key in reversed(self._t.accepted_keys.values()):
            if ts < since:
                break  # decisions are stored in market-time order: everything earlier is older still
            if user_id in wanted and key in wanted_keys:
                found.setdefault(user_id, set()).add(key)
        return found


class MemoryRiskEventRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add(
        self,
        *,
        ts: datetime,
        user_id: UserId | None,
        kind: str,
        state: TradingState | None,
        reason: str,
        until: datetime | None = None,
    ) -> None:
        row_id = self._t.record_ids.next()
        row = {
            "id": row_id,
            "ts": ts,
            "user_id": user_id,
            "kind": kind,
            "state": state.value if state else None,
            "reason": reason,
            "until": until,
        }
        self._j.put(self._t.risk_events, row_id, row)

    async def since(self, moment: datetime) -> list[dict[str, Any]]:
        return [dict(row) for row in self._t.risk_events.values() if row["ts"] >= moment]


class MemoryErrorRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add(self, *, ts: datetime, source: str, message: str, context: Mapping[str, Any] | None = None) -> None:
        row_id = self._t.record_ids.next()
        row = {"id": row_id, "ts": ts, "source": source, "message": message[:4000], "context": dict(context or {})}
        self._j.put(self._t.errors, row_id, row)

    async def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        return [dict(row) for row in reversed(self._t.errors.values())][:limit]

    async def count_by_source(self, since: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._t.errors.values():
            if row["ts"] >= since:
                counts[row["source"]] = counts.get(row["source"], 0) + 1
        return counts


class MemoryAuditRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add(
        self, *, ts: datetime, actor: str, action: str, target: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        row_id = self._t.record_ids.next()
        row = {
            "id": row_id,
            "ts": ts,
            "actor": actor,
            "action": action,
            "target": target,
            "details": dict(details or {}),
        }
        self._j.put(self._t.audit, row_id, row)


class MemorySystemStateRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def get(self, key: str) -> Any | None:
        return self._t.system.get(key)

    async def set(self, key: str, value: Any, ts: datetime) -> None:
        self._j.put(self._t.system, key, value)


class MemoryEquityRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, points: Sequence[tuple[UserId, datetime, Decimal]]) -> None:
        for point in points:
            self._j.put(self._t.equity, self._t.record_ids.next(), point)

    async def series(self, user_id: UserId, since: datetime | None = None) -> list[tuple[datetime, Decimal]]:
        points = [(ts, e) for u, ts, e in self._t.equity.values() if u == user_id and (since is None or ts >= since)]
        return sorted(points, key=lambda p: p[0])

    async def hourly(self, user_ids: Sequence[UserId], since: datetime) -> dict[UserId, list[tuple[datetime, Decimal]]]:
        """Each user's last equity mark of every hour since `since`."""
        last: dict[tuple[UserId, datetime], tuple[datetime, Decimal]] = {}
        wanted = set(user_ids)
        for user_id, ts, equity in self._t.equity.values():  # in the order they were marked
            if user_id in wanted and ts >= since:
                last[(user_id, ts.replace(minute=0, second=0, microsecond=0))] = (ts, equity)
        found: dict[UserId, list[tuple[datetime, Decimal]]] = {u: [] for u in user_ids}
        for (user_id, _), point in last.items():
            found[user_id].append(point)
        return {u: sorted(points, key=lambda p: p[0]) for u, points in found.items()}


class MemoryNotificationRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            row_id = self._t.record_ids.next()
            self._j.put(self._t.outbox, row_id, (replace(message, id=row_id, attempts=0), None))

    async def pending(self, limit: int = 50) -> list[OutboxMessage]:
        return [m for m, sent in self._t.outbox.values() if sent is None][:limit]

    async def mark_sent(self, ids: Sequence[int], ts: datetime) -> None:
        for row_id in ids:
            if row_id in self._t.outbox:
                self._j.put(self._t.outbox, row_id, (self._t.outbox[row_id][0], ts))

    async def mark_failed(self, message_id: int, error: str, give_up_at: datetime | None) -> None:
        row = self._t.outbox.get(message_id)
        if row is not None:
            message, sent = row
            self._j.put(
                self._t.outbox, message_id, (replace(message, attempts=message.attempts + 1), give_up_at or sent)
            )


class MemoryStrategyRepository:
    def __init__(self, tables: RecordTables, trading: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._trading = trading
        self._j = journal

    async def ensure(self, records: Sequence[StrategyRecord], ts: datetime) -> list[str]:
        new = [r for r in records if r.id not in self._t.strategies]
        for record in new:
            self._j.put(self._t.strategies, record.id, record)
        return [r.id for r in new]

    async def list(self) -> list[StrategyRecord]:
        return sorted(self._t.strategies.values(), key=lambda r: r.id)

    async def set_enabled(self, strategy_id: str, enabled: bool, ts: datetime) -> bool:
        record = self._t.strategies.get(strategy_id)
        if record is None:
            return False
        self._j.put(self._t.strategies, strategy_id, replace(record, enabled=enabled))
        return True

    async def follower_counts(self) -> dict[str, int]:
        """Active users following each strategy."""
        counts: dict[str, int] = {}
        users = self._trading.users
        for user_id, chosen in self._trading.subscriptions.items():
            if users[user_id].status is not UserStatus.ACTIVE:
                continue
            for strategy in chosen:
                counts[strategy] = counts.get(strategy, 0) + 1
        return counts

    async def add_followers(self, strategy_id: str, user_ids: Sequence[UserId], ts: datetime) -> None:
        for user_id in sorted(set(user_ids)):
            chosen = self._trading.subscriptions.get(user_id, ())
            if strategy_id not in chosen:
                self._j.put(self._trading.subscriptions, user_id, (*chosen, StrategyId(strategy_id)))


class MemoryLlmUsageRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add(self, record: LlmUsageRecord) -> None:
        self._j.put(self._t.llm_usage, self._t.record_ids.next(), record)

    async def summary(self, since: datetime) -> LlmUsageSummary:
        return LlmUsageSummary.of([r for r in self._t.llm_usage.values() if r.ts >= since])


class MemoryAlertRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def open_for(self, key: str) -> AlertRecord | None:
        found = [a for a in self._t.alerts.values() if a.key == key and a.is_open]
        return found[-1] if found else None

    async def open_all(self) -> list[AlertRecord]:
        return [a for a in self._t.alerts.values() if a.is_open]

    async def since(self, moment: datetime) -> list[AlertRecord]:
        """Episodes seen since `moment` (started then, or still repeating)."""
        return [a for a in self._t.alerts.values() if a.last_seen >= moment]

    async def save(self, record: AlertRecord) -> AlertRecord:
        if record.id is None:
            record = record.evolve(id=self._t.record_ids.next())
        assert record.id is not None
        self._j.put(self._t.alerts, record.id, record)
        return record


class MemoryReportRepository:
    def __init__(self, tables: RecordTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, reports: Sequence[ReportRecord]) -> None:
        for report in reports:
            self._j.put(self._t.reports, self._t.record_ids.next(), report)

    async def users_with(self, kind: str, period_start: datetime) -> set[UserId]:
        """Users who already got the `kind` report of the period starting at `period_start`."""
        return {
            r.user_id
            for r in self._t.reports.values()
            if r.kind == kind and r.period_start == period_start and r.user_id is not None
        }

    async def latest(self, kind: str, user_id: UserId | None = None) -> ReportRecord | None:
        for report in reversed(self._t.reports.values()):
            if report.kind == kind and (user_id is None or report.user_id == user_id):
                return report
        return None
