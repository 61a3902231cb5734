"""The outbox of messages: written first, marked sent when Telegram accepted them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from engine.ports import OutboxMessage
from storage.models import NotificationRow
from storage.repositories.base import SqlRepository

_outbox = NotificationRow.__table__


class SqlNotificationRepository(SqlRepository):
    async def add_many(self, messages: Sequence[OutboxMessage]) -> None:
        if messages:
            rows = [
                {"chat_id": m.chat_id, "kind": m.kind, "text": m.text, "created_at": m.created_at, "photo": m.photo}
                for m in messages
            ]
            await self.session.execute(insert(_outbox), rows)

    async def pending(self, limit: int = 50) -> list[OutboxMessage]:
        query = select(_outbox).where(_outbox.c.sent_at.is_(None)).order_by(_outbox.c.id).limit(limit)
        return [
            OutboxMessage(
                id=r["id"],
                chat_id=r["chat_id"],
                kind=r["kind"],
                text=r["text"],
                created_at=r["created_at"],
                attempts=r["attempts"],
                photo=r["photo"],
            )
            for r in (await self.session.execute(query)).mappings()
        ]

    async def mark_sent(self, ids: Sequence[int], ts: datetime) -> None:
        if ids:
            # a delivered picture is not kept: Telegram has it, the report keeps its figures
            statement = update(_outbox).where(_outbox.c.id == bindparam("b_id")).values(sent_at=ts, photo=None)
            await self.session.execute(statement, [{"b_id": i} for i in ids])

    async def mark_failed(self, message_id: int, error: str, give_up_at: datetime | None) -> None:
        values: dict[str, object] = {"attempts": _outbox.c.attempts + 1, "last_error": error[:500]}
        if give_up_at is not None:
            values["sent_at"] = give_up_at  # dropped for good (e.g. the user blocked the bot); the error says why
            values["photo"] = None
        await self.session.execute(update(_outbox).where(_outbox.c.id == message_id).values(**values))
