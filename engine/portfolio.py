"""What a user holds and how it went: the read side behind `/portfolio`, `/history`, `/pnl`, `/why` and
reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from engine.accounts_view import AccountValue, value_account
from engine.domain.accounts import User
from engine.domain.money import ZERO
from engine.domain.positions import Position
from engine.domain.signals import Decision
from engine.ports import FillRecord, PriceSource, UnitOfWorkFactory


class Period(StrEnum):
    DAY = "day"  # since 00:00 UTC
    WEEK = "week"  # the last 7 days
    MONTH = "month"  # the last 30 days

    def start(self, now: datetime) -> datetime:
        if self is Period.DAY:
            return now.replace(hour=0, minute=0, second=0, microsecond=0)
        return now - timedelta(days=7 if self is Period.WEEK else 30)


@dataclass(frozen=True, slots=True)
class PeriodPnl:
    period: Period
    since: datetime
    closed: tuple[Position, ...]  # positions closed in the period
    unrealized: Decimal  # open positions, now
    equity_then: Decimal | None  # the first equity mark in the period, if any
    equity_now: Decimal | None

    @property
    def realized(self) -> Decimal:
        """Closed positions' results, net of every fee."""
        return sum((p.net_realized_pnl for p in self.closed), start=ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((p.fees for p in self.closed), start=ZERO)

    @property
    def wins(self) -> int:
        return sum(1 for p in self.closed if p.net_realized_pnl > 0)

    @property
    def equity_change(self) -> Decimal | None:
        if self.equity_then is None or self.equity_now is None:
            return None
        return self.equity_now - self.equity_then


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

    async def period_pnl(self, user: User, period: Period, now: datetime) -> PeriodPnl:
        """Results over `period` up to `now`: closed positions, open ones, and the equity change."""
        since = period.start(now)
        async with self._uow() as uow:
            closed = await uow.positions.closed_for_user(user.id, since)
            series = await uow.equity.series(user.id, since)
        view = await self.value(user)
        return PeriodPnl(
            period=period,
            since=since,
            closed=tuple(p for p in closed if p.closed_at is not None and p.closed_at >= since),
            unrealized=view.unrealized_pnl if view else ZERO,
            equity_then=series[0][1] if series else None,
            equity_now=view.equity if view else None,
        )
