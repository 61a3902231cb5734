"""The LLM agent's spending: every call recorded with its tokens and cost (llm_usage), the daily budget
(UTC day, wall clock), and one alert to the admins the day the budget is reached."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import ModelPrice
from engine.domain.events import AlertRaised, LlmUsageRecorded, Severity
from engine.domain.money import ZERO
from engine.llm.client import TokenUsage
from engine.ports import LlmUsageRecord, LlmUsageSummary, UnitOfWorkFactory

log = structlog.get_logger(__name__)

ALERTED_KEY = "llm_budget_alerted_on"  # the UTC day the budget alert went out


class Spending:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus, budget: Decimal, model: str, price: ModelPrice
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self.budget = budget
        self._model = model
        self._price = price

    def day_start(self) -> datetime:
        now = self._clock.now()
        return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)

    async def today(self) -> LlmUsageSummary:
        async with self._uow() as uow:
            return await uow.llm_usage.summary(self.day_start())

    async def is_exhausted(self) -> bool:
        """Whether today's spending reached the budget (then the admins are told, once a day)."""
        spent = (await self.today()).cost_usd
        if spent < self.budget:
            return False
        await self._alert_once(spent)
        return True

    async def record(
        self, symbol: str, outcome: str, usage: TokenUsage | None = None, *, cached: bool = False
    ) -> Decimal:
        """Store one call (or cache hit, or failure) and return its cost."""
        usage = usage or TokenUsage()
        cost = usage.cost(self._price) if not cached else ZERO
        record = LlmUsageRecord(
            ts=self._clock.now(),
            model=self._model,
            symbol=symbol,
            cost_usd=cost,
            outcome=outcome,
            input_tokens=usage.input,
            output_tokens=usage.output,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            cached=cached,
        )
        async with self._uow() as uow:
            await uow.llm_usage.add(record)
            await uow.commit()
        await self._bus.publish(
            LlmUsageRecorded(
                ts=record.ts,
                model=record.model,
                outcome=outcome,
                input_tokens=usage.input,
                output_tokens=usage.output,
                cost_usd=cost,
            )
        )
        return cost

    async def _alert_once(self, spent: Decimal) -> None:
        today = self._clock.now().date().isoformat()
        async with self._uow() as uow:
            if await uow.system.get(ALERTED_KEY) == today:
                return
            await uow.system.set(ALERTED_KEY, today, self._clock.now())
            await uow.commit()
        log.warning("llm.budget_reached", spent=str(spent), budget=str(self.budget))
        await self._bus.publish(
            AlertRaised(
                ts=self._clock.now(),
                severity=Severity.P1,
                key="llm_budget",
                title="LLM budget reached",
                detail=f"The LLM agent spent ${spent:.4f} of its ${self.budget} daily budget and stops calling until "
                "00:00 UTC. The rule strategies go on.",
            )
        )
