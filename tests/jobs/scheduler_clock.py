"""Drive the real APScheduler on a controllable clock.

APScheduler 3 has no clock to inject: it reads `datetime.now()` where it decides what is due (scheduler),
whether a run is too late (executor) and where an interval starts (triggers). `SchedulerClock` points those
reads at a `SimClock`; `advance()` moves it, wakes the scheduler and lets the runs it started proceed.
Everything else (triggers, max_instances, coalescing, misfires, events) is APScheduler's own code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, tzinfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.date
import apscheduler.triggers.interval
import pytest

from engine.clock import SimClock
from jobs.scheduler import JobRunner

_MODULES = (
    apscheduler.schedulers.base,
    apscheduler.executors.base,
    apscheduler.triggers.interval,
    apscheduler.triggers.date,
)


class SchedulerClock:
    def __init__(self, start: datetime) -> None:
        self.clock = SimClock(start)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = self.clock

        class ClockedDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                moment = clock.now()
                return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

        for module in _MODULES:
            monkeypatch.setattr(module, "datetime", ClockedDatetime)

    async def advance(self, runner: JobRunner, seconds: float, *, wait: bool = True) -> None:
        """Move time forward and let the scheduler see it; with `wait`, return once the runs it started (and
        their observers) are done, else once they had a few turns of the loop."""
        self.clock.advance(timedelta(seconds=seconds))
        runner.scheduler.wakeup()
        await settle()
        if wait:
            assert await runner.wait_idle(timeout=10), "a job run did not finish"


async def settle(rounds: int = 50) -> None:
    """Give the event loop enough turns for started jobs to run until they wait on something outside."""
    for _ in range(rounds):
        await asyncio.sleep(0)
