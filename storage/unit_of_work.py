"""The unit of work: one session per piece of work, committed explicitly, rolled back otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import SecretBox
from storage.repositories.alerts import SqlAlertRepository
from storage.repositories.llm_usage import SqlLlmUsageRepository
from storage.repositories.notifications import SqlNotificationRepository
from storage.repositories.paper import SqlPaperLedger
from storage.repositories.records import (
    SqlAuditRepository,
    SqlEquityRepository,
    SqlErrorRepository,
    SqlReportRepository,
    SqlRiskEventRepository,
    SqlSystemStateRepository,
)
from storage.repositories.signals import SqlDecisionRepository, SqlSignalRepository
from storage.repositories.strategies import SqlStrategyRepository
from storage.repositories.trading import SqlFillRepository, SqlOrderRepository, SqlPositionRepository
from storage.repositories.users import SqlAccountRepository, SqlUserRepository


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._session = self._sessions()
        self.users = SqlUserRepository(session)
        self.accounts = SqlAccountRepository(session, self._secrets)
        self.orders = SqlOrderRepository(session)
        self.fills = SqlFillRepository(session)
        self.positions = SqlPositionRepository(session)
        self.signals = SqlSignalRepository(session)
        self.decisions = SqlDecisionRepository(session)
        self.risk_events = SqlRiskEventRepository(session)
        self.errors = SqlErrorRepository(session)
        self.audit = SqlAuditRepository(session)
        self.system = SqlSystemStateRepository(session)
        self.equity = SqlEquityRepository(session)
        self.paper = SqlPaperLedger(session)
        self.notifications = SqlNotificationRepository(session)
        self.strategies = SqlStrategyRepository(session)
        self.llm_usage = SqlLlmUsageRepository(session)
        self.alerts = SqlAlertRepository(session)
        self.reports = SqlReportRepository(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self._require()
        try:
            await session.rollback()  # a no-op after commit; undoes anything uncommitted
        finally:
            await session.close()
            self._session = None

    @property
    def session(self) -> AsyncSession:
        return self._require()

    async def commit(self) -> None:
        await self._require().commit()

    async def rollback(self) -> None:
        await self._require().rollback()

    def _require(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session


class SqlUnitOfWorkFactory:
    """Makes a fresh unit of work for each piece of work; never share one between tasks."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._secrets)
