"""The APScheduler loop: in-memory store recreated at start, one instance per job, runs that overrun are
skipped and counted (never stacked), failures counted and reported."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = structlog.get_logger(__name__)

JobFunction = Callable[[], Awaitable[object]]
FailureHook = Callable[["JobStats", BaseException], Awaitable[None]]


@dataclass
class JobStats:
    """What the scheduler knows about one job, for /health, /status and alerts."""

    job_id: str
    interval_seconds: float
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    skipped: int = 0
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_duration: float = 0.0
    last_error: str = ""
    durations: list[float] = field(default_factory=list)

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0


class JobRunner:
    """Owns the scheduler and wraps every job so a failure is logged with context, counted, and reported."""

    def __init__(self, on_failure: FailureHook | None = None) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stats: dict[str, JobStats] = {}
        self._on_failure = on_failure
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    def every(self, job_id: str, seconds: float, function: JobFunction, *, start_now: bool = False) -> None:
        stats = self.stats[job_id] = JobStats(job_id, seconds)
        self.scheduler.add_job(
            self._wrap(stats, function),
            "interval",
            seconds=seconds,
            id=job_id,
            name=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(seconds)),
            next_run_time=datetime.now(UTC) if start_now else None,
        )

    def daily(self, job_id: str, hour: int, function: JobFunction, minute: int = 0) -> None:
        stats = self.stats[job_id] = JobStats(job_id, 86_400)
        self.scheduler.add_job(
            self._wrap(stats, function),
            "cron",
            hour=hour,
            minute=minute,
            id=job_id,
            name=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def _wrap(self, stats: JobStats, function: JobFunction) -> JobFunction:
        async def run() -> None:
            started = time.perf_counter()
            stats.last_started = datetime.now(UTC)
            try:
                with structlog.contextvars.bound_contextvars(job=stats.job_id):
                    await function()
            except Exception as error:
                stats.failures += 1
                stats.consecutive_failures += 1
                stats.last_error = f"{type(error).__name__}: {error}"
                log.exception("job.failed", job=stats.job_id, consecutive=stats.consecutive_failures)
                if self._on_failure is not None:
                    await self._on_failure(stats, error)
            else:
                stats.consecutive_failures = 0
            finally:
                stats.runs += 1
                stats.last_duration = time.perf_counter() - started
                stats.durations = [*stats.durations[-99:], stats.last_duration]
                stats.last_finished = datetime.now(UTC)

        run.__name__ = f"job_{stats.job_id}"
        return run

    def _on_skipped(self, event: JobExecutionEvent) -> None:
        stats = self.stats.get(event.job_id)
        if stats is not None:
            stats.skipped += 1
            log.warning("job.skipped", job=event.job_id, reason="still running or missed its time")
