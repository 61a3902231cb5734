"""Alert rules mapped to severities, and the admin channel: persisted, grouped, resolved, and still delivered
while the database is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alert_rules import SystemView, evaluate
from bot.alerts import AlertCenter
from bot.health import HealthChecker
from bot.notifier import Notifier
from bot.system_watch import SystemWatch
from bot.telegram_standin import TelegramStandIn
from engine.clock import SimClock
from engine.domain.events import Severity
from engine.domain.ids import UserId
from engine.gateway_timing import GatewayTimings
from engine.ports import OrderOutcomes
from jobs.scheduler import JobStats
from storage.unit_of_work import SqlUnitOfWorkFactory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ADMIN_CHAT = -100777


def view(**changes: Any) -> SystemView:
    base: dict[str, Any] = {
        "now": NOW,
        "components": {"database": {"status": "ok"}, "exchange": {"status": "ok"}},
        "jobs": [],
        "orders": OrderOutcomes({}),
        "breaker_users": frozenset(),
        "active_users": 10,
        "venues": [],
        "monitor_overruns": 0,
    }
    return SystemView(**(base | changes))


def job(job_id: str, interval: float, **fields: Any) -> JobStats:
    return JobStats(job_id, f"every {interval:g}s", interval, registered_at=NOW - timedelta(hours=1), **fields)


def severities(found: list[Any]) -> dict[str, Severity]:
    return {f.key.removeprefix("rule:"): f.severity for f in found}


def test_a_quiet_system_raises_nothing():
    healthy_jobs = [
        job("position_monitor", 5, runs=700, last_finished=NOW),
        job("reconciliation", 180, runs=20, last_finished=NOW),
    ]
    assert evaluate(view(jobs=healthy_jobs, orders=OrderOutcomes({"filled": 40, "rejected": 2}))) == []


def test_p0_rules_database_orders_jobs_and_mass_breakers():
    assert severities(evaluate(view(components={"database": {"status": "down", "detail": "refused"}}))) == {
        "database_down": Severity.P0
    }
    assert severities(evaluate(view(orders=OrderOutcomes({"rejected": 2, "unknown": 1})))) == {
        "orders_failing": Severity.P0
    }
    failing = [
        job("position_monitor", 5, runs=9, consecutive_failures=3, last_finished=NOW),
        job("reconciliation", 180, runs=4, consecutive_failures=2, last_finished=NOW),
        job("daily_user_reports", 86_400),  # never ran yet: does not count
    ]
    assert severities(evaluate(view(jobs=failing))) == {"all_jobs_failing": Severity.P0}
    tripped = frozenset(UserId(i) for i in range(3))
    assert severities(evaluate(view(breaker_users=tripped, active_users=20))) == {"mass_breakers": Severity.P0}
    assert evaluate(view(breaker_users=tripped, active_users=100)) == []  # 3 of 100 is not "mass" (10% = 10)


def test_p1_rules_error_rate_late_job_and_failing_exchange():
    timings = GatewayTimings(SimClock(NOW))
    for error in ("", "ExchangeNotAvailable", "ExchangeNotAvailable", "RequestTimeout"):
        timings.record("binance", "GET /api/v3/ticker/24hr", 0.2, error)
    found = severities(
        evaluate(
            view(
                orders=OrderOutcomes({"filled": 17, "rejected": 3}),  # 15% failed
                jobs=[job("reconciliation", 180, runs=3, last_finished=NOW - timedelta(minutes=20))],
                venues=[timings.activity("binance")],
            )
        )
    )
    assert found == {
        "order_error_rate": Severity.P1,
        "job_late:reconciliation": Severity.P1,
        "exchange:binance": Severity.P1,
    }


def test_p2_rules_degradation_slow_exchange_and_monitor_overruns():
    timings = GatewayTimings(SimClock(NOW))
    for _ in range(5):
        timings.record("binance", "POST /api/v3/order", 3.5)
    found = severities(
        evaluate(
            view(
                components={"database": {"status": "ok"}, "telegram": {"status": "degraded", "detail": "slow"}},
                venues=[timings.activity("binance")],
                monitor_overruns=2,
            )
        )
    )
    assert found == {
        "degraded:telegram": Severity.P2,
        "exchange_slow:binance": Severity.P2,
        "monitor_overrun": Severity.P2,
    }


async def test_rule_alerts_are_grouped_while_they_last_and_resolved_when_they_stop(uow: SqlUnitOfWorkFactory):
    clock = SimClock(NOW)
    health = HealthChecker({"database": _status("ok")})
    notifier = Notifier(uow, clock, ADMIN_CHAT)
    center = AlertCenter(uow, notifier, SystemWatch(uow, health, GatewayTimings(clock), clock), clock=clock)

    health.probes["exchange"] = _status("down", "binance: markets not loaded")
    for _ in range(5):
        await center.check()
        clock.advance(timedelta(minutes=1))
    (episode,) = await center.open_alerts()
    assert episode.key == "rule:exchange_down" and episode.occurrences == 5 and episode.unsent == 4

    health.probes["exchange"] = _status("ok")
    assert await center.check() == []
    texts = await _outbox(notifier, uow)
    assert len(texts) == 2
    assert texts[0].startswith("<b>[P1 high] Exchange unreachable</b>\nbinance: markets not loaded")
    assert texts[1].startswith("<b>[P1 resolved] Exchange unreachable</b>\nAfter 5 occurrence(s) over 5 min.")
    assert await center.open_alerts() == []


async def test_engine_alerts_escalate_at_once_and_repeats_are_summed_after_the_window(uow: SqlUnitOfWorkFactory):
    clock = SimClock(NOW)
    notifier = Notifier(uow, clock, ADMIN_CHAT)
    center = AlertCenter(uow, notifier, SystemWatch(uow, HealthChecker({}), GatewayTimings(clock), clock), clock=clock)
    assert await center.raise_alert(Severity.P2, "account:7", "Account 7 refused", "keys revoked")
    assert not await center.raise_alert(Severity.P2, "account:7", "Account 7 refused", "keys revoked")
    assert await center.raise_alert(Severity.P1, "account:7", "Account 7 refused", "keys revoked")  # escalated
    assert not await center.raise_alert(Severity.P2, "account:7", "Account 7 refused", "keys revoked")
    clock.advance(timedelta(minutes=31))
    await center.check()  # the window passed with a repeat unsent: it is summed up
    texts = await _outbox(notifier, uow)
    assert [t.split("]")[0] for t in texts] == ["<b>[P2 medium", "<b>[P1 high", "<b>[P1 high"]
    assert "4 times since 2026-03-02 12:00 UTC, 1 not shown." in texts[2]


async def test_while_the_database_is_down_alerts_go_straight_to_telegram_once_per_window(uow: SqlUnitOfWorkFactory):
    telegram = TelegramStandIn()
    clock = SimClock(NOW)
    notifier = Notifier(uow, clock, ADMIN_CHAT)
    application = telegram.configure(_builder()).build()
    await application.initialize()
    try:
        notifier.attach(application.bot)
        health = HealthChecker({"database": _status("down", "connection refused")})
        center = AlertCenter(_broken_uow, notifier, SystemWatch(_broken_uow, health, GatewayTimings(clock), clock))
        for _ in range(3):
            await center.check()
        sent = telegram.messages(ADMIN_CHAT)
        assert len(sent) == 1 and "[P0 critical] Database down" in sent[0].displayed_text
    finally:
        await application.shutdown()


def _builder() -> Any:
    from telegram.ext import ApplicationBuilder

    return ApplicationBuilder()


def _broken_uow() -> Any:
    raise ConnectionRefusedError("the database is unreachable")


def _status(status: str, detail: str = "") -> Any:
    async def probe() -> dict[str, Any]:
        return {"status": status, "detail": detail}

    return probe


async def _outbox(notifier: Notifier, uow: SqlUnitOfWorkFactory) -> list[str]:
    await notifier.flush()
    async with uow() as work:
        return [m.text for m in await work.notifications.pending(limit=100) if m.chat_id == ADMIN_CHAT]
