"""The APScheduler loop: in-memory store recreated at start, one instance per job, coalesced catch-up.

A run that overruns its next tick is skipped and counted, never stacked. A failing run is logged with its
context, counted, and retried at the job's next tick (a daily or weekly job, whose next tick is far, is tried
again a few minutes later, a few times). Observers (metrics, the admin alerts) hear of every run and skip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.clock import Clock, SystemClock

log = structlog.get_logger(__name__)

JobFunction = Callable[[], Awaitable[object]]

OVERRUN, MISSED = "overrun", "missed"
CALENDAR_RETRIES = 3  # a failed daily or weekly run is tried again this many times before its next tick


@dataclass
class JobStats:
    """What the scheduler knows about one job, for /health, /status, metrics and alerts."""

    job_id: str
    schedule: str  # "every 5s", "daily 20:00 UTC", "weekly mon 08:00 UTC"
    interval_seconds: float  # how often it is meant to run (86,400 for a daily job)
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    skipped: int = 0  # ticks dropped because the last run was still going (overrun) or ran too late (missed)
    is_running: bool = False
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_succeeded: datetime | None = None
    last_duration: float = 0.0
    last_error: str = ""
    durations: list[float] = field(default_factory=list)
    registered_at: datetime | None = None

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0

    def is_late(self, now: datetime, tolerance: float = 3.0) -> bool:
        """Whether it has not finished a run for `tolerance` times its interval (stuck, or never run)."""
        reference = self.last_finished or self.registered_at
        return reference is not None and (now - reference).total_seconds() > tolerance * self.interval_seconds

    def describe(self) -> dict[str, Any]:
        """The job as /health shows it."""
        return {
            "schedule": self.schedule,
            "runs": self.runs,
            "failures": self.failures,
            "consecutive_failures": self.consecutive_failures,
            "skipped": self.skipped,
            "running": self.is_running,
            "last_run": _iso(self.last_finished),
            "last_success": _iso(self.last_succeeded),
            "last_duration_seconds": round(self.last_duration, 4),
            "last_error": self.last_error or None,
        }


class JobObserver(Protocol):
    async def job_finished(self, stats: JobStats, error: Exception | None) -> None: ...

    def job_skipped(self, stats: JobStats, reason: str) -> None: ...


class JobRunner:
    """Owns the scheduler and wraps every job: one run at a time, failures logged, counted and observed."""

    def __init__(self, observers: Sequence[JobObserver] = (), clock: Clock | None = None) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stats: dict[str, JobStats] = {}
        self._observers = list(observers)
        self._clock = clock or SystemClock()  # wall time (the market may run on a simulated clock)
        self._functions: dict[str, JobFunction] = {}
        self._in_flight = 0  # runs (with their observers) not finished yet
        self._idle = asyncio.Event()
        self._idle.set()
        self.scheduler.add_listener(self._on_dropped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    def observe(self, observer: JobObserver) -> None:
        self._observers.append(observer)

    # --- registering -----------------------------------------------------------------------------

    def every(self, job_id: str, seconds: float, function: JobFunction, *, start_now: bool = False) -> None:
        stats = self._register(job_id, f"every {seconds:g}s", seconds, function)
        self._add(
            stats,
            "interval",
            seconds=seconds,
            misfire_grace_time=max(1, int(seconds)),
            **({"next_run_time": self._clock.now()} if start_now else {}),
        )

    def daily(self, job_id: str, hour: int, function: JobFunction, minute: int = 0) -> None:
        stats = self._register(job_id, f"daily {hour:02d}:{minute:02d} UTC", 86_400, function)
        self._add(stats, "cron", hour=hour, minute=minute, misfire_grace_time=3600)

    def weekly(self, job_id: str, day_of_week: str, hour: int, function: JobFunction, minute: int = 0) -> None:
        stats = self._register(job_id, f"weekly {day_of_week} {hour:02d}:{minute:02d} UTC", 7 * 86_400, function)
        self._add(stats, "cron", day_of_week=day_of_week, hour=hour, minute=minute, misfire_grace_time=3600)

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def wait_idle(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109 - a deadline, not a cancel scope
        """Wait until no run is in progress (shutdown lets runs finish their writes); False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop scheduling, then give the runs in progress a moment to finish."""
        self.shutdown()
        if not await self.wait_idle(grace_seconds):
            log.warning("jobs.stopped_while_running", running=[j for j, s in self.stats.items() if s.is_running])

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def next_run(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return job.next_run_time if job is not None else None

    def run_later(self, job_id: str, delay: timedelta) -> None:
        """One extra run of a job after `delay` (a daily job catching up after a restart past its hour)."""
        stats = self.stats[job_id]

        async def extra() -> None:
            await self._run(stats)

        extra.__name__ = f"extra_{job_id}"
        self.scheduler.add_job(
            extra,
            "date",
            run_date=self._clock.now() + delay,
            id=f"{job_id}:extra",
            replace_existing=True,
            misfire_grace_time=3600,
        )

    def now(self) -> datetime:
        return self._clock.now()

    async def run_now(self, job_id: str) -> bool:
        """Run a job at once (an admin asking, a test); False when it is already running (never stacked)."""
        stats = self.stats[job_id]
        if stats.is_running:
            return False
        await self._run(stats)
        return True

    # --- running -----------------------------------------------------------------------------------

    def _register(self, job_id: str, schedule: str, interval: float, function: JobFunction) -> JobStats:
        stats = self.stats[job_id] = JobStats(job_id, schedule, interval, registered_at=self._clock.now())
        self._functions[job_id] = function
        return stats

    def _add(self, stats: JobStats, trigger: str, **options: Any) -> None:
        async def tick() -> None:
            await self._run(stats)

        tick.__name__ = f"job_{stats.job_id}"
        self.scheduler.add_job(
            tick,
            trigger,
            id=stats.job_id,
            name=stats.job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            **options,
        )

    async def _run(self, stats: JobStats) -> None:
        if stats.is_running:  # a retry or an admin's run meeting a scheduled one
            self._dropped(stats, OVERRUN)
            return
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._run_observed(stats)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _run_observed(self, stats: JobStats) -> None:
        stats.is_running = True
        stats.last_started = self._clock.now()
        started = time.perf_counter()
        error: Exception | None = None
        try:
            with structlog.contextvars.bound_contextvars(job=stats.job_id):
                await self._functions[stats.job_id]()
        except Exception as failure:
            error = failure
        finally:
            stats.is_running = False
            self._account(stats, time.perf_counter() - started, error)
        for observer in self._observers:
            try:
                await observer.job_finished(stats, error)
            except Exception:
                log.exception("job.observer_failed", job=stats.job_id)

    def _account(self, stats: JobStats, duration: float, error: Exception | None) -> None:
        stats.runs += 1
        stats.last_duration = duration
        stats.durations = [*stats.durations[-99:], duration]
        stats.last_finished = self._clock.now()
        if error is None:
            stats.consecutive_failures = 0
            stats.last_succeeded = stats.last_finished
            return
        stats.failures += 1
        stats.consecutive_failures += 1
        stats.last_error = f"{type(error).__name__}: {error}"[:500]
        log.error(
            "job.failed",
            job=stats.job_id,
            consecutive=stats.consecutive_failures,
            error=stats.last_error,
            exc_info=error,
        )
        if stats.interval_seconds >= 86_400:
            self._retry_soon(stats)

    def _retry_soon(self, stats: JobStats, delay: timedelta = timedelta(minutes=10)) -> None:
        if stats.consecutive_failures > CALENDAR_RETRIES or not self.scheduler.running:
            return

        async def retry() -> None:
            await self._run(stats)

        retry.__name__ = f"retry_{stats.job_id}"
        self.scheduler.add_job(
            retry,
            "date",
            run_date=self._clock.now() + delay,
            id=f"{stats.job_id}:retry",
            replace_existing=True,
            misfire_grace_time=3600,
        )
        log.info("job.retry_scheduled", job=stats.job_id, in_seconds=delay.total_seconds())

    def _on_dropped(self, event: JobExecutionEvent) -> None:
        stats = self.stats.get(event.job_id)
        if stats is not None:
            self._dropped(stats, OVERRUN if event.code == EVENT_JOB_MAX_INSTANCES else MISSED)

    def _dropped(self, stats: JobStats, reason: str) -> None:
        stats.skipped += 1
        log.warning("job.skipped", job=stats.job_id, reason=reason, skipped=stats.skipped)
        for observer in self._observers:
            observer.job_skipped(stats, reason)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
