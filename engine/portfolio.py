"""What a user holds and how it went: the read side behind `/portfolio`, `/history`, `/why` and reports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.accounts_view import AccountValue, value_account
from engine.domain.accounts import User
from engine.domain.signals import Decision
from engine.ports import FillRecord, PriceSource, UnitOfWorkFactory


class PortfolioService:
    def __init__(self, uow: UnitOfWorkFactory, prices: PriceSource) -> None:
        self._uow = uow
        self._prices = prices

    async def value(self, user: User) -> AccountValue | None:
        async with self._uow() as uow:
            account = await uow.accounts.for_user(user.id)
            if account is None:
                return None
            positions = await uow.positions.open_for_account(account.id)
        return value_account(user, account, positions, self._prices)

    async def fills(self, user: User, limit: int = 10, since: datetime | None = None) -> list[FillRecord]:
        async with self._uow() as uow:
            return await uow.fills.for_user(user.id, since=since, limit=limit)

    async def decisions(self, user: User, limit: int = 5) -> list[Decision]:
        async with self._uow() as uow:
            return await uow.decisions.latest_for_user(user.id, limit)

    async def equity_series(self, user: User, since: datetime | None = None) -> list[tuple[datetime, Decimal]]:
        async with self._uow() as uow:
            return await uow.equity.series(user.id, since)
