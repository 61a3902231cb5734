"""The report jobs on the scheduler's controllable clock: at the configured hour every user gets their day
(text, then a PNG chart), the admins get theirs a quarter of an hour later, nobody gets a day twice, and a
process started after the hour catches up."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.charts import PNG_SIGNATURE, ChartRenderer
from bot.notifier import Notifier
from bot.reports import ReportService
from engine.reports import ReportBuilder
from jobs.catalog import ADMIN_REPORT_JOB, USER_REPORTS_JOB, OperatorWork, schedule_operator_jobs
from jobs.config import JobsConfig
from jobs.scheduler import JobRunner
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness
from tests.engine.report_history import known_day
from tests.jobs.scheduler_clock import SchedulerClock

ADMIN_CHAT = -100900
ANN, BEN = 601, 602


@pytest.fixture
async def service(uow: SqlUnitOfWorkFactory) -> AsyncIterator[tuple[Harness, ReportService, Notifier]]:
    h = await known_day(uow)
    notifier = Notifier(uow, h.clock, ADMIN_CHAT)
    builder = ReportBuilder(uow, h.prices, h.clock, llm_budget=None, wall_clock=h.clock)
    charts = ChartRenderer()
    yield h, ReportService(builder, notifier, charts, uow), notifier
    charts.close()


def schedule(runner: JobRunner, reports: ReportService) -> None:
    work = OperatorWork(user_reports=reports.send_user_reports, admin_report=reports.send_admin_report)
    schedule_operator_jobs(runner, JobsConfig(report_hour_utc=20, admin_report_minute=15), work)


async def test_at_the_report_hour_each_user_gets_their_day_with_a_chart_then_the_admins_theirs(
    monkeypatch: pytest.MonkeyPatch, service: tuple[Harness, ReportService, Notifier], uow: SqlUnitOfWorkFactory
):
    _, reports, _ = service
    clock = SchedulerClock(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    clock.install(monkeypatch)
    runner = JobRunner(clock=clock.clock)
    schedule(runner, reports)
    runner.start()
    try:
        await clock.advance(runner, 59 * 60)  # 19:59: nothing yet
        assert await outbox(uow) == []
        await clock.advance(runner, 60)  # 20:00
        sent = await outbox(uow)
        assert [(m.chat_id, m.photo is not None) for m in sent] == [
            (ANN, False),
            (ANN, True),
            (BEN, False),
            (BEN, True),
        ]
        ann_text, ann_chart = sent[0].text, sent[1]
        assert ann_text.startswith("<b>Your day</b> · 2018-01-10 (UTC, until 15:10)")
        assert "Equity <b>$1,005.47</b> · today +$5.47 (+0.55%)" in ann_text
        assert "<b>Trades today</b>: 5" in ann_text and "• Sold 0.1 ETH/USDT at 1,100.00 (ema_cross)" in ann_text
        assert "• ETH/USDT 0.1 @ 1,050.00 → 1,060.00 · +$1.00 (+0.95%)" in ann_text
        assert ann_chart.text == "Equity and drawdown, last 7 days · now $1,005.47"
        assert_png(ann_chart.photo, width=770, height=462)

        await clock.advance(runner, 15 * 60)  # 20:15: the admin report
        admin = [m.text for m in await outbox(uow) if m.chat_id == ADMIN_CHAT]
        assert len(admin) == 1 and admin[0].startswith("<b>Admin report</b> · 2018-01-10")
        assert "Volume: $934.00 in 7 fills" in admin[0] and "avg +$4.53" in admin[0]

        assert await runner.run_now(USER_REPORTS_JOB) and await runner.run_now(ADMIN_REPORT_JOB)
        assert len(await outbox(uow)) == 5  # a second run the same day sends nobody anything
        async with uow() as work:
            assert await work.reports.users_with("daily_user", reports.builder.day_start()) == {
                u.id for u in await work.users.list()
            }
    finally:
        runner.shutdown()


async def test_a_process_started_after_the_hour_catches_up_a_few_minutes_later(
    monkeypatch: pytest.MonkeyPatch, service: tuple[Harness, ReportService, Notifier], uow: SqlUnitOfWorkFactory
):
    _, reports, _ = service
    clock = SchedulerClock(datetime(2026, 3, 2, 21, 40, tzinfo=UTC))
    clock.install(monkeypatch)
    runner = JobRunner(clock=clock.clock)
    schedule(runner, reports)
    runner.start()
    try:
        await clock.advance(runner, 4 * 60)
        assert await outbox(uow) == []
        await clock.advance(runner, 60)  # five minutes after start
        assert len([m for m in await outbox(uow) if m.chat_id in (ANN, BEN)]) == 4
        await clock.advance(runner, 60)
        assert len([m for m in await outbox(uow) if m.chat_id == ADMIN_CHAT]) == 1
    finally:
        runner.shutdown()


async def outbox(uow: SqlUnitOfWorkFactory) -> list[Any]:
    async with uow() as work:
        return list(await work.notifications.pending(limit=100))


def assert_png(data: bytes | None, *, width: int, height: int) -> None:
    assert data is not None and data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR" and struct.unpack(">II", data[16:24]) == (width, height)
    assert data.endswith(b"IEND\xaeB`\x82") and len(data) > 10_000
