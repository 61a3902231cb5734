"""`GET /metrics` of the running product, parsed with prometheus-client's own parser: every metric the issue
names is there, and each moves when its event happens."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.main import Runtime
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.config import ExchangeConfig, MarketConfig
from engine.domain.enums import AccountMode, RiskProfileName
from engine.domain.ids import Symbol
from jobs.catalog import MONITOR_JOB
from jobs.config import JobsConfig
from storage.config import DatabaseConfig
from tests.bot.product import product_settings, running_product
from tests.bot.test_llm_product import agent_config
from tests.engine.live_harness import ETH_SPEC
from tests.standins.anthropic_api import AnthropicStandIn
from tests.standins.binance_spot import BinanceSpotStandin

BEA = ChatUser(id=5353, first_name="Bea")
CAL = ChatUser(id=6464, first_name="Cal")
ETH = Symbol("ETH/USDT")

FAMILIES = {
    "tradebot_orders",  # orders by outcome
    "tradebot_order_success_ratio",
    "tradebot_exchange_request_seconds",  # by venue and endpoint
    "tradebot_signal_decisions",  # accepted / refused
    "tradebot_signal_refusals",  # by reason
    "tradebot_monitor_pass_seconds",
    "tradebot_open_positions",
    "tradebot_users",  # active / paused
    "tradebot_llm_tokens",
    "tradebot_llm_cost_usd",
    "tradebot_telegram_send_failures",
    "tradebot_job_failures",
}

Samples = Mapping[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(runtime: Runtime) -> tuple[set[str], Samples]:
    runtime.services.operations.metrics._refreshed_at = float("-inf")  # the test scrapes faster than 5 s apart
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{runtime.http_url}/metrics")
    assert answer.status_code == 200
    families = list(text_string_to_metric_families(answer.text))
    samples = {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}
    return {f.name for f in families}, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


async def onboard(runtime: Runtime, person: ChatUser, *, paused: bool = False) -> None:
    users = runtime.services.engine.users
    user = await users.arrive(person.id, person.id, person.first_name)
    user = await users.onboard(user, RiskProfileName.MODERATE, Decimal(1000), AccountMode.PAPER)
    if paused:
        await users.set_paused(user, True)


async def test_every_metric_is_served_and_moves_when_its_event_happens(database: DatabaseConfig):
    llm, telegram = AnthropicStandIn(), TelegramStandIn()
    async with llm.serve() as url:
        settings = product_settings(database, anthropic=agent_config(url, llm))
        async with running_product(settings, telegram) as runtime:
            names, before = await scrape(runtime)
            assert FAMILIES - {"tradebot_exchange_request_seconds"} <= names
            assert math.isnan(value(before, "tradebot_order_success_ratio"))  # no order yet

            await onboard(runtime, BEA)
            await onboard(runtime, CAL, paused=True)
            telegram.block_chat(BEA.id)  # Bea blocked the bot: her trade notice cannot be delivered
            price = runtime.services.engine.feed.last_price(ETH)
            assert price is not None
            llm.decide(
                action="buy",
                confidence=0.8,
                stop=float(price * Decimal("0.98")),
                take_profit=float(price * Decimal("1.05")),
                rationale="Breakout above the range on rising volume.",
            )
            assert await runtime.services.extras["llm_agent"].run_once() == {ETH: "buy"}
            jobs = runtime.jobs
            assert await jobs.run_now(MONITOR_JOB)

            async def broken() -> None:
                raise RuntimeError("probe failure")

            jobs.every("probe", 3600, broken)
            await jobs.run_now("probe")
            await wait_for(lambda: runtime.services.notifier.failures > 0)

            _, after = await scrape(runtime)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("tradebot_orders_total", outcome="filled") == 1
    assert value(after, "tradebot_order_success_ratio") == 1.0
    assert moved("tradebot_signal_decisions_total", outcome="accepted") == 1
    assert moved("tradebot_signal_decisions_total", outcome="refused") == 1
    assert moved("tradebot_signal_refusals_total", reason="user_paused") == 1
    assert moved("tradebot_monitor_pass_seconds_count") == 1
    assert value(after, "tradebot_open_positions") == 1
    assert value(after, "tradebot_users", state="active") == 1 and value(after, "tradebot_users", state="paused") == 1
    assert (
        moved("tradebot_llm_tokens_total", kind="input") > 0 and moved("tradebot_llm_tokens_total", kind="output") > 0
    )
    assert moved("tradebot_llm_cost_usd_total") > 0
    assert moved("tradebot_telegram_send_failures_total", kind="trade") == 1
    assert moved("tradebot_job_failures_total", job="probe") == 1


async def test_exchange_requests_are_timed_by_endpoint_and_failures_counted(database: DatabaseConfig):
    async with BinanceSpotStandin(symbols=[ETH_SPEC], prices={ETH: 1000}) as exchange:
        start = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000) // 60_000 * 60_000
        exchange.set_candles(ETH, [[start + i * 60_000, 1000, 1001, 999, 1000, 5] for i in range(10)])
        settings = product_settings(
            database,
            exchange=ExchangeConfig(id="binance", base_url=exchange.base_url, timeout_ms=2000),
            market=MarketConfig(source="live", symbols=[ETH], timeframe="1m", poll_seconds=0.05, live_history=5),
            jobs=JobsConfig(reconcile_seconds=3600),
        )
        async with running_product(settings, TelegramStandIn()) as runtime:
            live = runtime.live
            assert live is not None
            names, before = await scrape(runtime)
            polls = live.polls
            await wait_for(lambda: live.polls >= polls + 3)
            exchange.faults.server_error(503, with_code=True, path="/api/v3/ticker/24hr")
            await wait_for(lambda: bool(runtime.services.operations.timings.activity("binance").last_error))
            _, after = await scrape(runtime)
            async with httpx.AsyncClient() as http:
                health = (await http.get(f"{runtime.http_url}/health")).json()

    assert "tradebot_exchange_request_seconds" in names
    tickers = {"venue": "binance", "endpoint": "GET /api/v3/ticker/24hr"}
    assert (
        value(after, "tradebot_exchange_request_seconds_count", **tickers)
        >= value(before, "tradebot_exchange_request_seconds_count", **tickers) + 3
    )
    assert total(after, "tradebot_exchange_request_errors_total") > total(
        before, "tradebot_exchange_request_errors_total"
    )
    binance = health["components"]["exchange"]["venues"]["binance"]
    assert binance["requests_5m"] >= 3 and binance["last_ok"] is not None and binance["last_error"]


async def wait_for(condition: object, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
