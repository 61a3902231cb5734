"""Append-only records and small state: risk events, processing errors, audit log, system state, equity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from engine.domain.enums import TradingState
from engine.domain.ids import UserId
from storage.models import AuditRow, EquitySnapshotRow, ProcessingErrorRow, RiskEventRow, SystemStateRow
from storage.repositories.base import SqlRepository, dec

_risk_events = RiskEventRow.__table__
_errors = ProcessingErrorRow.__table__
_audit = AuditRow.__table__
_system = SystemStateRow.__table__
_equity = EquitySnapshotRow.__table__


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
