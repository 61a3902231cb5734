"""The strategies users can follow, whether admins have them enabled, and who follows them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from engine.domain.enums import UserStatus
from engine.domain.ids import UserId
from engine.ports import StrategyRecord
from storage.models import StrategyRow, SubscriptionRow, UserRow
from storage.repositories.base import SqlRepository

_strategies = StrategyRow.__table__
_subscriptions = SubscriptionRow.__table__
_users = UserRow.__table__


class SqlStrategyRepository(SqlRepository):
    async def ensure(self, records: Sequence[StrategyRecord], ts: datetime) -> list[str]:
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
        return [row["id"] for row in rows]

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

    async def follower_counts(self) -> dict[str, int]:
        """Active users following each strategy."""
        query = (
            select(_subscriptions.c.strategy_id, func.count())
            .join(_users, _users.c.id == _subscriptions.c.user_id)
            .where(_users.c.status == UserStatus.ACTIVE.value)
            .group_by(_subscriptions.c.strategy_id)
        )
        return {name: int(count) for name, count in (await self.session.execute(query)).all()}

    async def add_followers(self, strategy_id: str, user_ids: Sequence[UserId], ts: datetime) -> None:
        """Subscribe users to a strategy, leaving existing subscriptions as they are."""
        query = select(_subscriptions.c.user_id).where(_subscriptions.c.strategy_id == strategy_id)
        already = set((await self.session.execute(query)).scalars())
        rows = [
            {"user_id": u, "strategy_id": strategy_id, "created_at": ts}
            for u in sorted(set(user_ids))
            if u not in already
        ]
        if rows:
            await self.session.execute(insert(_subscriptions), rows)
