"""Health of each component, for `GET /health`, `/status` and alerts: 200 when all are usable, 503 otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.gateway_timing import GatewayTimings, VenueActivity

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


def exchange_probe(description: str, venues: list[str], timings: GatewayTimings) -> Probe:
    """Each configured exchange as its recent requests show it (no request of its own): down when the last
    minutes' requests all failed, degraded when many did."""

    async def probe() -> dict[str, Any]:
        states = {venue: _venue_state(timings.activity(venue)) for venue in venues}
        worst = max((v["status"] for v in states.values()), key=_RANK.__getitem__, default=OK)
        return {"status": worst, "detail": description, "venues": {"paper": {"status": OK}, **states}}

    return probe


_RANK = {OK: 0, DISABLED: 0, DEGRADED: 1, DOWN: 2}


def _venue_state(activity: VenueActivity) -> dict[str, Any]:
    recent = activity.recent
    if recent.calls and recent.errors == recent.calls and recent.calls >= 3:
        status = DOWN
    elif recent.calls and recent.error_ratio > 0.25:
        status = DEGRADED
    else:
        status = OK
    return {
        "status": status,
        "requests_5m": recent.calls,
        "errors_5m": recent.errors,
        "p50_ms": round(recent.p50 * 1000, 1),
        "p95_ms": round(recent.p95 * 1000, 1),
        "last_ok": activity.last_ok.isoformat() if activity.last_ok else None,
        "last_error": activity.last_error or None,
        "last_error_at": activity.last_error_at.isoformat() if activity.last_error_at else None,
    }
