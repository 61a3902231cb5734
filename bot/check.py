"""`tradebot check`: validate the configuration and reach each configured component; print a checklist."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TextIO

import httpx
from cryptography.fernet import Fernet

from bot.settings import Settings
from engine.errors import ConfigurationError
from engine.market_data.recorded_markets import load_replay_series
from storage.config import DatabaseConfig
from storage.db import create_engine, describe_url
from storage.migrate import current_revision, head_revision

PASS, FAIL, SKIP = "✓", "✗", "–"


@dataclass(frozen=True, slots=True)
class CheckResult:
    mark: str
    name: str
    reason: str


async def run_checks(settings: Settings) -> list[CheckResult]:
    checks: list[Awaitable[CheckResult]] = [
        _database(settings.database),
        _encryption_key(settings),
        _market(settings),
        _exchange(settings),
        _telegram(settings),
        _llm(settings),
        _webhook(settings),
    ]
    return list(await asyncio.gather(*checks))


def print_checklist(results: list[CheckResult], out: TextIO) -> int:
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"{r.mark} {r.name.ljust(width)}  {r.reason}", file=out)
    failed = [r for r in results if r.mark == FAIL]
    print(f"\n{len(failed)} problem(s)." if failed else "\nAll configured components are reachable.", file=out)
    return 1 if failed else 0


async def _database(config: DatabaseConfig) -> CheckResult:
    engine = create_engine(config)
    try:
        revision = await asyncio.wait_for(current_revision(engine), timeout=5)
    except Exception as error:
        return CheckResult(FAIL, "database", f"{describe_url(config)}: {type(error).__name__}: {error}"[:200])
    finally:
        await engine.dispose()
    head = head_revision()
    state = "schema up to date" if revision == head else f"schema at {revision or 'empty'}, will migrate to {head}"
    return CheckResult(PASS, "database", f"{describe_url(config)} ({state})")


async def _encryption_key(settings: Settings) -> CheckResult:
    key = settings.database.encryption_key
    if key is None:
        reason = "DATABASE_ENCRYPTION_KEY not set: users cannot connect live exchange keys"
        return CheckResult(FAIL if settings.exchange.live_enabled else SKIP, "encryption key", reason)
    try:
        Fernet(key.get_secret_value().encode())
    except ValueError:
        return CheckResult(FAIL, "encryption key", "not a Fernet key (32 url-safe base64 bytes); see .env.example")
    return CheckResult(PASS, "encryption key", "valid")


async def _market(settings: Settings) -> CheckResult:
    market = settings.market
    if market.source == "live":
        return CheckResult(
            PASS, "market data", f"live prices from {settings.exchange.id}, {len(market.symbols)} symbols"
        )
    try:
        series = load_replay_series(market.symbols, market.timeframe, settings.exchange.quote, market.replay_rate)
    except ConfigurationError as error:
        return CheckResult(FAIL, "market data", str(error))
    candles = sum(len(s) for s in series)
    return CheckResult(PASS, "market data", f"replay of {len(series)} recorded series, {candles:,} candles")


async def _exchange(settings: Settings) -> CheckResult:
    if not settings.exchange.live_enabled:
        return CheckResult(PASS, "exchange", "paper trading only (EXCHANGE_LIVE_ENABLED=false)")
    if settings.market.source != "live":
        return CheckResult(FAIL, "exchange", "EXCHANGE_LIVE_ENABLED=true needs MARKET_SOURCE=live (live prices)")
    url = settings.exchange.base_url or f"https://api.{settings.exchange.id}.com"
    return await _reach("exchange", url, f"{settings.exchange.id} at {url}")


async def _telegram(settings: Settings) -> CheckResult:
    token = settings.telegram.bot_token
    if token is None:
        return CheckResult(SKIP, "telegram", "TELEGRAM_BOT_TOKEN not set: only `tradebot demo` can chat")
    url = f"{settings.telegram.base_url}{token.get_secret_value()}/getMe"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(url)
    except httpx.HTTPError as error:
        return CheckResult(FAIL, "telegram", f"{settings.telegram.base_url}: unreachable ({type(error).__name__})")
    if answer.status_code != 200:
        return CheckResult(FAIL, "telegram", f"the Bot API refused the token (HTTP {answer.status_code})")
    username = answer.json().get("result", {}).get("username", "?")
    admin = "admin chat set" if settings.telegram.admin_chat_id else "no TELEGRAM_ADMIN_CHAT_ID: alerts go nowhere"
    return CheckResult(PASS, "telegram", f"bot @{username}; {admin}")


async def _llm(settings: Settings) -> CheckResult:
    if not settings.anthropic.is_enabled:
        return CheckResult(SKIP, "llm", "ANTHROPIC_API_KEY not set: the LLM agent is off, rule strategies run")
    url = settings.anthropic.base_url or "https://api.anthropic.com"
    return await _reach("llm", url, f"Anthropic API at {url}, model {settings.anthropic.model}")


async def _webhook(settings: Settings) -> CheckResult:
    if settings.webhook.secret is None:
        return CheckResult(SKIP, "webhook", "WEBHOOK_SECRET not set: POST /webhook refuses every signal")
    if len(settings.webhook.secret.get_secret_value()) < 16:
        return CheckResult(FAIL, "webhook", "WEBHOOK_SECRET is shorter than 16 characters")
    return CheckResult(PASS, "webhook", f"signed signals accepted within {settings.webhook.window_seconds} s")


async def _reach(name: str, url: str, description: str) -> CheckResult:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(url)
    except httpx.HTTPError as error:
        return CheckResult(FAIL, name, f"{description}: unreachable ({type(error).__name__})")
    return CheckResult(PASS, name, f"{description}: reachable")
