"""Schema migrations with Alembic, run on the application's own async engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision`; a no-op when it is already there."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def steps_down(current: str | None, target: str) -> list[tuple[str, str]]:
    """The revisions a downgrade from `current` to `target` undoes, newest first, with their descriptions.

    Raises ValueError when `target` is not a known revision, or not below `current`."""
    script = ScriptDirectory.from_config(alembic_config())
    if target != "base" and target not in {r.revision for r in script.walk_revisions()}:
        raise ValueError(f"unknown revision {target!r}; known: {', '.join(known_revisions())}")
    if current is None or current == target:
        return []
    steps = list(script.iterate_revisions(current, target))
    if not steps and target != "base":
        raise ValueError(f"{target} is not below the current revision {current}")
    return [(r.revision, (r.doc or "").splitlines()[0] if r.doc else "") for r in steps]


def known_revisions() -> list[str]:
    """Every revision, oldest first."""
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(sync_connection: Any, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync_connection
    getattr(command, action)(config, revision)
