"""Reports delivered: each user's daily report (text, then the equity chart as a picture), the admins' daily
report and the weekly strategy review to the admin chat. Each report sent is stored (`reports`), so a run
that is repeated (a retry, a restart after the hour) never sends a user the same day twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog

from bot import report_text
from bot.charts import ChartRenderer
from bot.notifier import Notifier
from engine.domain.ids import UserId
from engine.ports import ReportRecord, UnitOfWorkFactory
from engine.reports import AdminDay, ReportBuilder, UserDay, WeeklyReview

log = structlog.get_logger(__name__)

DAILY_USER, DAILY_ADMIN, WEEKLY = "daily_user", "daily_admin", "weekly_review"
MUTE_REPORTS = "daily_report"  # in a user's muted notifications: no daily report


class ReportService:
    def __init__(
        self,
        builder: ReportBuilder,
        notifier: Notifier,
        charts: ChartRenderer,
        uow: UnitOfWorkFactory,
        chart_concurrency: int = 2,
    ) -> None:
        self.builder = builder
        self._notifier = notifier
        self._charts = charts
        self._uow = uow
        self._chart_slots = asyncio.Semaphore(chart_concurrency)

    # --- the scheduled reports ---------------------------------------------------------------------

    async def send_user_reports(self) -> int:
        """Every onboarded user's daily report (those not sent yet today); returns how many were sent."""
        period = self.builder.day_start()
        async with self._uow() as uow:
            done = await uow.reports.users_with(DAILY_USER, period)
        sent = 0
        async for batch in self.builder.user_days():
            due = [d for d in batch if d.user.id not in done and MUTE_REPORTS not in d.user.notifications_muted]
            sent += await self._deliver_user_days(due)
        log.info("reports.users_sent", sent=sent, already=len(done), period=period.isoformat())
        return sent

    async def send_admin_report(self) -> AdminDay | None:
        day = await self.builder.admin_day()
        async with self._uow() as uow:
            latest = await uow.reports.latest(DAILY_ADMIN)
        if latest is not None and latest.period_start == day.day_start:
            return None  # already sent for this day
        text = report_text.admin_day(day)
        self._notifier.to_admins(text, kind="report:admin")
        await self._notifier.flush()
        await self._store([_record(DAILY_ADMIN, None, day.day_start, day.at, text, day.figures())])
        return day

    async def send_weekly_review(self) -> WeeklyReview:
        review = await self.builder.weekly_review()
        text = report_text.weekly_review(review)
        self._notifier.to_admins(text, kind="report:weekly")
        await self._notifier.flush()
        await self._store([_record(WEEKLY, None, review.week_start, review.at, text, review.figures())])
        return review

    # --- on demand (/report) -----------------------------------------------------------------------

    async def user_report(self, user_id: UserId) -> tuple[str, bytes | None] | None:
        """A user's report now, text and chart; None if they are not set up yet."""
        day = await self.builder.user_day(user_id)
        if day is None:
            return None
        return report_text.user_day(day), await self._chart(day)

    def close(self) -> None:
        self._charts.close()

    # --- internals ---------------------------------------------------------------------------------

    async def _deliver_user_days(self, days: list[UserDay]) -> int:
        charts = await asyncio.gather(*(self._chart(d) for d in days))
        records = []
        for day, chart in zip(days, charts, strict=True):
            text = report_text.user_day(day)
            self._notifier.enqueue(day.user.chat_id, text, kind="report")
            if chart is not None:
                self._notifier.enqueue_photo(day.user.chat_id, chart, report_text.chart_caption(day), kind="report")
            records.append(_record(DAILY_USER, day.user.id, day.day_start, day.at, text, day.figures()))
        await self._notifier.flush()  # the outbox holds them before the run is counted as done
        await self._store(records)
        return len(records)

    async def _chart(self, day: UserDay) -> bytes | None:
        if len(day.equity_marks) < 2:
            return None  # a single point is not a chart
        async with self._chart_slots:
            try:
                return await self._charts.equity_chart(day.equity_marks, "Equity, last 7 days", day.user.capital)
            except Exception:
                log.exception("reports.chart_failed", user=day.user.id)
                return None

    async def _store(self, records: list[ReportRecord]) -> None:
        async with self._uow() as uow:
            await uow.reports.add_many(records)
            await uow.commit()


def _record(
    kind: str, user_id: UserId | None, start: datetime, end: datetime, body: str, figures: dict[str, object]
) -> ReportRecord:
    return ReportRecord(
        ts=end, kind=kind, user_id=user_id, period_start=start, period_end=end, body=body, figures=figures
    )
