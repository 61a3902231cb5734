"""What the operators see and hear: exchange timings, metrics, the system watch, the alert channel, the jobs.

One object per process, built by `bot.main` and reached by handlers as `context.services.operations`:
admin commands can show `await operations.watch.view()` (components, jobs, last minutes of orders),
`await operations.alerts.open_alerts()` and `operations.watch.describe_jobs()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.alerts import AlertCenter
from bot.health import HealthChecker
from bot.metrics import MetricsFeed
from bot.notifier import Notifier
from bot.reports import ReportService
from bot.system_watch import SystemWatch
from engine.bus import EventBus
from engine.clock import Clock
from engine.gateway_timing import GatewayTimings
from engine.ports import UnitOfWorkFactory
from jobs.config import JobsConfig
from jobs.scheduler import JobRunner, JobStats


@dataclass
class Operations:
    timings: GatewayTimings
    metrics: MetricsFeed
    watch: SystemWatch
    alerts: AlertCenter
    jobs: JobRunner | None = None  # set once the scheduler starts
    reports: ReportService | None = None

    @classmethod
    def build(
        cls,
        uow: UnitOfWorkFactory,
        bus: EventBus,
        notifier: Notifier,
        health: HealthChecker,
        timings: GatewayTimings,
        config: JobsConfig,
        engine_clock: Clock,
    ) -> Operations:
        """`engine_clock` is the time the engine stamps on its records (simulated in a replay); the operators'
        own timestamps (job runs, alerts) are wall time."""
        metrics = MetricsFeed(uow, engine_clock)
        metrics.subscribe(bus, timings)
        watch = SystemWatch(uow, health, timings, records_clock=engine_clock)
        watch.subscribe(bus)
        alerts = AlertCenter(uow, notifier, watch, timedelta(minutes=config.alert_group_minutes))
        alerts.subscribe(bus)
        return cls(timings, metrics, watch, alerts)

    def attach_jobs(self, jobs: JobRunner) -> None:
        """Let metrics, the watch and the alerts hear of every job run and skipped tick."""
        self.jobs = jobs
        jobs.observe(self.metrics)
        jobs.observe(self.alerts)
        self.watch.watch_jobs(jobs)


class JobErrorRecorder:
    """Keeps each failed run in `processing_errors` (for /errors and the admin report's incident count)."""

    def __init__(self, record: Callable[[str, str], Awaitable[None]]) -> None:
        self._record = record

    async def job_finished(self, stats: JobStats, error: Exception | None) -> None:
        if error is not None:
            await self._record(f"job:{stats.job_id}", f"{type(error).__name__}: {error}")

    def job_skipped(self, stats: JobStats, reason: str) -> None:
        return None
