"""Every scheduled job, registered in one place: the trading jobs (position monitor, equity marks,
reconciliation) and the operator jobs (reports, alert rules) whose work the composition root hands in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time, timedelta

from engine.runtime import TradingEngine
from jobs.config import JobsConfig
from jobs.scheduler import JobRunner

MONITOR_JOB = "position_monitor"
EQUITY_JOB = "equity_marks"
RECONCILE_JOB = "reconciliation"
USER_REPORTS_JOB = "daily_user_reports"
ADMIN_REPORT_JOB = "daily_admin_report"
WEEKLY_REVIEW_JOB = "weekly_review"
ALERT_RULES_JOB = "alert_rules"

Work = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class OperatorWork:
    """What the operator jobs do; the bot supplies it (it renders and delivers), the jobs only keep time."""

    user_reports: Work | None = None
    admin_report: Work | None = None
    weekly_review: Work | None = None
    alert_rules: Work | None = None


def schedule_trading_jobs(runner: JobRunner, config: JobsConfig, engine: TradingEngine) -> None:
    # the market driver hands each step's bars to the monitor; this pass re-checks the latest prices between steps
    runner.every(MONITOR_JOB, config.monitor_seconds, lambda: engine.monitor.run_pass({}))
    runner.every(EQUITY_JOB, config.equity_seconds, engine.monitor.mark_equity, start_now=True)
    if engine.reconciler is not None:
        runner.every(RECONCILE_JOB, config.reconcile_seconds, engine.reconciler.run)


CATCH_UP_AFTER = timedelta(minutes=5)


def schedule_operator_jobs(runner: JobRunner, config: JobsConfig, work: OperatorWork) -> None:
    """The reports at their hour (a process started later that day catches up after a few minutes: the
    reports remember who got them, so nobody gets a day twice) and the alert rules."""
    past_the_hour = runner.now().time() >= time(config.report_hour_utc, config.admin_report_minute)
    if work.user_reports is not None:
        runner.daily(USER_REPORTS_JOB, config.report_hour_utc, work.user_reports)
        if past_the_hour:
            runner.run_later(USER_REPORTS_JOB, CATCH_UP_AFTER)
    if work.admin_report is not None:
        runner.daily(ADMIN_REPORT_JOB, config.report_hour_utc, work.admin_report, minute=config.admin_report_minute)
        if past_the_hour:
            runner.run_later(ADMIN_REPORT_JOB, CATCH_UP_AFTER + timedelta(minutes=1))
    if work.weekly_review is not None:
        runner.weekly(
            WEEKLY_REVIEW_JOB, config.weekly_review_day, config.report_hour_utc, work.weekly_review, minute=30
        )
    if work.alert_rules is not None:
        runner.every(ALERT_RULES_JOB, config.alert_rules_seconds, work.alert_rules)
