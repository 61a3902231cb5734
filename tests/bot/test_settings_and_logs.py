from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from pydantic import ValidationError

from bot.check import FAIL, PASS, SKIP, print_checklist, run_checks
from bot.log_setup import configure_logging
from bot.settings import Settings

TOKEN = "123456789:AAH0nZ-secret-token-value-xxxxxxxxxxxx"


def test_settings_read_sections_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "11, 12")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app:pw@db/prod")
    monkeypatch.setenv("MARKET_SYMBOLS", "ETH/USDT,LTC/USDT")
    monkeypatch.setenv("RISK_PHASE", "limited")
    monkeypatch.setenv("PORT", "9999")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram.admin_ids == frozenset({11, 12})
    assert settings.market.symbols == ["ETH/USDT", "LTC/USDT"]
    assert settings.risk.phase.value == "limited" and settings.port == 9999
    assert TOKEN not in repr(settings) and "pw@" not in repr(settings)


def test_bad_settings_are_refused_with_the_field_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RISK_PHASE", "everyone")
    with pytest.raises(ValidationError, match="phase"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_logs_never_carry_secrets_and_are_json_off_a_terminal():
    stream = io.StringIO()
    configure_logging("INFO", "auto", secrets=[TOKEN, "db-password-123"], stream=stream)
    log = structlog.get_logger("test")
    log.info(
        "order.sent",
        url=f"https://api.telegram.org/bot{TOKEN}/sendMessage",
        api_key="abc123456",
        note="password is db-password-123",
    )
    logging.getLogger("httpx").warning("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "order.sent" and lines[0]["api_key"] == "***"
    assert "***" in lines[0]["url"] and "***" in lines[0]["note"]
    assert TOKEN not in stream.getvalue() and "db-password-123" not in stream.getvalue()
    logging.getLogger().handlers.clear()


async def test_check_prints_a_mark_and_a_reason_per_component_and_fails_on_a_problem(tmp_path):
    good = Settings(_env_file=None, database={"url": f"sqlite+aiosqlite:///{tmp_path}/x.db"})  # type: ignore[call-arg]
    results = await run_checks(good)
    out = io.StringIO()
    assert print_checklist(results, out) == 0
    marks = {r.name: r.mark for r in results}
    assert marks["database"] == PASS and marks["telegram"] == SKIP and marks["market data"] == PASS
    bad = Settings(
        _env_file=None,
        market={"symbols": ["DOGE/USDT"]},  # type: ignore[call-arg]
        database={"url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    results = await run_checks(bad)
    out = io.StringIO()
    assert print_checklist(results, out) == 1
    text = out.getvalue()
    assert f"{FAIL} database" in text and f"{FAIL} market data" in text and "DOGE/USDT" in text


def test_env_example_lists_every_setting_and_parses_to_the_defaults():
    from pathlib import Path

    from pydantic import BaseModel

    text = Path(__file__).resolve().parents[2].joinpath(".env.example").read_text()
    listed = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    expected = set()
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            expected |= {f"{name}_{sub}".upper() for sub in annotation.model_fields}
        else:
            expected.add(name.upper())
    assert listed == expected
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    from_example = Settings(_env_file=str(Path(__file__).resolve().parents[2] / ".env.example"))  # type: ignore[call-arg]
    assert from_example.market == defaults.market and from_example.port == defaults.port
