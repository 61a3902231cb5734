"""Alert rules: what in the system's state deserves the admins' attention, and how urgently.

P0 critical (trading impaired for everyone): the database is down, orders cannot be placed, every job is
failing, circuit breakers trip for many users at once.
P1 high (a part is down or failing often): a job keeps failing or stopped running, more than 10% of orders
fail, an exchange's API answers with errors or not at all.
P2 medium (one user's problem, or degradation): a user's breaker or account, a component degraded, the
position monitor overrunning its interval, an exchange answering slowly.

Pure: each rule reads a `SystemView` and returns findings; `AlertCenter` raises, groups and resolves them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.domain.events import Severity
from engine.domain.ids import UserId
from engine.gateway_timing import VenueActivity
from engine.ports import OrderOutcomes
from jobs.catalog import MONITOR_JOB
from jobs.scheduler import JobStats

RULE_PREFIX = "rule:"  # alerts raised by these rules: resolved when the rule stops finding them
WINDOW = timedelta(minutes=15)  # orders and breaker trips are judged over this window
ORDER_FAILURES_FOR_P0 = 3  # this many failed orders and none taken: orders cannot be placed
ERROR_RATE = 0.10  # share of failed orders above which the admins hear of it (P1) ...
ERROR_RATE_MIN_ORDERS = 10  # ... once at least this many orders were answered
MASS_BREAKERS = 3  # breakers tripped for at least this many users (and 10% of them) in the window: P0
EXCHANGE_ERROR_RATIO = 0.25
EXCHANGE_MIN_CALLS = 4
EXCHANGE_SLOW_SECONDS = 2.0  # p95 above this over the last minutes: degraded
LATE_AFTER_INTERVALS = 3.0  # a frequent job that has not finished for this many intervals is down


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    severity: Severity
    title: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SystemView:
    """What the rules look at; gathered by `AlertCenter` (parts it could not read are None or empty)."""

    now: datetime
    components: Mapping[str, Mapping[str, Any]]  # /health's components
    jobs: Sequence[JobStats]
    orders: OrderOutcomes | None  # orders created in the window, by status now
    breaker_users: frozenset[UserId]  # users whose circuit breaker tripped in the window
    active_users: int
    venues: Sequence[VenueActivity]
    monitor_overruns: int  # position-monitor ticks skipped since the rules last looked


Rule = Callable[[SystemView], list[Finding]]


def database_down(view: SystemView) -> list[Finding]:
    database = view.components.get("database", {})
    if database.get("status") != "down":
        return []
    return [_finding("database_down", Severity.P0, "Database down", str(database.get("detail", "")))]


def orders_failing(view: SystemView) -> list[Finding]:
    orders = view.orders
    if orders is None:
        return []
    if orders.failed >= ORDER_FAILURES_FOR_P0 and orders.taken == 0:
        return [
            _finding(
                "orders_failing",
                Severity.P0,
                "Orders cannot be placed",
                f"{orders.failed} orders in the last {_minutes(WINDOW)} were rejected or left unknown; none was taken.",
            )
        ]
    answered = orders.taken + orders.failed
    if answered >= ERROR_RATE_MIN_ORDERS and orders.failed / answered > ERROR_RATE:
        share = orders.failed / answered
        return [
            _finding(
                "order_error_rate",
                Severity.P1,
                f"Order error rate {share:.0%}",
                f"{orders.failed} of {answered} orders answered in the last {_minutes(WINDOW)} failed "
                f"(rejected or unknown); the threshold is {ERROR_RATE:.0%}.",
            )
        ]
    return []


def jobs_failing(view: SystemView) -> list[Finding]:
    frequent = [j for j in view.jobs if j.interval_seconds <= 3600]
    ran = [j for j in frequent if j.runs > 0]
    if len(ran) >= 2 and all(j.consecutive_failures >= 2 for j in ran):
        names = ", ".join(j.job_id for j in ran)
        return [_finding("all_jobs_failing", Severity.P0, "Every scheduled job is failing", f"Failing: {names}.")]
    return [
        _finding(
            f"job_late:{job.job_id}",
            Severity.P1,
            f"Job {job.job_id} is not running",
            f"It runs {job.schedule} and has not finished a run since "
            f"{_clock(job.last_finished or job.registered_at)}.",
        )
        for job in frequent
        if not job.is_running and job.is_late(view.now, LATE_AFTER_INTERVALS)
    ]


def breakers_tripping(view: SystemView) -> list[Finding]:
    tripped = len(view.breaker_users)
    threshold = max(MASS_BREAKERS, math.ceil(0.1 * view.active_users))
    if tripped < threshold:
        return []
    return [
        _finding(
            "mass_breakers",
            Severity.P0,
            "Circuit breakers tripping for many users",
            f"{tripped} users' breakers tripped in the last {_minutes(WINDOW)} ({view.active_users} active users).",
        )
    ]


def exchanges_failing(view: SystemView) -> list[Finding]:
    findings = []
    for venue in view.venues:
        recent = venue.recent
        if recent.calls >= EXCHANGE_MIN_CALLS and recent.error_ratio > EXCHANGE_ERROR_RATIO:
            findings.append(
                _finding(
                    f"exchange:{venue.venue}",
                    Severity.P1,
                    f"{venue.venue} API failing",
                    f"{recent.errors} of {recent.calls} requests failed in the last minutes "
                    f"(latest: {venue.last_error}).",
                )
            )
        elif recent.calls >= EXCHANGE_MIN_CALLS and recent.p95 > EXCHANGE_SLOW_SECONDS:
            findings.append(
                _finding(
                    f"exchange_slow:{venue.venue}",
                    Severity.P2,
                    f"{venue.venue} API slow",
                    f"p95 {recent.p95:.2f} s over {recent.calls} requests in the last minutes.",
                )
            )
    exchange = view.components.get("exchange", {})
    if exchange.get("status") == "down":
        findings.append(_finding("exchange_down", Severity.P1, "Exchange unreachable", str(exchange.get("detail", ""))))
    return findings


def degradation(view: SystemView) -> list[Finding]:
    findings = [
        _finding(f"degraded:{name}", Severity.P2, f"{name} degraded", str(component.get("detail", "")))
        for name, component in view.components.items()
        if component.get("status") == "degraded" and name != "scheduler"  # the scheduler's jobs have their own rules
    ]
    if view.monitor_overruns:
        findings.append(
            _finding(
                "monitor_overrun",
                Severity.P2,
                "Position monitor overrunning",
                f"{view.monitor_overruns} ticks of {MONITOR_JOB} were skipped because the previous pass was still "
                "running: passes take longer than the interval.",
            )
        )
    return findings


RULES: tuple[Rule, ...] = (
    database_down,
    orders_failing,
    jobs_failing,
    breakers_tripping,
    exchanges_failing,
    degradation,
)


def evaluate(view: SystemView, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every finding of every rule, most severe first."""
    findings = [finding for rule in rules for finding in rule(view)]
    return sorted(findings, key=lambda f: f.severity.value)


def _finding(name: str, severity: Severity, title: str, detail: str = "") -> Finding:
    return Finding(f"{RULE_PREFIX}{name}", severity, title, detail)


def _minutes(window: timedelta) -> str:
    return f"{int(window.total_seconds() // 60)} minutes"


def _clock(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "it started"
