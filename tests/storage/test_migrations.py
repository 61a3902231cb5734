"""The same Alembic migrations build the models' schema on SQLite and PostgreSQL, exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.config import DatabaseConfig
from storage.db import create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import Base


async def test_migrated_schema_matches_the_models(database: DatabaseConfig):
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        assert differences == []
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_up_again(database: DatabaseConfig):
    engine = create_engine(database)
    try:
        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        await upgrade(engine)  # a second upgrade is a no-op
    finally:
        await engine.dispose()
