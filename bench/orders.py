"""Paper order throughput with persistence: 5,000 users each place one order through the real OrderManager
and PaperExchange, in one batched submit (as one signal fans out to every follower).

Every order is written as an intent before the venue sees it, filled by the paper venue in its own
transaction, and its answer, fill, position and cash are recorded after; nothing is skipped. The process
is set up as `tradebot run` sets itself up: JSON logs at INFO (to a file here) and the garbage collector
tuned after startup (`bot.main.tune_garbage_collector`). Afterwards, every account is reconciled with the
paper venue as at startup (it must find nothing to explain), and that time is printed too.

    python bench/orders.py                    # SQLite (a temporary file) and PostgreSQL
    python bench/orders.py --only sqlite      # or --only postgresql
    BENCH_DATABASE_URL=postgresql+asyncpg://user@host/db python bench/orders.py

PostgreSQL runs in a private schema that is dropped afterwards (default URL: TEST_DATABASE_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/test). Prints orders/s for each database (wall clock), the
CPU seconds the process used, and the machine's load average (other processes slow a wall-clock figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.log_setup import configure_logging
from bot.main import tune_garbage_collector
from engine.account_guard import AccountGuard
from engine.bus import EventBus
from engine.clock import SimClock
from engine.domain.accounts import Market
from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.ids import AccountId, Symbol, UserId
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.paper_exchange import PaperExchange
from engine.paper_matching import FillModel
from engine.reconciliation import Reconciler
from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import ExchangeAccountRow, PaperBalanceRow, UserRow
from storage.unit_of_work import SqlUnitOfWorkFactory

USERS = 5_000
ETH = Symbol("ETH/USDT")
MARKET = Market(
    symbol=ETH,
    base="ETH",
    quote="USDT",
    price_step=Decimal("0.01"),
    amount_step=Decimal("0.0001"),
    min_qty=Decimal("0.0001"),
    min_notional=Decimal(5),
)
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


class FixedPrice:
    def last_price(self, symbol: Symbol) -> Decimal | None:
        return Decimal(1000)


@dataclass(frozen=True)
class Result:
    database: str
    orders: int
    seconds: float
    cpu_seconds: float
    reconcile_seconds: float  # reconciling every account afterwards, as at startup

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


async def seed(uow: SqlUnitOfWorkFactory, users: int) -> list[tuple[UserId, AccountId]]:
    """Users with funded paper accounts, inserted in bulk (not timed)."""
    async with uow() as work:
        session = work.session  # type: ignore[attr-defined]
        await session.execute(
            insert(UserRow),
            [
                {
                    "id": i,
                    "telegram_id": 10_000 + i,
                    "chat_id": 10_000 + i,
                    "name": f"user{i}",
                    "status": "active",
                    "profile": "moderate",
                    "capital": Decimal(1000),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, users + 1)
            ],
        )
        await session.execute(
            insert(ExchangeAccountRow),
            [
                {"id": i, "user_id": i, "venue": "paper", "managed_cash": Decimal(1000), "created_at": NOW}
                for i in range(1, users + 1)
            ],
        )
        await session.execute(
            insert(PaperBalanceRow),
            [
                {"account_id": i, "asset": "USDT", "free": Decimal(1000), "locked": Decimal(0)}
                for i in range(1, users + 1)
            ],
        )
        await work.commit()
    return [(UserId(i), AccountId(i)) for i in range(1, users + 1)]


def commands(ids: list[tuple[UserId, AccountId]], with_stops: bool) -> list[SubmitOrder]:
    return [
        SubmitOrder(
            user_id=user_id,
            account_id=account_id,
            venue="paper",
            symbol=ETH,
            side=Side.BUY,
            type=OrderType.MARKET,
            qty=Decimal("0.05"),
            purpose=OrderPurpose.ENTRY,
            origin="bench:signal:1:entry",
            protective_stop=Decimal(950) if with_stops else None,
            strategy="bench",
        )
        for user_id, account_id in ids
    ]


async def measure(name: str, config: DatabaseConfig, users: int, with_stops: bool) -> Result:
    engine = create_engine(config)
    try:
        if config.search_path:
            async with engine.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{config.search_path}"'))
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(create_session_factory(engine), SecretBox(None))
        ids = await seed(uow, users)
        clock, bus = SimClock(NOW), EventBus()
        paper = PaperExchange(uow, FixedPrice(), clock, {ETH: MARKET}, FillModel(Decimal("0.001"), Decimal(0)))
        gateways, guard = GatewayRegistry([paper]), AccountGuard(uow, clock, bus)
        manager = OrderManager(uow, gateways, clock, bus, guard)
        batch = commands(ids, with_stops)
        tune_garbage_collector()
        started, cpu = time.perf_counter(), time.process_time()
        orders = await manager.submit(batch)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert all(o.status is OrderStatus.FILLED for o in orders), "every order fills"
        placed = len(orders) * (2 if with_stops else 1)
        reconciler = Reconciler(uow, gateways, manager, guard, clock, quote="USDT", grace_seconds=120)
        started = time.perf_counter()
        report = await reconciler.run(every_account=True)
        assert not report.differences and not report.failed, "the books match the venue"
        return Result(name, placed, elapsed, cpu, time.perf_counter() - started)
    finally:
        if config.search_path:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{config.search_path}" CASCADE'))
        await engine.dispose()


def sqlite_config(directory: str) -> DatabaseConfig:
    return DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{directory}/bench.db"))


def postgres_config() -> DatabaseConfig:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    return DatabaseConfig(url=SecretStr(url), search_path=f"bench_{uuid.uuid4().hex[:8]}")


async def main(only: str | None, users: int, with_stops: bool) -> None:
    print(
        f"{users:,} users, one market order each, one batched submit" + (" (each with its stop)" if with_stops else "")
    )
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            report(await measure("SQLite", sqlite_config(directory), users, with_stops))
    if only in (None, "postgresql"):
        report(await measure("PostgreSQL", postgres_config(), users, with_stops))


def report(result: Result) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    figures = f"{result.orders:>6,} orders in {result.seconds:5.2f} s = {result.per_second:6,.0f} orders/s"
    print(f"{result.database:<11} {figures}  (CPU {result.cpu_seconds:.2f} s; load average {load})")
    print(f"{'':<11} then reconciling every account at startup: {result.reconcile_seconds:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--with-stops", action="store_true", help="entries with a protective stop (two orders each)")
    parser.add_argument("--log-file", default=os.devnull, help="where the JSON logs go (default: nowhere)")
    arguments = parser.parse_args()
    with open(arguments.log_file, "w") as logs:
        configure_logging("INFO", "json", stream=logs)
        asyncio.run(main(arguments.only, arguments.users, arguments.with_stops))
