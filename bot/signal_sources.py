"""The signal sources beside the rule strategies, composed for `bot/main.py`: the webhook inbox behind
`POST /webhook`, and the LLM agent on its schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta

from starlette.routing import BaseRoute

from bot.context import Services
from bot.settings import Settings
from bot.webhook import WebhookContext, webhook_routes
from engine.clock import SystemClock
from engine.llm import AgentParts, LlmAgent, LlmClient, Spending, anthropic_client
from engine.signal_inbox import SignalInbox
from engine.strategy_control import LLM_AGENT
from jobs.scheduler import JobRunner

Background = Callable[[AsyncExitStack, Callable[..., Awaitable[None]], str], None]


async def start_webhook(
    stack: AsyncExitStack, services: Services, settings: Settings, background: Background
) -> list[BaseRoute]:
    """The signal inbox (its worker, and what a previous run left unprocessed) behind POST /webhook."""
    engine, config = services.engine, settings.webhook
    inbox = SignalInbox(
        engine.uow,
        engine.pipeline,
        SystemClock(),
        is_enabled=engine.strategy_control.is_enabled,
        duplicate_ttl=timedelta(seconds=config.duplicate_seconds),
        max_age=timedelta(seconds=config.window_seconds),
        record_error=engine.record_error,
    )
    await inbox.recover()
    background(stack, inbox.run, "signal-inbox")
    services.extras["signal_inbox"] = inbox
    context = WebhookContext(
        inbox=inbox,
        secret=config.secret,
        window=timedelta(seconds=config.window_seconds),
        max_body_bytes=config.max_body_bytes,
        symbols=engine.feed.symbols,
        prices=engine.feed,
        engine_clock=engine.clock,
        wall_clock=SystemClock(),
        record_error=engine.record_error,
    )
    return webhook_routes(context)


def start_llm_agent(stack: AsyncExitStack, services: Services, settings: Settings, jobs: JobRunner) -> None:
    """The LLM agent on its schedule; without ANTHROPIC_API_KEY it stays off and /strategies and /health say so."""
    engine, config = services.engine, settings.anthropic
    candles = services.extras.get("replay_feed")
    if not config.is_enabled or candles is None:
        reason = "ANTHROPIC_API_KEY is not set" if not config.is_enabled else "the market feed keeps no candles"
        engine.strategy_control.notes[LLM_AGENT] = f"not running: {reason}"
        return
    wall = SystemClock()
    parts = AgentParts(
        uow=engine.uow,
        candles=candles,
        prices=engine.feed,
        pipeline=engine.pipeline,
        spending=Spending(engine.uow, wall, engine.bus, config.daily_budget_usd, config.model, config.price),
        engine_clock=engine.clock,
        wall_clock=wall,
        is_enabled=engine.strategy_control.is_enabled,
        record_error=engine.record_error,
        bus=engine.bus,
    )
    client = LlmClient(anthropic_client(config), config.model, config.max_tokens)
    agent = LlmAgent(client, config, parts, config.symbols or settings.market.symbols)
    stack.push_async_callback(client.aclose)
    jobs.every("llm_agent", config.interval_seconds, agent.run_once)
    services.health.probes["llm"] = agent.health
    services.extras["llm_agent"] = agent
