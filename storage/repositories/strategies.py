"""The strategies users can follow, and whether admins have them enabled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from engine.ports import StrategyRecord
from storage.models import StrategyRow
from storage.repositories.base import SqlRepository

_strategies = StrategyRow.__table__


class SqlStrategyRepository(SqlRepository):
    async def ensure(self, records: Sequence[StrategyRecord], ts: datetime) -> None:
        """Register strategies the code provides; an admin's enabled/disabled choice is kept."""
        known = set((await self.session.execute(select(_strategies.c.id))).scalars())
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "enabled": r.enabled,
                "params": {},
                "description": r.description,
                "updated_at": ts,
            }
            for r in records
            if r.id not in known
        ]
        if rows:
            await self.session.execute(insert(_strategies), rows)

    async def list(self) -> list[StrategyRecord]:
        rows = (await self.session.execute(select(_strategies).order_by(_strategies.c.id))).mappings()
        return [
            StrategyRecord(id=r["id"], kind=r["kind"], enabled=r["enabled"], description=r["description"]) for r in rows
        ]

    async def set_enabled(self, strategy_id: str, enabled: bool, ts: datetime) -> bool:
        result = await self.session.execute(
            update(_strategies).where(_strategies.c.id == strategy_id).values(enabled=enabled, updated_at=ts)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
