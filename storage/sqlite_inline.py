"""SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs every statement on a helper thread and wakes the event loop for each answer: about 0.1 ms
per statement on a quiet machine and 0.5 ms or more when the cores are busy, which dominated the time to
act on a signal. Our SQLite statements take microseconds (one local file, WAL, no fsync on commit with
synchronous=NORMAL), so this connection runs them inline instead. It speaks the part of aiosqlite's
interface that SQLAlchemy's dialect uses.

The one thing that could block the loop is waiting for a lock held by another connection (a second process,
or a second engine on the same file). So the connection never waits inside SQLite (busy_timeout 0): a
statement that finds the database locked is retried after an asyncio sleep, letting the holder finish, for
up to `busy_seconds` like SQLite's own busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
FIRST_RETRY_SECONDS = 0.001
LONGEST_RETRY_SECONDS = 0.05


class InlineCursor:
    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        await self._connection.run(self._cursor.execute, sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = list(rows)  # a retry must see every row again
        await self._connection.run(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _ImmediateQueue:
    """SQLAlchemy sets the isolation level by putting (future, function) on aiosqlite's work queue; here the
    function runs at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection, busy_seconds: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # truthy while open, as in aiosqlite
        self._tx = _ImmediateQueue(connection)
        self._busy_seconds = busy_seconds

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def run(self, operation: Callable[..., T], *args: Any) -> T:
        """Run one SQLite call now; while the database is locked by someone else, sleep and try again."""
        deadline = time.monotonic() + self._busy_seconds
        pause = FIRST_RETRY_SECONDS
        while True:
            try:
                return operation(*args)
            except sqlite3.OperationalError as error:
                if not _is_locked(error) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_RETRY_SECONDS)


async def connect(database: str, *, busy_seconds: float = 30.0, **kwargs: Any) -> InlineConnection:
    """Open `database` (a path or a `file:` URI) for use on the event loop's thread."""
    kwargs.pop("timeout", None)  # waiting happens in `run`, never inside SQLite
    kwargs.setdefault("check_same_thread", False)  # the pool may close it from another thread
    connection = sqlite3.connect(database, timeout=0, **kwargs)
    return InlineConnection(connection, busy_seconds)


def _is_locked(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "database is locked" in message or "database table is locked" in message
