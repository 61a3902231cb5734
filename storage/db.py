"""Engine and session factory: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage.config import DatabaseConfig


def create_engine(config: DatabaseConfig) -> AsyncEngine:
    """Create the async engine; on SQLite one pooled connection serialises writers (no 'database is locked')."""
    url = make_url(config.url.get_secret_value())
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            echo=config.echo,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30},
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
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _postgres_connect_args(schema: str | None) -> dict[str, Any]:
    settings = {"application_name": "tradebot"}
    if schema:
        settings["search_path"] = schema
    return {"server_settings": settings}


def describe_url(config: DatabaseConfig) -> str:
    """The database URL with any password hidden, for logs and `tradebot check`."""
    return make_url(config.url.get_secret_value()).render_as_string(hide_password=True)
