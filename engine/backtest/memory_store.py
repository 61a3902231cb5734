"""The storage ports in memory: one process-local database of dicts and a unit of work with an undo log.

A backtest runs the same engine as paper and live trading; only where its state lives differs. Changes
are visible at once to every unit of work (the engine runs one piece of work at a time, so there is no
one to hide them from) and a unit of work that ends without committing puts back what it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from engine.backtest.journal import Journal
from engine.backtest.memory_records import (
    MemoryAlertRepository,
    MemoryAuditRepository,
    MemoryDecisionRepository,
    MemoryEquityRepository,
    MemoryErrorRepository,
    MemoryLlmUsageRepository,
    MemoryNotificationRepository,
    MemoryReportRepository,
    MemoryRiskEventRepository,
    MemorySignalRepository,
    MemoryStrategyRepository,
    MemorySystemStateRepository,
    RecordTables,
)
from engine.backtest.memory_trading import (
    MemoryAccountRepository,
    MemoryFillRepository,
    MemoryOrderRepository,
    MemoryPositionRepository,
    MemoryUserRepository,
    TradingTables,
)
from engine.domain.ids import AccountId, ClientOrderId
from engine.domain.venue import Balance, OrderRequest, VenueOrder, VenueStatus

PaperKey = tuple[AccountId, ClientOrderId]


@dataclass
class PaperTables:
    balances: dict[AccountId, dict[str, Balance]] = field(default_factory=dict)
    orders: dict[PaperKey, tuple[OrderRequest, VenueOrder]] = field(default_factory=dict)
    open_orders: dict[PaperKey, None] = field(default_factory=dict)


class MemoryPaperLedger:
    def __init__(self, tables: PaperTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def balances_many(self, accounts: Sequence[AccountId]) -> dict[AccountId, dict[str, Balance]]:
        balances = self._t.balances
        return {a: dict(balances[a]) for a in accounts if a in balances}

    async def set_balances(self, balances: Mapping[AccountId, Mapping[str, Balance]]) -> None:
        for account_id, assets in balances.items():
            if account_id not in self._t.balances:
                self._j.put(self._t.balances, account_id, {})
            stored = self._t.balances[account_id]
            for asset, balance in assets.items():
                if stored.get(asset) != balance:
                    self._j.put(stored, asset, balance)

    async def clear_balances(self, account_id: AccountId) -> None:
        self._j.drop(self._t.balances, account_id)

    async def save_orders(self, orders: Sequence[tuple[OrderRequest, VenueOrder]], *, new: bool = False) -> None:
        for request, order in orders:
            key = (request.account_id, order.client_order_id)
            self._j.put(self._t.orders, key, (request, order))
            if order.status is VenueStatus.OPEN:
                self._j.put(self._t.open_orders, key, None)
            else:
                self._j.drop(self._t.open_orders, key)

    async def existing(self, keys: Sequence[PaperKey]) -> set[PaperKey]:
        orders = self._t.orders
        return {k for k in keys if k in orders}

    async def get_order(self, account_id: AccountId, client_order_id: ClientOrderId) -> VenueOrder | None:
        entry = self._t.orders.get((account_id, client_order_id))
        return None if entry is None else entry[1]

    async def get_orders(self, keys: Sequence[PaperKey]) -> dict[PaperKey, VenueOrder]:
        orders = self._t.orders
        return {k: orders[k][1] for k in keys if k in orders}

    async def open_orders(self, account_id: AccountId | None = None) -> list[tuple[OrderRequest, VenueOrder]]:
        found = [self._t.orders[k] for k in self._t.open_orders if account_id is None or k[0] == account_id]
        return sorted(found, key=lambda entry: entry[1].ts)

    async def orders_since(self, account_id: AccountId, moment: datetime | None) -> list[VenueOrder]:
        return [
            order
            for (owner, _), (_, order) in self._t.orders.items()
            if owner == account_id and (moment is None or order.ts >= moment)
        ]


@dataclass
class MemoryDatabase:
    """Everything a backtest stores, in process memory."""

    trading: TradingTables = field(default_factory=TradingTables)
    records: RecordTables = field(default_factory=RecordTables)
    paper: PaperTables = field(default_factory=PaperTables)


_REPOSITORIES: dict[str, tuple[str, Callable[..., Any]]] = {  # attribute: (tables, repository)
    "users": ("trading", MemoryUserRepository),
    "accounts": ("trading", MemoryAccountRepository),
    "orders": ("trading", MemoryOrderRepository),
    "fills": ("trading", MemoryFillRepository),
    "positions": ("trading", MemoryPositionRepository),
    "signals": ("records", MemorySignalRepository),
    "decisions": ("records", MemoryDecisionRepository),
    "risk_events": ("records", MemoryRiskEventRepository),
    "errors": ("records", MemoryErrorRepository),
    "audit": ("records", MemoryAuditRepository),
    "system": ("records", MemorySystemStateRepository),
    "equity": ("records", MemoryEquityRepository),
    "paper": ("paper", MemoryPaperLedger),
    "notifications": ("records", MemoryNotificationRepository),
    "llm_usage": ("records", MemoryLlmUsageRepository),
    "alerts": ("records", MemoryAlertRepository),
    "reports": ("records", MemoryReportRepository),
}


class MemoryUnitOfWork:
    """Implements the `UnitOfWork` port over a `MemoryDatabase`: commit keeps the changes, leaving undoes them.

    Repositories are made on first use (a unit of work usually touches two or three of them) and kept."""

    users: MemoryUserRepository
    accounts: MemoryAccountRepository
    orders: MemoryOrderRepository
    fills: MemoryFillRepository
    positions: MemoryPositionRepository
    signals: MemorySignalRepository
    decisions: MemoryDecisionRepository
    risk_events: MemoryRiskEventRepository
    errors: MemoryErrorRepository
    audit: MemoryAuditRepository
    system: MemorySystemStateRepository
    equity: MemoryEquityRepository
    paper: MemoryPaperLedger
    notifications: MemoryNotificationRepository
    strategies: MemoryStrategyRepository
    llm_usage: MemoryLlmUsageRepository
    alerts: MemoryAlertRepository
    reports: MemoryReportRepository

    def __init__(self, database: MemoryDatabase, idle: list[MemoryUnitOfWork] | None = None) -> None:
        self._database = database
        self._journal = Journal()  # one per unit of work, emptied by each commit and at each exit
        self._active = False
        self._idle = idle  # where a finished unit of work waits to be handed out again (with its repositories)

    def __getattr__(self, name: str) -> Any:
        if name == "strategies":
            repository: Any = MemoryStrategyRepository(self._database.records, self._database.trading, self._journal)
        elif name in _REPOSITORIES:
            tables, make = _REPOSITORIES[name]
            repository = make(getattr(self._database, tables), self._journal)
        else:
            raise AttributeError(name)
        setattr(self, name, repository)
        return repository

    async def __aenter__(self) -> Self:
        if self._active:
            raise RuntimeError("a unit of work is for one piece of work at a time")
        self._active = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._require().undo()  # nothing left to undo after a commit
        self._active = False
        if self._idle is not None:
            self._idle.append(self)

    async def commit(self) -> None:
        self._require().forget()

    async def rollback(self) -> None:
        self._require().undo()

    def _require(self) -> Journal:
        if not self._active:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._journal


class MemoryUnitOfWorkFactory:
    """Makes units of work over one in-memory database."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.database = database or MemoryDatabase()
        self._idle: list[MemoryUnitOfWork] = []

    def __call__(self) -> MemoryUnitOfWork:
        """A unit of work not in use (finished ones are handed out again: a backtest opens millions)."""
        return self._idle.pop() if self._idle else MemoryUnitOfWork(self.database, self._idle)
