"""Fail closed: put one account in reduce-only (exits still run, entries are refused) and tell the admins.

Used when the venue refuses an account's keys or permissions, and when reconciliation finds a difference
between our books and the venue's that it cannot explain (as NautilusTrader refuses to trade then).
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.events import AlertRaised, Severity
from engine.domain.ids import AccountId
from engine.errors import OperationalError
from engine.ports import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class AccountGuard:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus

    async def halt(self, account_id: AccountId, reason: str, *, title: str) -> bool:
        """Put the account in reduce-only with `reason` and alert the admins; False if it already was, for that."""
        now = self._clock.now()
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None or (account.is_reduce_only and account.status_reason == reason):
                return False
            await uow.accounts.save(replace(account, is_reduce_only=True, status_reason=reason))
            await uow.risk_events.add(
                ts=now, user_id=account.user_id, kind="account_reduce_only", state=None, reason=reason
            )
            await uow.audit.add(ts=now, actor="engine", action="account.reduce_only", target=str(account_id))
            await uow.commit()
        log.error("account.reduce_only", account=account_id, user=account.user_id, reason=reason)
        await self._bus.publish(
            AlertRaised(
                ts=now,
                severity=Severity.P1,
                key=f"account:{account_id}:{title}",
                title=f"{title}: account {account_id} (user {account.user_id}) is reduce-only",
                detail=reason,
            )
        )
        return True

    async def on_operational_error(self, account_id: AccountId, error: OperationalError) -> None:
        """The venue refused the account's keys or permissions: stop opening positions with it."""
        await self.halt(account_id, str(error), title="exchange refused the account")
