"""Admin alert episodes: the open one per key, grouped repeats, and the history for reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from engine.ports import AlertRecord
from storage.models import AlertRow
from storage.repositories.base import SqlRepository

_alerts = AlertRow.__table__


class SqlAlertRepository(SqlRepository):
    async def open_for(self, key: str) -> AlertRecord | None:
        query = select(_alerts).where(_alerts.c.key == key, _alerts.c.resolved_at.is_(None)).order_by(_alerts.c.id)
        rows = (await self.session.execute(query)).mappings().all()
        return _record(rows[-1]) if rows else None

    async def open_all(self) -> list[AlertRecord]:
        query = select(_alerts).where(_alerts.c.resolved_at.is_(None)).order_by(_alerts.c.id)
        return [_record(row) for row in (await self.session.execute(query)).mappings()]

    async def since(self, moment: datetime) -> list[AlertRecord]:
        """Episodes seen since `moment` (started then, or still repeating)."""
        query = select(_alerts).where(_alerts.c.last_seen >= moment).order_by(_alerts.c.id)
        return [_record(row) for row in (await self.session.execute(query)).mappings()]

    async def save(self, record: AlertRecord) -> AlertRecord:
        values = {
            "key": record.key,
            "severity": record.severity,
            "title": record.title[:2000],
            "detail": record.detail[:4000],
            "first_seen": record.first_seen,
            "last_seen": record.last_seen,
            "occurrences": record.occurrences,
            "unsent": record.unsent,
            "last_sent_at": record.last_sent_at,
            "resolved_at": record.resolved_at,
        }
        if record.id is None:
            new_id = (await self.session.execute(insert(_alerts).values(**values).returning(_alerts.c.id))).scalar_one()
            return record.evolve(id=new_id)
        await self.session.execute(update(_alerts).where(_alerts.c.id == record.id).values(**values))
        return record


def _record(row: RowMapping) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        key=row["key"],
        severity=row["severity"],
        title=row["title"],
        detail=row["detail"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        occurrences=row["occurrences"],
        unsent=row["unsent"],
        last_sent_at=row["last_sent_at"],
        resolved_at=row["resolved_at"],
    )
