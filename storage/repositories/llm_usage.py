"""The LLM agent's calls: tokens, cost, cache hits and failures (sums are done in Python: exact decimals)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import insert, select

from engine.ports import LlmUsageRecord, LlmUsageSummary
from storage.models import LlmUsageRow
from storage.repositories.base import SqlRepository, dec

_usage = LlmUsageRow.__table__


class SqlLlmUsageRepository(SqlRepository):
    async def add(self, record: LlmUsageRecord) -> None:
        values = {
            "ts": record.ts,
            "model": record.model,
            "symbol": record.symbol,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "cache_read_tokens": record.cache_read_tokens,
            "cache_write_tokens": record.cache_write_tokens,
            "cost_usd": record.cost_usd,
            "cached": record.cached,
            "outcome": record.outcome,
        }
        await self.session.execute(insert(_usage).values(**values))

    async def summary(self, since: datetime) -> LlmUsageSummary:
        query = select(
            _usage.c.outcome, _usage.c.cost_usd, _usage.c.input_tokens, _usage.c.output_tokens, _usage.c.cached
        ).where(_usage.c.ts >= since)
        rows = (await self.session.execute(query)).all()
        summary = LlmUsageSummary.of(rows)
        return replace(summary, cost_usd=dec(summary.cost_usd))
