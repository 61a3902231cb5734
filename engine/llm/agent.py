"""The LLM agent strategy: on a schedule, for each symbol, a compact market summary goes to an Anthropic model;
its forced-tool-call decision is validated and, when it is a confident buy or sell, becomes a signal through
the same pipeline as every other strategy. It stops calling at the daily budget, reuses answers to identical
contexts, and backs off after rate limits and timeouts. Without an API key it is never built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import LlmConfig
from engine.domain.enums import Side, SignalAction, SignalSource
from engine.domain.events import AlertRaised, Severity
from engine.domain.ids import Symbol
from engine.domain.signals import Signal
from engine.llm.answer_cache import AnswerCache
from engine.llm.client import LlmClient, LlmRefused, LlmUnavailable
from engine.llm.decision import InvalidAnswer, LlmDecision, read_decision
from engine.llm.market_context import HeldPosition, MarketContext, summarize
from engine.llm.spending import Spending
from engine.market_data.candles import Candles
from engine.ports import PriceSource, UnitOfWorkFactory
from engine.strategy_control import LLM_AGENT
from engine.trading import SignalPipeline

log = structlog.get_logger(__name__)

MIN_CANDLES = 30
ErrorRecorder = Callable[[str, str, dict[str, object]], Awaitable[None]]


class CandleSource(Protocol):
    def candles(self, symbol: Symbol) -> Candles: ...


@dataclass(frozen=True, slots=True)
class AgentParts:
    """What the agent works with, besides the model."""

    uow: UnitOfWorkFactory
    candles: CandleSource
    prices: PriceSource
    pipeline: SignalPipeline
    spending: Spending
    engine_clock: Clock  # the engine's time (simulated in replays): signals
    wall_clock: Clock  # real time: budget, cache and back-off
    is_enabled: Callable[[str], bool]
    record_error: ErrorRecorder
    bus: EventBus


class LlmAgent:
    def __init__(self, client: LlmClient, config: LlmConfig, parts: AgentParts, symbols: Sequence[Symbol]) -> None:
        self._client = client
        self._config = config
        self._parts = parts
        self.symbols = list(symbols)
        self.cache = AnswerCache(timedelta(seconds=config.cache_ttl_seconds))
        self.backoff_until: datetime | None = None
        self._failures = 0
        self.last_outcomes: dict[Symbol, str] = {}

    async def run_once(self) -> dict[Symbol, str]:
        """Look at every symbol once; returns what happened for each (the scheduled job)."""
        if not self._parts.is_enabled(LLM_AGENT):
            return {}
        held = await self._held_positions()
        for symbol in self.symbols:
            with structlog.contextvars.bound_contextvars(strategy=LLM_AGENT, symbol=symbol):
                self.last_outcomes[symbol] = await self._decide(symbol, held.get(symbol))
        return dict(self.last_outcomes)

    async def _decide(self, symbol: Symbol, held: HeldPosition | None) -> str:
        now = self._parts.wall_clock.now()
        if self.backoff_until is not None and now < self.backoff_until:
            return "backing_off"
        candles = self._parts.candles.candles(symbol)
        if len(candles) < MIN_CANDLES:
            return "not_enough_data"
        context = summarize(candles, held, self._config.context_candles)
        key = context.key(self._client.model)
        decision = self.cache.get(key, now)
        if decision is not None:
            await self._parts.spending.record(symbol, "cache_hit", cached=True)
        else:
            if await self._parts.spending.is_exhausted():
                return "budget_reached"
            answer = await self._ask(symbol, context)
            if not isinstance(answer, LlmDecision):
                return answer
            decision = answer
            self.cache.put(key, decision, now)
        return await self._act(context, decision)

    async def _ask(self, symbol: Symbol, context: MarketContext) -> LlmDecision | str:
        spending = self._parts.spending
        try:
            reply = await self._client.ask(context.text)
        except LlmUnavailable as error:
            self._back_off(error.retry_after)
            log.warning("llm.unavailable", reason=str(error), backoff_until=self.backoff_until)
            await spending.record(symbol, error.outcome)
            return error.outcome
        except LlmRefused as error:
            await self._refused(symbol, error)
            return "error"
        self._failures, self.backoff_until = 0, None
        try:
            decision = read_decision(reply.tool_input, context.price)
        except InvalidAnswer as error:
            log.warning("llm.invalid_answer", reason=str(error))
            await spending.record(symbol, "invalid", reply.usage)
            context_info = {"symbol": symbol, "model": reply.model, "answer": repr(reply.tool_input)[:500]}
            await self._parts.record_error("llm", f"invalid answer: {error}", context_info)
            await spending.is_exhausted()
            return "invalid"
        cost = await spending.record(symbol, "ok", reply.usage)
        log.info("llm.answered", action=decision.action, confidence=decision.confidence, cost=str(cost))
        await spending.is_exhausted()  # alert at once when this call used up the budget
        return decision

    async def _act(self, context: MarketContext, decision: LlmDecision) -> str:
        confident = decision.confidence >= self._config.min_confidence
        if decision.action == "buy" and confident and not context.is_held:
            action = SignalAction.ENTER
        elif decision.action == "sell" and confident and context.is_held:
            action = SignalAction.EXIT
        else:
            return "hold"
        signal = self._signal(context, decision, action)
        async with self._parts.uow() as uow:
            if await uow.signals.find_by_key(signal.idempotency_key or "") is not None:
                return "already_signalled"  # the same answer for the same candle: acted on once
        await self._parts.pipeline.handle(signal)
        return decision.action

    def _signal(self, context: MarketContext, decision: LlmDecision, action: SignalAction) -> Signal:
        is_entry = action is SignalAction.ENTER
        price = self._parts.prices.last_price(context.symbol) or context.price
        return Signal(
            strategy=LLM_AGENT,
            symbol=context.symbol,
            action=action,
            side=Side.BUY if is_entry else Side.SELL,
            price=price,
            ts=self._parts.engine_clock.now(),
            source=SignalSource.LLM,
            strength=Decimal(f"{decision.confidence:.4f}"),
            stop_price=decision.stop if is_entry else None,
            take_profit=decision.take_profit if is_entry else None,
            rationale=f"{decision.rationale} (LLM, confidence {decision.confidence:.0%})",
            timeframe=context.timeframe,
            idempotency_key=f"{LLM_AGENT}:{context.symbol}:{context.candle_ts}:{action.value}",
            metadata={"model": self._client.model, "confidence": decision.confidence},
        )

    async def _refused(self, symbol: Symbol, error: LlmRefused) -> None:
        """The API refused the request itself: pause for the longest back-off and tell the operators."""
        self._back_off(self._config.max_backoff_seconds)
        log.error("llm.refused", reason=str(error))
        await self._parts.spending.record(symbol, "error")
        await self._parts.record_error("llm", str(error), {"symbol": symbol, "model": self._client.model})
        await self._parts.bus.publish(
            AlertRaised(
                ts=self._parts.wall_clock.now(),
                severity=Severity.P1,
                key="llm_refused",
                title="LLM agent refused by the API",
                detail=f"{error}. The agent pauses {self._config.max_backoff_seconds:.0f} s; rule strategies go on.",
            )
        )

    def _back_off(self, retry_after: float | None) -> None:
        self._failures += 1
        delay = min(self._config.backoff_seconds * 2 ** (self._failures - 1), self._config.max_backoff_seconds)
        delay = max(delay, retry_after or 0.0)
        self.backoff_until = self._parts.wall_clock.now() + timedelta(seconds=delay)

    async def _held_positions(self) -> dict[Symbol, HeldPosition]:
        async with self._parts.uow() as uow:
            positions = [p for p in await uow.positions.all_open() if p.strategy == LLM_AGENT and p.qty > 0]
        grouped: dict[Symbol, list[Any]] = {}
        for position in positions:
            grouped.setdefault(position.symbol, []).append(position)
        return {
            symbol: HeldPosition(
                holders=len(items),
                average_entry=sum((p.avg_entry * p.qty for p in items), start=Decimal(0)) / sum(p.qty for p in items),
            )
            for symbol, items in grouped.items()
        }

    async def health(self) -> dict[str, Any]:
        """For /health and /status: spend today against the budget, calls, cache hits, back-off."""
        today = await self._parts.spending.today()
        now = self._parts.wall_clock.now()
        backing_off = self.backoff_until is not None and now < self.backoff_until
        exhausted = today.cost_usd >= self._parts.spending.budget
        detail = "budget reached: not calling until 00:00 UTC" if exhausted else "running"
        if backing_off:
            detail = f"backing off until {self.backoff_until.isoformat()}"  # type: ignore[union-attr]
        return {
            "status": "degraded" if exhausted or backing_off else "ok",
            "detail": detail,
            "model": self._client.model,
            "spent_today_usd": f"{today.cost_usd:.4f}",
            "daily_budget_usd": str(self._parts.spending.budget),
            "calls_today": today.calls,
            "cache_hits_today": today.cache_hits,
            "invalid_today": today.invalid,
            "failures_today": today.failures,
        }
