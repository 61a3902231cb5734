"""The LLM agent with the real anthropic SDK against the Messages API stand-in: cost accounting, the daily
budget, the answer cache, invalid answers, and back-off after rate limits and timeouts."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from engine.clock import SimClock
from engine.config import LlmConfig
from engine.domain.events import AlertRaised, Severity, TradeFilled
from engine.domain.ids import Symbol
from engine.llm import AgentParts, LlmAgent, LlmClient, Spending
from engine.market_data.candles import Candles, load_recorded, recorded_series
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ADA, ETH, T0
from tests.standins.anthropic_api import AnthropicStandIn, SlowReply, TextReply, ToolReply, Usage

KEY = "sk-ant-test-key"


class RecordedCandles:
    """Recorded candles re-quoted to USDT, revealed up to `end` (a real candle source, moved by the test)."""

    def __init__(self, end: int = 400) -> None:
        wanted = {"ETH/BTC": ETH, "ADA/BTC": ADA}
        self._series = {
            wanted[s.symbol]: load_recorded(s, quote="USDT", quote_rate=Decimal(11000), price_step=Decimal("0.00001"))
            for s in recorded_series()
            if s.symbol in wanted
        }
        self.end = end

    def candles(self, symbol: Symbol) -> Candles:
        return self._series[symbol].head(self.end)

    def last(self, symbol: Symbol) -> Decimal:
        candles = self.candles(symbol)
        return candles.price(candles.close, len(candles) - 1)


def configured(**changes: Any) -> LlmConfig:
    base: dict[str, Any] = {"api_key": SecretStr(KEY), "max_retries": 0, "cache_ttl_seconds": 0}
    return LlmConfig(**(base | changes))


async def build_agent(
    harness: Harness, standin: AnthropicStandIn, config: LlmConfig, wall: SimClock, symbols: list[Symbol] | None = None
) -> tuple[LlmAgent, RecordedCandles]:
    candles = RecordedCandles()
    for symbol in (ETH, ADA):
        harness.prices.set(symbol, candles.last(symbol))
    sdk = anthropic.AsyncAnthropic(
        api_key=config.api_key.get_secret_value() if config.api_key else None,
        max_retries=config.max_retries,
        timeout=config.timeout_seconds,
        base_url=config.base_url or "http://anthropic.test",
        http_client=None if config.base_url else httpx2.AsyncClient(transport=standin.transport()),
    )
    engine = harness.engine
    spending = Spending(harness.uow, wall, harness.bus, config.daily_budget_usd, config.model, config.price)
    parts = AgentParts(
        uow=harness.uow,
        candles=candles,
        prices=harness.prices,
        pipeline=engine.pipeline,
        spending=spending,
        engine_clock=harness.clock,
        wall_clock=wall,
        is_enabled=engine.strategy_control.is_enabled,
        record_error=engine.record_error,
        bus=harness.bus,
    )
    agent = LlmAgent(LlmClient(sdk, config.model, config.max_tokens), config, parts, symbols or [ETH])
    return agent, candles


async def rows(uow: SqlUnitOfWorkFactory, sql: str) -> list[tuple[Any, ...]]:
    async with uow() as work:
        return [tuple(r) for r in (await work.session.execute(text(sql))).all()]


async def test_a_confident_buy_becomes_a_signal_with_its_rationale_and_the_call_is_costed(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    user, _ = await harness.onboarded_user(901)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    agent, candles = await build_agent(harness, standin, configured(), wall)
    price = candles.last(ETH)
    stop, target = (
        (price * Decimal("0.985")).quantize(Decimal("0.01")),
        (price * Decimal("1.04")).quantize(Decimal("0.01")),
    )
    why = "RSI turned up from 28 with volume 1.6x its average; the 4h trend is still up."
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_input_tokens=500, cache_creation_input_tokens=100)
    standin.decide(
        usage=usage, action="buy", confidence=0.8, stop=float(stop), take_profit=float(target), rationale=why
    )

    assert await agent.run_once() == {ETH: "buy"}

    (sent,) = standin.requests
    assert sent.body["tool_choice"] == {"type": "tool", "name": "record_decision"}
    assert [t["name"] for t in sent.body["tools"]] == ["record_decision"] and sent.body["model"] == "claude-haiku-4-5"
    assert sent.body["thinking"] == {"type": "disabled"} and sent.body["max_tokens"] == 400
    summary = json.loads(sent.body["messages"][0]["content"])
    assert summary["symbol"] == "ETH/USDT" and summary["position"] == {"held": False}
    assert {"rsi14", "ema12", "ema26", "atr14_pct_of_price"} <= set(summary["indicators"])
    assert len(summary["recent_candles_ohlcv"]) == 8 and summary["range"]["candles"] == 96

    cost = (1000 * Decimal(1) + 200 * Decimal(5) + 500 * Decimal("0.10") + 100 * Decimal("1.25")) / 1_000_000
    ((tokens_in, tokens_out, read, write, paid, outcome),) = await rows(
        uow,
        "SELECT input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, outcome FROM llm_usage",
    )
    assert (tokens_in, tokens_out, read, write, outcome) == (1000, 200, 500, 100, "ok")
    assert Decimal(paid) == cost == Decimal("0.002175")

    ((source, strategy, rationale),) = await rows(uow, "SELECT source, strategy, rationale FROM signals")
    assert (source, strategy) == ("llm", "llm_agent") and rationale == f"{why} (LLM, confidence 80%)"
    ((outcome, reason),) = await rows(uow, f"SELECT outcome, rationale FROM decisions WHERE user_id = {user.id}")
    assert (outcome, reason) == ("accepted", rationale)
    ((held_stop, held_target),) = await rows(uow, "SELECT stop_price, take_profit FROM positions")
    assert (Decimal(held_stop), Decimal(held_target)) == (stop, target)
    filled = [e for e in harness.events if isinstance(e, TradeFilled)]
    assert filled and filled[0].rationale == rationale

    await agent.run_once()  # the next look sees the position it holds
    assert json.loads(standin.requests[-1].body["messages"][0]["content"])["position"]["held"] is True


async def test_the_budget_stops_the_calls_and_alerts_the_admins_once(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    config = configured(daily_budget_usd=Decimal("0.004"))  # each default answer costs $0.00215
    agent, candles = await build_agent(harness, standin, config, wall, [ETH, ADA])

    assert await agent.run_once() == {ETH: "hold", ADA: "hold"}
    alerts = [e for e in harness.events if isinstance(e, AlertRaised)]
    assert len(alerts) == 1 and alerts[0].severity is Severity.P1 and alerts[0].title == "LLM budget reached"
    assert "0.0043" in alerts[0].detail and "rule strategies go on" in alerts[0].detail

    candles.end += 5
    assert await agent.run_once() == {ETH: "budget_reached", ADA: "budget_reached"}
    assert standin.calls == 2
    health = await agent.health()
    assert health["status"] == "degraded" and health["spent_today_usd"] == "0.0043" and health["calls_today"] == 2

    restarted, _ = await build_agent(harness, standin, config, wall, [ETH, ADA])
    await restarted.run_once()
    assert len([e for e in harness.events if isinstance(e, AlertRaised)]) == 1 and standin.calls == 2

    wall.advance(timedelta(days=1))  # a new UTC day, a new budget
    assert (await restarted.run_once())[ETH] == "hold" and standin.calls == 4


async def test_an_identical_context_within_the_ttl_reuses_the_answer_and_counts_the_hit(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    agent, candles = await build_agent(harness, standin, configured(cache_ttl_seconds=600), wall)

    await agent.run_once()
    wall.advance(timedelta(seconds=300))
    assert await agent.run_once() == {ETH: "hold"}
    assert standin.calls == 1 and agent.cache.hits == 1
    usage = await rows(uow, "SELECT outcome, cached, cost_usd FROM llm_usage ORDER BY id")
    assert [(o, bool(c), Decimal(x)) for o, c, x in usage] == [
        ("ok", False, Decimal("0.00215")),
        ("cache_hit", True, 0),
    ]
    assert (await agent.health())["cache_hits_today"] == 1

    candles.end += 1  # a new candle: another context
    await agent.run_once()
    assert standin.calls == 2
    wall.advance(timedelta(seconds=601))  # the same context again, after the TTL
    await agent.run_once()
    assert standin.calls == 3


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (TextReply("I think you should buy."), "no record_decision tool call"),
        (ToolReply({"action": "moon", "confidence": 0.9, "rationale": "to the moon and back"}), "action"),
        (
            ToolReply({"action": "buy", "confidence": 0.9, "rationale": "a breakout with volume"}),
            "stop and take_profit",
        ),
        (
            ToolReply(
                {"action": "buy", "confidence": 0.9, "stop": 1e9, "take_profit": 2e9, "rationale": "up up up up"}
            ),
            "stop",
        ),
        (ToolReply({"action": "hold", "confidence": 1.7, "rationale": "very very sure"}), "confidence"),
        (ToolReply({"action": "sell", "confidence": "high", "rationale": "sell it all now"}), "confidence"),
        (ToolReply({"action": "hold", "confidence": 0.5, "rationale": "ok"}), "rationale"),
    ],
)
async def test_an_invalid_answer_is_recorded_and_never_acted_on(uow: SqlUnitOfWorkFactory, reply: Any, reason: str):
    harness = await build_harness(uow)
    await harness.onboarded_user(902)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    agent, _ = await build_agent(harness, standin, configured(), wall)
    standin.then(reply)

    assert await agent.run_once() == {ETH: "invalid"}
    ((source, message, context),) = await rows(uow, "SELECT source, message, context FROM processing_errors")
    assert source == "llm" and message.startswith("invalid answer:") and reason in message
    assert "ETH/USDT" in str(context)
    ((outcome, paid),) = await rows(uow, "SELECT outcome, cost_usd FROM llm_usage")
    assert outcome == "invalid" and Decimal(paid) == Decimal("0.00215")  # the tokens were still used
    assert await rows(uow, "SELECT count(*) FROM signals") == [(0,)]
    assert await rows(uow, "SELECT count(*) FROM decisions") == [(0,)]


async def test_rate_limits_back_off_doubling_and_the_sdk_retries_are_bounded(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    config = configured(max_retries=2, backoff_seconds=30, max_backoff_seconds=100)
    agent, _ = await build_agent(harness, standin, config, wall, [ETH, ADA])

    standin.fail(429, times=3)
    assert await agent.run_once() == {ETH: "rate_limited", ADA: "backing_off"}
    assert standin.calls == 3  # one call and the SDK's two retries, then the agent stops for this round
    assert [int(r.headers["x-stainless-retry-count"]) for r in standin.requests] == [0, 1, 2]
    assert agent.backoff_until == wall.now() + timedelta(seconds=30)

    wall.advance(timedelta(seconds=29))
    assert await agent.run_once() == {ETH: "backing_off", ADA: "backing_off"} and standin.calls == 3
    wall.advance(timedelta(seconds=2))
    standin.fail(529, times=3)  # overloaded
    assert (await agent.run_once())[ETH] == "unavailable"
    assert agent.backoff_until == wall.now() + timedelta(seconds=60)  # doubled

    wall.advance(timedelta(seconds=61))  # the API answers again: the back-off ends
    assert await agent.run_once() == {ETH: "hold", ADA: "hold"} and agent.backoff_until is None
    outcomes = [o for (o,) in await rows(uow, "SELECT outcome FROM llm_usage ORDER BY id")]
    assert outcomes == ["rate_limited", "unavailable", "ok", "ok"]


async def test_a_retry_after_longer_than_the_back_off_is_honoured(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    agent, _ = await build_agent(harness, standin, configured(backoff_seconds=30), wall)
    standin.fail(429, retry_after_ms=500_000)
    assert await agent.run_once() == {ETH: "rate_limited"} and standin.calls == 1
    assert agent.backoff_until == wall.now() + timedelta(seconds=500)


async def test_a_timeout_backs_off_too(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn(KEY), SimClock(T0)
    async with standin.serve() as url:  # a real socket, so the client's timeout is real
        config = configured(base_url=url, timeout_seconds=0.2)
        agent, _ = await build_agent(harness, standin, config, wall)
        standin.then(
            SlowReply(1.0, ToolReply({"action": "hold", "confidence": 0.5, "rationale": "too late to matter"}))
        )
        assert await agent.run_once() == {ETH: "timeout"}
        assert standin.calls == 1 and agent.backoff_until == wall.now() + timedelta(seconds=30)
    ((outcome, paid),) = await rows(uow, "SELECT outcome, cost_usd FROM llm_usage")
    assert (outcome, Decimal(paid)) == ("timeout", 0)


async def test_a_refused_key_is_recorded_for_the_operators_and_pauses_the_agent(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin, wall = AnthropicStandIn("sk-ant-the-real-key"), SimClock(T0)
    agent, _ = await build_agent(harness, standin, configured(), wall)
    assert await agent.run_once() == {ETH: "error"}
    ((source, message),) = await rows(uow, "SELECT source, message FROM processing_errors")
    assert source == "llm" and "401" in message and "authentication_error" in message
    assert agent.backoff_until == wall.now() + timedelta(seconds=1800)
    (alert,) = [e for e in harness.events if isinstance(e, AlertRaised)]
    assert alert.severity is Severity.P1 and alert.key == "llm_refused" and "401" in alert.detail
    assert "sk-ant" not in alert.detail and "sk-ant" not in message  # the key never leaks


async def test_a_disabled_agent_does_not_call(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    standin = AnthropicStandIn(KEY)
    agent, _ = await build_agent(harness, standin, configured(), SimClock(T0))
    await harness.engine.strategy_control.set_enabled("llm_agent", False, actor="test")
    assert await agent.run_once() == {} and standin.calls == 0
