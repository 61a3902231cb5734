"""SQLite runs on the event loop's thread; a lock held by another connection is waited for without blocking
the loop, and what is written is read back exactly."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from storage import sqlite_inline
from storage.config import DatabaseConfig
from storage.db import create_engine


def _config(path: Path) -> DatabaseConfig:
    return DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{path}"))


async def test_a_second_engine_waits_for_the_first_writer_without_blocking_the_loop(tmp_path: Path):
    first, second = create_engine(_config(tmp_path / "db.sqlite")), create_engine(_config(tmp_path / "db.sqlite"))
    try:
        async with first.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        async with first.begin() as holder:
            await holder.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock
            waiting = asyncio.create_task(_insert(second, 2))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # still waiting for the lock…
            assert ticks >= 10  # …while the loop goes on
        await asyncio.wait_for(waiting, timeout=5)
        ticker.cancel()
        async with second.connect() as connection:
            assert (await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [1, 2]
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_lock_held_past_the_busy_timeout_is_reported(tmp_path: Path):
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    connection = await sqlite_inline.connect(str(path), busy_seconds=0.1)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await connection.execute("INSERT INTO t VALUES (1)")
    finally:
        holder.rollback()
        holder.close()
        await connection.close()


async def _insert(engine, value: int) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": value})
