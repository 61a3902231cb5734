"""The system at a glance, for the alert rules and the admins' status commands: health of each component,
every job's last run, the last minutes of orders, exchange calls and circuit-breaker trips."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.alert_rules import WINDOW, SystemView
from bot.health import HealthChecker
from engine.bus import EventBus
from engine.clock import Clock, SystemClock
from engine.domain.events import TradingStateChanged
from engine.domain.ids import UserId
from engine.gateway_timing import GatewayTimings
from engine.ports import OrderOutcomes, UnitOfWorkFactory
from jobs.catalog import MONITOR_JOB
from jobs.scheduler import OVERRUN, JobRunner, JobStats

log = structlog.get_logger(__name__)


class SystemWatch:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        health: HealthChecker,
        timings: GatewayTimings,
        clock: Clock | None = None,
        records_clock: Clock | None = None,
    ) -> None:
        self._uow = uow
        self._health = health
        self._timings = timings
        self._clock = clock or SystemClock()  # wall time: job runs, breaker trips
        self._records_clock = (
            records_clock or self._clock
        )  # the engine's time, stamped on orders (simulated in replays)
        self._jobs: JobRunner | None = None
        self._trips: deque[tuple[datetime, UserId]] = deque(maxlen=100_000)
        self._monitor_overruns = 0

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(TradingStateChanged, self._on_state)

    def watch_jobs(self, jobs: JobRunner) -> None:
        self._jobs = jobs
        jobs.observe(self)

    async def view(self) -> SystemView:
        """Everything the rules need; what cannot be read (the database is down) is left empty."""
        now = self._clock.now()
        health = await self._health.check()
        orders, active = await self._database_counts(self._records_clock.now())
        return SystemView(
            now=now,
            components=health["components"],
            jobs=list(self._jobs.stats.values()) if self._jobs else [],
            orders=orders,
            breaker_users=self.breaker_users(now),
            active_users=active,
            venues=[self._timings.activity(venue) for venue in self._timings.venues],
            monitor_overruns=self._take_overruns(),
        )

    def breaker_users(self, now: datetime, window: timedelta = WINDOW) -> frozenset[UserId]:
        while self._trips and self._trips[0][0] < now - window:
            self._trips.popleft()
        return frozenset(user for _, user in self._trips)

    # --- JobObserver -----------------------------------------------------------------------------

    async def job_finished(self, stats: JobStats, error: Exception | None) -> None:
        return None

    def job_skipped(self, stats: JobStats, reason: str) -> None:
        if stats.job_id == MONITOR_JOB and reason == OVERRUN:
            self._monitor_overruns += 1

    # --- internals -------------------------------------------------------------------------------

    async def _database_counts(self, now: datetime) -> tuple[OrderOutcomes | None, int]:
        try:
            async with self._uow() as uow:
                orders = await uow.orders.outcome_counts(now - WINDOW)
                users = await uow.users.count_by_pause()
        except Exception as error:
            log.warning("watch.database_unreadable", error=f"{type(error).__name__}: {error}"[:300])
            return None, 0
        return orders, sum(users.values())

    def _take_overruns(self) -> int:
        overruns, self._monitor_overruns = self._monitor_overruns, 0
        return overruns

    async def _on_state(self, event: TradingStateChanged) -> None:
        if event.user_id is not None and event.breaker:
            self._trips.append((self._clock.now(), event.user_id))

    def describe_jobs(self) -> dict[str, Any]:
        """Every job's schedule, last run and next run, for /health."""
        if self._jobs is None:
            return {}
        return {
            job_id: {**stats.describe(), "next_run": _iso(self._jobs.next_run(job_id))}
            for job_id, stats in self._jobs.stats.items()
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
