"""Health of each component, for `GET /health`, `/status` and alerts: 200 when all are usable, 503 otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

OK, DOWN, DISABLED, DEGRADED = "ok", "down", "disabled", "degraded"

Probe = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class HealthChecker:
    probes: dict[str, Probe]

    async def check(self) -> dict[str, Any]:
        names = list(self.probes)
        results = await asyncio.gather(*(self._run(self.probes[n]) for n in names))
        components = dict(zip(names, results, strict=True))
        if any(c["status"] == DOWN for c in components.values()):
            status = DOWN
        elif any(c["status"] == DEGRADED for c in components.values()):
            status = DEGRADED
        else:
            status = OK
        return {"status": status, "components": components}

    async def _run(self, probe: Probe) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(probe(), timeout=3.0)
        except TimeoutError:
            return {"status": DOWN, "detail": "no answer within 3 s"}
        except Exception as error:
            return {"status": DOWN, "detail": f"{type(error).__name__}: {error}"[:300]}


def database_probe(engine: AsyncEngine) -> Probe:
    async def probe() -> dict[str, Any]:
        async with engine.connect() as connection:
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        return {"status": OK, "backend": engine.dialect.name, "schema": revision}

    return probe


def static_probe(status: str, detail: str) -> Probe:
    async def probe() -> dict[str, Any]:
        return {"status": status, "detail": detail}

    return probe
