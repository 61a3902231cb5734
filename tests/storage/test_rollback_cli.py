"""`tradebot migrate --down-to REV`: shows what it undoes, asks, rolls back; a wrong revision changes nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from bot.cli import main
from storage.config import DatabaseConfig
from storage.db import create_engine
from storage.migrate import current_revision, head_revision, known_revisions


def revision_of(database: DatabaseConfig) -> str | None:
    async def read() -> str | None:
        engine = create_engine(database)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def cli_database(database: DatabaseConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[DatabaseConfig]:
    if database.search_path:
        pytest.skip("the CLI reads DATABASE_URL alone; PostgreSQL schemas per test are a test-suite device")
    monkeypatch.setenv("DATABASE_URL", database.url.get_secret_value())
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    yield database
    logging.getLogger().handlers.clear()  # the CLI set up its own log pipeline


def test_rolling_back_asks_first_then_undoes_the_later_revisions_and_upgrade_restores_them(
    cli_database: DatabaseConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    previous = known_revisions()[-2]
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert main(["migrate", "--down-to", previous]) == 1
    assert revision_of(cli_database) == head_revision()  # refused: nothing changed
    out = capsys.readouterr().out
    assert f"Rolling back to {previous} undoes:" in out and str(head_revision()) in out and "Nothing changed." in out

    monkeypatch.setattr("builtins.input", lambda prompt: "roll back")
    assert main(["migrate", "--down-to", previous]) == 0
    assert revision_of(cli_database) == previous
    assert main(["migrate"]) == 0
    assert revision_of(cli_database) == head_revision()


def test_an_unknown_revision_is_refused_with_the_known_ones(
    cli_database: DatabaseConfig, capsys: pytest.CaptureFixture[str]
):
    assert main(["migrate", "--down-to", "0099_nothing", "--yes"]) == 2
    assert "unknown revision '0099_nothing'" in capsys.readouterr().err
    assert revision_of(cli_database) == head_revision()
