"""Signals and the decisions taken on them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping

from engine.domain.enums import DecisionOutcome, Side, SignalAction, SignalSource
from engine.domain.ids import DecisionId, SignalId, StrategyId, Symbol, UserId
from engine.domain.signals import Decision, Refusal, Signal
from engine.ports import StoredSignal
from storage.models import DecisionRow, SignalRow
from storage.repositories.base import SqlRepository, dec, dec_or_none

_signals = SignalRow.__table__
_decisions = DecisionRow.__table__
# Built once: the duplicate check runs for every signal.
_RECENT_KEYS = select(_decisions.c.user_id, _decisions.c.signal_key).where(
    _decisions.c.user_id.in_(bindparam("users", expanding=True)),
    _decisions.c.signal_key.in_(bindparam("keys", expanding=True)),
    _decisions.c.ts >= bindparam("since"),
    _decisions.c.outcome == DecisionOutcome.ACCEPTED.value,
)


class SqlSignalRepository(SqlRepository):
    async def add(self, signal: Signal, status: str) -> Signal:
        statement = insert(_signals).values(**_signal_values(signal, status)).returning(_signals.c.id)
        new_id = (await self.session.execute(statement)).scalar_one()
        return replace(signal, id=SignalId(new_id))

    async def set_status(self, signal: Signal, status: str) -> None:
        await self.session.execute(update(_signals).where(_signals.c.id == signal.id).values(status=status))

    async def set_statuses(self, statuses: Sequence[tuple[Signal, str]]) -> None:
        """Several signals' outcomes: one statement per distinct status."""
        by_status: dict[str, list[int]] = {}
        for signal, status in statuses:
            by_status.setdefault(status, []).append(int(signal.id or 0))
        for status, ids in by_status.items():
            await self.session.execute(update(_signals).where(_signals.c.id.in_(ids)).values(status=status))

    async def find_by_key(self, idempotency_key: str) -> Signal | None:
        query = select(_signals).where(_signals.c.idempotency_key == idempotency_key)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _signal(row)

    async def add_inbound(self, items: Sequence[tuple[Signal, str]], received_at: datetime) -> dict[str, Signal]:
        """Store inbound signals (with their content hashes) as received, skipping any whose idempotency key is
        taken; returns the stored ones by key."""
        if not items:
            return {}
        rows = [
            {**_signal_values(signal, "received"), "content_hash": content_hash, "received_at": received_at}
            for signal, content_hash in items
        ]
        dialect = self.session.get_bind().dialect.name
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(_signals)
        statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
            _signals.c.id, _signals.c.idempotency_key
        )
        ids = {key: new_id for new_id, key in (await self.session.execute(statement, rows)).all()}
        return {
            s.idempotency_key: replace(s, id=SignalId(ids[s.idempotency_key]))
            for s, _ in items
            if s.idempotency_key in ids
        }  # type: ignore[index]

    async def find_duplicates(
        self, keys: Sequence[str], content_hashes: Sequence[str], since: datetime
    ) -> list[StoredSignal]:
        """Stored signals with one of these keys (ever), or one of these contents received since `since`."""
        by_key = _signals.c.idempotency_key.in_(sorted(set(keys)))
        by_content = and_(_signals.c.content_hash.in_(sorted(set(content_hashes))), _signals.c.received_at >= since)
        query = select(_signals).where(or_(by_key, by_content)).order_by(_signals.c.id)
        rows = (await self.session.execute(query)).mappings()
        return [_stored(row) for row in rows]

    async def pending(self, source: SignalSource) -> list[StoredSignal]:
        """Signals from `source` stored but never processed (the process stopped in between)."""
        query = (
            select(_signals)
            .where(_signals.c.source == source.value, _signals.c.status == "received")
            .order_by(_signals.c.id)
        )
        return [_stored(row) for row in (await self.session.execute(query)).mappings()]


class SqlDecisionRepository(SqlRepository):
    async def add_many(self, decisions: Sequence[Decision]) -> list[Decision]:
        if not decisions:
            return []
        rows = [_decision_values(d) for d in decisions]
        if self.session.get_bind().dialect.name == "sqlite":
            # One executemany instead of one INSERT ... RETURNING per row (SQLite cannot order a multi-row
            # RETURNING). The unit of work holds SQLite's only write lock, so the new ids are the last ones.
            await self.session.execute(insert(_decisions), rows)
            last = (await self.session.execute(select(func.max(_decisions.c.id)))).scalar_one()
            ids: list[int] = list(range(last - len(rows) + 1, last + 1))
        else:
            statement = insert(_decisions).returning(_decisions.c.id, sort_by_parameter_order=True)
            ids = list((await self.session.execute(statement, rows)).scalars())
        return [replace(d, id=DecisionId(i)) for d, i in zip(decisions, ids, strict=True)]

    async def recent_keys(
        self, user_ids: Sequence[UserId], keys: Collection[str], since: datetime
    ) -> dict[UserId, set[str]]:
        """Which of `keys` each user's accepted decisions carried since `since`, for the duplicate check (looked
        up by key: a user's whole day of decisions is never read)."""
        found: dict[UserId, set[str]] = {}
        ids, wanted = sorted(set(user_ids)), sorted(set(keys))
        for start in range(0, len(ids) if wanted else 0, 500):
            parameters = {"users": ids[start : start + 500], "keys": wanted, "since": since}
            for user_id, key in (await self.session.execute(_RECENT_KEYS, parameters)).all():
                found.setdefault(UserId(user_id), set()).add(key)
        return found
        for start in range(0, len(ids), 500):
            query = select(_decisions.c.user_id, _decisions.c.signal_key).where(
                _decisions.c.signal_key.in_(wanted),
                _decisions.c.user_id.in_(ids[start : start + 500]),
                _decisions.c.ts >= since,
                _decisions.c.outcome == DecisionOutcome.ACCEPTED.value,
                _decisions.c.signal_key.is_not(None),
            )
            for user_id, key in (await self.session.execute(query)).all():
                found.setdefault(UserId(user_id), set()).add(key)
        return found

    async def latest_for_user(self, user_id: UserId, limit: int = 5) -> list[Decision]:
        query = (
            select(_decisions)
            .where(_decisions.c.user_id == user_id)
            .order_by(_decisions.c.ts.desc(), _decisions.c.id.desc())
            .limit(limit)
        )
        return [_decision(row) for row in (await self.session.execute(query)).mappings()]


def _signal_values(signal: Signal, status: str) -> dict[str, object]:
    return {
        "strategy": signal.strategy,
        "source": signal.source.value,
        "symbol": signal.symbol,
        "action": signal.action.value,
        "side": signal.side.value,
        "price": signal.price,
        "strength": signal.strength,
        "stop_price": signal.stop_price,
        "take_profit": signal.take_profit,
        "rationale": signal.rationale,
        "timeframe": signal.timeframe,
        "idempotency_key": signal.idempotency_key,
        "metadata": signal.metadata,
        "status": status,
        "ts": signal.ts,
    }


def _decision_values(decision: Decision) -> dict[str, object]:
    return {
        "user_id": decision.user_id,
        "signal_id": decision.signal_id,
        "symbol": decision.symbol,
        "side": decision.side.value,
        "outcome": decision.outcome.value,
        "refusals": [{"code": r.code, "message": r.message} for r in decision.refusals],
        "qty": decision.qty,
        "price": decision.price,
        "strategy": decision.strategy,
        "rationale": decision.rationale,
        "client_order_id": decision.client_order_id,
        "signal_key": decision.signal_key,
        "ts": decision.ts,
    }


def _decision(row: RowMapping) -> Decision:
    return Decision(
        id=DecisionId(row["id"]),
        user_id=UserId(row["user_id"]),
        signal_id=SignalId(row["signal_id"]) if row["signal_id"] is not None else None,
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        outcome=DecisionOutcome(row["outcome"]),
        refusals=tuple(Refusal(r["code"], r["message"]) for r in row["refusals"] or ()),
        qty=dec_or_none(row["qty"]),
        price=dec_or_none(row["price"]),
        strategy=row["strategy"],
        rationale=row["rationale"],
        client_order_id=row["client_order_id"],
        signal_key=row["signal_key"],
        ts=row["ts"],
    )


def _stored(row: RowMapping) -> StoredSignal:
    return StoredSignal(_signal(row), row["status"], row["received_at"], row["content_hash"])


def _signal(row: RowMapping) -> Signal:
    return Signal(
        id=SignalId(row["id"]),
        strategy=StrategyId(row["strategy"]),
        source=SignalSource(row["source"]),
        symbol=Symbol(row["symbol"]),
        action=SignalAction(row["action"]),
        side=Side(row["side"]),
        price=dec(row["price"]),
        strength=dec(row["strength"]),
        stop_price=dec_or_none(row["stop_price"]),
        take_profit=dec_or_none(row["take_profit"]),
        rationale=row["rationale"],
        timeframe=row["timeframe"],
        idempotency_key=row["idempotency_key"],
        metadata=dict(row["metadata"] or {}),
        ts=row["ts"],
    )
