"""Append-only records and small state: risk events, processing errors, audit log, system state, equity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from engine.domain.enums import TradingState
from engine.domain.ids import UserId
from engine.ports import ReportRecord
from storage.models import AuditRow, EquitySnapshotRow, ProcessingErrorRow, ReportRow, RiskEventRow, SystemStateRow
from storage.repositories.base import SqlRepository, dec

_risk_events = RiskEventRow.__table__
_errors = ProcessingErrorRow.__table__
_audit = AuditRow.__table__
_system = SystemStateRow.__table__
_equity = EquitySnapshotRow.__table__
_reports = ReportRow.__table__


class SqlRiskEventRepository(SqlRepository):
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
        values = {
            "ts": ts,
            "user_id": user_id,
            "kind": kind,
            "state": state.value if state else None,
            "reason": reason,
            "until": until,
        }
        await self.session.execute(insert(_risk_events).values(**values))

    async def since(self, moment: datetime) -> list[dict[str, Any]]:
        query = select(_risk_events).where(_risk_events.c.ts >= moment).order_by(_risk_events.c.id)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]


class SqlErrorRepository(SqlRepository):
    async def add(self, *, ts: datetime, source: str, message: str, context: Mapping[str, Any] | None = None) -> None:
        values = {"ts": ts, "source": source, "message": message[:4000], "context": dict(context or {})}
        await self.session.execute(insert(_errors).values(**values))

    async def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        query = select(_errors).order_by(_errors.c.id.desc()).limit(limit)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def count_by_source(self, since: datetime) -> dict[str, int]:
        query = select(_errors.c.source, func.count()).where(_errors.c.ts >= since).group_by(_errors.c.source)
        return {source: count for source, count in (await self.session.execute(query)).all()}


class SqlAuditRepository(SqlRepository):
    async def add(
        self, *, ts: datetime, actor: str, action: str, target: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        values = {"ts": ts, "actor": actor, "action": action, "target": target, "details": dict(details or {})}
        await self.session.execute(insert(_audit).values(**values))


class SqlSystemStateRepository(SqlRepository):
    async def get(self, key: str) -> Any | None:
        query = select(_system.c.value).where(_system.c.key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def set(self, key: str, value: Any, ts: datetime) -> None:
        result = await self.session.execute(
            update(_system).where(_system.c.key == key).values(value=value, updated_at=ts)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.execute(insert(_system).values(key=key, value=value, updated_at=ts))


class SqlEquityRepository(SqlRepository):
    async def add_many(self, points: Sequence[tuple[UserId, datetime, Decimal]]) -> None:
        if points:
            rows = [{"user_id": u, "ts": ts, "equity": equity} for u, ts, equity in points]
            await self.session.execute(insert(_equity), rows)

    async def series(self, user_id: UserId, since: datetime | None = None) -> list[tuple[datetime, Decimal]]:
        query = select(_equity.c.ts, _equity.c.equity).where(_equity.c.user_id == user_id).order_by(_equity.c.ts)
        if since is not None:
            query = query.where(_equity.c.ts >= since)
        return [(ts, dec(equity)) for ts, equity in (await self.session.execute(query)).all()]

    async def hourly(self, user_ids: Sequence[UserId], since: datetime) -> dict[UserId, list[tuple[datetime, Decimal]]]:
        """Each user's last equity mark of every hour since `since` (charts of many users at once)."""
        found: dict[UserId, list[tuple[datetime, Decimal]]] = {u: [] for u in user_ids}
        ids = list(user_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            last_of_hour = (
                select(func.max(_equity.c.id))
                .where(_equity.c.user_id.in_(chunk), _equity.c.ts >= since)
                .group_by(_equity.c.user_id, self._hour(_equity.c.ts))
            )
            query = (
                select(_equity.c.user_id, _equity.c.ts, _equity.c.equity)
                .where(_equity.c.id.in_(last_of_hour))
                .order_by(_equity.c.user_id, _equity.c.ts)
            )
            for user_id, ts, equity in (await self.session.execute(query)).all():
                found[UserId(user_id)].append((ts, dec(equity)))
        return found

    def _hour(self, column: Any) -> Any:
        """The hour a timestamp falls in, as the database can group by it."""
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            return func.date_trunc("hour", column)
        return func.substr(column, 1, 13)  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"


class SqlReportRepository(SqlRepository):
    async def add_many(self, reports: Sequence[ReportRecord]) -> None:
        if reports:
            rows = [
                {
                    "ts": r.ts,
                    "kind": r.kind,
                    "user_id": r.user_id,
                    "period_start": r.period_start,
                    "period_end": r.period_end,
                    "body": r.body,
                    "figures": dict(r.figures),
                }
                for r in reports
            ]
            await self.session.execute(insert(_reports), rows)

    async def users_with(self, kind: str, period_start: datetime) -> set[UserId]:
        """Users who already got the `kind` report of the period starting at `period_start`."""
        query = select(_reports.c.user_id).where(_reports.c.kind == kind, _reports.c.period_start == period_start)
        return {UserId(u) for (u,) in (await self.session.execute(query)).all() if u is not None}

    async def latest(self, kind: str, user_id: UserId | None = None) -> ReportRecord | None:
        query = select(_reports).where(_reports.c.kind == kind).order_by(_reports.c.id.desc()).limit(1)
        if user_id is not None:
            query = query.where(_reports.c.user_id == user_id)
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        return ReportRecord(
            ts=row["ts"],
            kind=row["kind"],
            user_id=row["user_id"],
            period_start=row["period_start"],
            period_end=row["period_end"],
            body=row["body"],
            figures=row["figures"],
        )
