"""Engine and session factory: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage import sqlite_inline
from storage.config import DatabaseConfig

SQLITE_BUSY_SECONDS = 30.0


def create_engine(config: DatabaseConfig) -> AsyncEngine:
    """Create the async engine. On SQLite one pooled connection serialises writers (no 'database is locked'),
    and it runs on the event loop's thread (see storage/sqlite_inline.py)."""
    url = make_url(config.url.get_secret_value())
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            echo=config.echo,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            async_creator=_inline_sqlite(url),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=config.echo,
        pool_size=config.pool_size,
        max_overflow=config.pool_size,
        pool_pre_ping=True,
        connect_args=_postgres_connect_args(config.search_path),
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _inline_sqlite(url: URL) -> Callable[[], Awaitable[sqlite_inline.InlineConnection]]:
    """A connection factory for `url` with the pysqlite dialect's reading of it (paths, `file:` URIs)."""
    arguments, options = url.get_dialect()().create_connect_args(url)

    def connect() -> Awaitable[sqlite_inline.InlineConnection]:
        return sqlite_inline.connect(*arguments, busy_seconds=SQLITE_BUSY_SECONDS, **options)

    return connect


def _postgres_connect_args(schema: str | None) -> dict[str, Any]:
    settings = {"application_name": "tradebot"}
    if schema:
        settings["search_path"] = schema
    return {"server_settings": settings}


def describe_url(config: DatabaseConfig) -> str:
    """The database URL with any password hidden, for logs and `tradebot check`."""
    return make_url(config.url.get_secret_value()).render_as_string(hide_password=True)
