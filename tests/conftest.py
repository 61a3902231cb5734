"""Shared fixtures. Storage runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Base
from storage.unit_of_work import SqlUnitOfWorkFactory

os.environ.setdefault("PTB_TIMEDELTA", "true")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ENCRYPTION_KEY = SecretBox.generate_key()


def _migrate(config: DatabaseConfig) -> None:
    async def go() -> None:
        engine = create_engine(config)
        try:
            if config.search_path:
                async with engine.begin() as connection:
                    await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{config.search_path}"'))
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())


def _drop_schema(config: DatabaseConfig) -> None:
    async def go() -> None:
        engine = create_engine(config.model_copy(update={"search_path": None}))
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{config.search_path}" CASCADE'))
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseConfig]:
    """A migrated database made once per session: a SQLite file to copy, or a private PostgreSQL schema."""
    if TEST_DATABASE_URL:
        schema = f"tb_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        config = DatabaseConfig(url=SecretStr(TEST_DATABASE_URL), search_path=schema, pool_size=5)
        _migrate(config)
        yield config
        _drop_schema(config)
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    config = DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{path}"))
    _migrate(config)
    yield config


@pytest.fixture
def database(migrated_template: DatabaseConfig, tmp_path: Path) -> Iterator[DatabaseConfig]:
    """A clean, migrated database for one test."""
    if TEST_DATABASE_URL:
        _truncate(migrated_template)
        yield migrated_template.model_copy(update={"encryption_key": SecretStr(ENCRYPTION_KEY)})
        return
    yield _copy(migrated_template, tmp_path / "test.db")


@pytest.fixture
def clean_databases(migrated_template: DatabaseConfig, tmp_path: Path) -> Callable[[], Awaitable[DatabaseConfig]]:
    """Make clean, migrated databases on demand, for tests that need several in turn (each replaces the last)."""
    made = itertools.count(1)

    async def clean() -> DatabaseConfig:
        if TEST_DATABASE_URL:
            await _truncate_tables(migrated_template)
            return migrated_template.model_copy(update={"encryption_key": SecretStr(ENCRYPTION_KEY)})
        return _copy(migrated_template, tmp_path / f"clean-{next(made)}.db")

    return clean


def _copy(template: DatabaseConfig, target: Path) -> DatabaseConfig:
    source = Path(template.url.get_secret_value().removeprefix("sqlite+aiosqlite:///"))
    shutil.copyfile(source, target)
    return DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{target}"), encryption_key=SecretStr(ENCRYPTION_KEY))


def _truncate(config: DatabaseConfig) -> None:
    asyncio.run(_truncate_tables(config))


async def _truncate_tables(config: DatabaseConfig) -> None:
    engine = create_engine(config)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def uow(database: DatabaseConfig) -> AsyncIterator[SqlUnitOfWorkFactory]:
    engine = create_engine(database)
    yield SqlUnitOfWorkFactory(create_session_factory(engine), SecretBox(ENCRYPTION_KEY))
    await engine.dispose()
