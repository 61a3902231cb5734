"""The real APScheduler, on a controllable clock: overruns skipped and counted, failures counted, retried at
the next tick and reported to the admins once, daily jobs tried again soon."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from bot.alerts import AlertCenter
from bot.health import HealthChecker
from bot.notifier import Notifier
from bot.system_watch import SystemWatch
from engine.gateway_timing import GatewayTimings
from jobs.catalog import MONITOR_JOB
from jobs.scheduler import OVERRUN, JobRunner, JobStats
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.jobs.scheduler_clock import SchedulerClock, settle

ADMIN_CHAT = -100500
START = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # a Monday


class Heard:
    """A JobObserver that remembers what it heard."""

    def __init__(self) -> None:
        self.finished: list[tuple[str, str | None]] = []
        self.skipped: list[tuple[str, str]] = []

    async def job_finished(self, stats: JobStats, error: Exception | None) -> None:
        self.finished.append((stats.job_id, type(error).__name__ if error else None))

    def job_skipped(self, stats: JobStats, reason: str) -> None:
        self.skipped.append((stats.job_id, reason))


@pytest.fixture
def scheduler_clock(monkeypatch: pytest.MonkeyPatch) -> SchedulerClock:
    clock = SchedulerClock(START)
    clock.install(monkeypatch)
    return clock


async def test_an_overrunning_monitor_is_skipped_and_counted_never_stacked(scheduler_clock: SchedulerClock):
    release = asyncio.Event()
    state = {"started": 0, "running": 0, "most_at_once": 0}

    async def slow_pass() -> None:
        state["started"] += 1
        state["running"] += 1
        state["most_at_once"] = max(state["most_at_once"], state["running"])
        await release.wait()
        state["running"] -= 1

    heard = Heard()
    runner = JobRunner([heard], clock=scheduler_clock.clock)
    runner.every(MONITOR_JOB, 5, slow_pass)
    runner.start()
    try:
        await scheduler_clock.advance(runner, 5, wait=False)
        assert state["started"] == 1
        for _ in range(4):  # four ticks while the first pass is still going
            await scheduler_clock.advance(runner, 5, wait=False)
        assert await runner.run_now(MONITOR_JOB) is False  # an admin's run does not stack either
        stats = runner.stats[MONITOR_JOB]
        assert state == {"started": 1, "running": 1, "most_at_once": 1}
        assert stats.skipped == 4 and stats.runs == 0 and stats.is_running
        assert heard.skipped == [(MONITOR_JOB, OVERRUN)] * 4

        release.set()
        assert await runner.wait_idle()
        await scheduler_clock.advance(runner, 5)  # the next tick runs normally
        assert state["started"] == 2 and state["most_at_once"] == 1
        assert stats.runs == 2 and stats.skipped == 4 and stats.consecutive_failures == 0
        assert stats.last_finished == scheduler_clock.clock.now()
    finally:
        release.set()
        runner.shutdown()


async def test_ticks_missed_while_the_loop_was_away_are_coalesced_into_one_run(scheduler_clock: SchedulerClock):
    runs = []
    runner = JobRunner(clock=scheduler_clock.clock)

    async def mark() -> None:
        runs.append(scheduler_clock.clock.now().strftime("%H:%M:%S"))

    runner.every("equity_marks", 60, mark)
    runner.start()
    try:
        await scheduler_clock.advance(runner, 60)
        await scheduler_clock.advance(runner, 60 * 10 + 30)  # the loop was blocked through ten ticks
        await scheduler_clock.advance(runner, 30)  # back on the schedule
        assert runs == ["19:01:00", "19:11:30", "19:12:00"]  # one catch-up run, not ten
        assert runner.stats["equity_marks"].runs == 3
    finally:
        runner.shutdown()


async def test_a_failing_job_is_logged_counted_retried_each_tick_and_alerts_the_admins_once(
    scheduler_clock: SchedulerClock, uow: SqlUnitOfWorkFactory
):
    clock = scheduler_clock.clock
    notifier = Notifier(uow, clock, ADMIN_CHAT)
    watch = SystemWatch(uow, HealthChecker({}), GatewayTimings(clock), clock)
    alerts = AlertCenter(uow, notifier, watch, clock=clock)
    runner = JobRunner([alerts], clock=clock)
    exchange_is_down = True

    async def reconcile() -> None:
        if exchange_is_down:
            raise ConnectionError("binance: connection refused")

    runner.every("reconciliation", 60, reconcile)
    runner.start()
    try:
        with structlog.testing.capture_logs() as logs:
            for _ in range(10):
                await scheduler_clock.advance(runner, 60)
        stats = runner.stats["reconciliation"]
        assert stats.runs == 10 and stats.failures == 10 and stats.consecutive_failures == 10
        failed = [line for line in logs if line["event"] == "job.failed"]
        assert len(failed) == 10 and failed[-1]["job"] == "reconciliation" and failed[-1]["consecutive"] == 10
        assert "connection refused" in failed[-1]["error"]

        sent = await admin_messages(notifier, uow)
        assert len(sent) == 1  # ten failures, one alert (after the third; the rest grouped)
        assert "[P1 high] Job reconciliation keeps failing" in sent[0]
        assert "connection refused" in sent[0]
        (episode,) = [a for a in await alerts.open_alerts() if a.key == "job:reconciliation"]
        assert episode.occurrences == 8 and episode.unsent == 7

        exchange_is_down = False
        await scheduler_clock.advance(runner, 60)
        sent = await admin_messages(notifier, uow)
        assert len(sent) == 2 and "[P1 resolved] Job reconciliation keeps failing" in sent[1]
        assert "After 8 occurrence(s)" in sent[1]
        assert [a for a in await alerts.open_alerts() if a.key == "job:reconciliation"] == []
    finally:
        runner.shutdown()


async def test_a_job_that_keeps_failing_past_the_group_window_is_reported_again_with_its_count(
    scheduler_clock: SchedulerClock, uow: SqlUnitOfWorkFactory
):
    clock = scheduler_clock.clock
    notifier = Notifier(uow, clock, ADMIN_CHAT)
    alerts = AlertCenter(uow, notifier, SystemWatch(uow, HealthChecker({}), GatewayTimings(clock), clock), clock=clock)
    runner = JobRunner([alerts], clock=clock)

    async def broken() -> None:
        raise RuntimeError("still broken")

    runner.every("equity_marks", 300, broken)
    runner.start()
    try:
        for _ in range(10):  # 50 minutes of failures: the first alert, then one reminder after 30 minutes
            await scheduler_clock.advance(runner, 300)
        sent = await admin_messages(notifier, uow)
        assert len(sent) == 2
        assert "times since" in sent[1] and "Job equity_marks keeps failing" in sent[1]
    finally:
        runner.shutdown()


async def test_a_failed_daily_job_is_tried_again_ten_minutes_later_not_tomorrow(scheduler_clock: SchedulerClock):
    attempts: list[datetime] = []

    async def report() -> None:
        attempts.append(scheduler_clock.clock.now())
        if len(attempts) < 3:
            raise TimeoutError("telegram did not answer")

    runner = JobRunner(clock=scheduler_clock.clock)
    runner.daily("daily_user_reports", 20, report)
    runner.start()
    try:
        await scheduler_clock.advance(runner, 3600)  # 20:00
        await scheduler_clock.advance(runner, 600)  # 20:10, first retry
        await scheduler_clock.advance(runner, 600)  # 20:20, second retry succeeds
        await scheduler_clock.advance(runner, 600)  # nothing more until tomorrow
        assert [a.strftime("%H:%M") for a in attempts] == ["20:00", "20:10", "20:20"]
        stats = runner.stats["daily_user_reports"]
        assert stats.failures == 2 and stats.consecutive_failures == 0
        assert runner.next_run("daily_user_reports") == datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    finally:
        runner.shutdown()


async def admin_messages(notifier: Notifier, uow: SqlUnitOfWorkFactory) -> list[str]:
    await notifier.flush()
    async with uow() as work:
        pending: list[Any] = await work.notifications.pending(limit=100)
    await settle()
    return [m.text for m in pending if m.chat_id == ADMIN_CHAT]
