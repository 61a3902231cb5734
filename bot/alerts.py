"""The admin alert channel: alerts from the engine (bus), from failing jobs and from the alert rules, each
persisted as an episode (`alerts` table), sent to the admin chat once and then grouped: repeats within the
group window are counted, not sent, and summed up in the next message; a rule's alert is resolved (and the
admins told) when the rule stops finding it.

While the database is down the alerts still go out, straight to Telegram, grouped in memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from bot import render
from bot.alert_rules import RULE_PREFIX, Finding, evaluate
from bot.metrics import ALERTS
from bot.notifier import Notifier
from bot.system_watch import SystemWatch
from engine.bus import EventBus
from engine.clock import Clock, SystemClock
from engine.domain.events import AlertRaised, Severity, TradingStateChanged
from engine.ports import AlertRecord, UnitOfWorkFactory
from jobs.scheduler import JobStats

log = structlog.get_logger(__name__)

JOB_ALERT_AFTER = 3  # consecutive failed runs before a job is reported (one failure is retried quietly)
STALE_AFTER = timedelta(hours=24)  # an alert nothing has repeated for this long is closed quietly


class AlertCenter:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        notifier: Notifier,
        watch: SystemWatch,
        group_window: timedelta = timedelta(minutes=30),
        clock: Clock | None = None,
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        self._watch = watch
        self._window = group_window
        self._clock = clock or SystemClock()  # wall time
        self._sent_without_database: dict[str, datetime] = {}
        self._failing_jobs: set[str] = set()

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(AlertRaised, self._on_alert)
        bus.subscribe(TradingStateChanged, self._on_state)

    # --- raising, grouping, resolving ------------------------------------------------------------

    async def raise_alert(self, severity: Severity, key: str, title: str, detail: str = "") -> bool:
        """Record an occurrence; True if it went to the admin chat now (False: grouped with earlier ones)."""
        ALERTS.labels(severity.value).inc()
        now = self._clock.now()
        log.warning("alert.raised", severity=severity.value, key=key, title=title)
        try:
            async with self._uow() as uow:
                record, send = self._occurrence(await uow.alerts.open_for(key), severity, key, title, detail, now)
                record = await uow.alerts.save(record)
                await uow.commit()
        except Exception as error:
            log.error("alert.not_recorded", key=key, error=f"{type(error).__name__}: {error}"[:300])
            return await self._send_without_database(severity, key, title, detail, now)
        if send:
            self._notifier.to_admins(render_alert(record), kind=f"alert:{key}")
        return send

    async def resolve(self, key: str, note: str = "") -> bool:
        """Close the open episode of `key`; the admins are told if they had heard of it."""
        now = self._clock.now()
        async with self._uow() as uow:
            record = await uow.alerts.open_for(key)
            if record is None:
                return False
            record = await uow.alerts.save(record.evolve(resolved_at=now, unsent=0))
            await uow.commit()
        self._sent_without_database.pop(key, None)
        log.info("alert.resolved", key=key, occurrences=record.occurrences)
        if record.last_sent_at is not None:
            self._notifier.to_admins(render_resolved(record, note), kind=f"alert:{key}")
        return True

    async def check(self) -> list[Finding]:
        """The alert-rules job: raise what the rules find, resolve what they stopped finding, send grouped
        repeats whose window has passed, close stale episodes."""
        findings = evaluate(await self._watch.view())
        for finding in findings:
            await self.raise_alert(finding.severity, finding.key, finding.title, finding.detail)
        try:
            await self._settle({f.key for f in findings})
        except Exception as error:  # the database is down: the rules still alerted, settle next time
            log.warning("alert.settle_failed", error=f"{type(error).__name__}: {error}"[:300])
        return findings

    async def open_alerts(self) -> list[AlertRecord]:
        """Open episodes, most severe first (for the admins' status)."""
        async with self._uow() as uow:
            records = await uow.alerts.open_all()
        return sorted(records, key=lambda r: (r.severity, r.first_seen))

    async def since(self, moment: datetime) -> list[AlertRecord]:
        """Episodes seen since `moment` (for the admin report: incidents)."""
        async with self._uow() as uow:
            return await uow.alerts.since(moment)

    # --- JobObserver: a job that keeps failing is reported once, and its recovery too ----------------

    async def job_finished(self, stats: JobStats, error: Exception | None) -> None:
        key = f"job:{stats.job_id}"
        if error is None:
            if key in self._failing_jobs:
                self._failing_jobs.discard(key)
                await self.resolve(key, f"{stats.job_id} ran successfully again.")
            return
        if stats.consecutive_failures >= JOB_ALERT_AFTER:
            self._failing_jobs.add(key)
            await self.raise_alert(
                Severity.P1,
                key,
                f"Job {stats.job_id} keeps failing",
                f"{stats.consecutive_failures} runs in a row failed ({stats.schedule}); it is retried at each tick. "
                f"Last error: {stats.last_error}",
            )

    def job_skipped(self, stats: JobStats, reason: str) -> None:
        return None

    # --- internals -----------------------------------------------------------------------------------

    def _occurrence(
        self, record: AlertRecord | None, severity: Severity, key: str, title: str, detail: str, now: datetime
    ) -> tuple[AlertRecord, bool]:
        if record is None:
            new = AlertRecord(
                key=key, severity=severity.value, title=title, detail=detail, first_seen=now, last_seen=now
            )
            return new.evolve(last_sent_at=now), True
        escalated = severity.value < record.severity  # "P0" < "P1": more urgent than before
        record = record.evolve(
            occurrences=record.occurrences + 1,
            last_seen=now,
            title=title,
            detail=detail,
            severity=min(severity.value, record.severity),
        )
        if escalated or record.last_sent_at is None or now - record.last_sent_at >= self._window:
            return record.evolve(last_sent_at=now, unsent=0), True
        return record.evolve(unsent=record.unsent + 1), False

    async def _settle(self, firing: set[str]) -> None:
        now = self._clock.now()
        for record in await self.open_alerts():
            if record.key.startswith(RULE_PREFIX) and record.key not in firing:
                await self.resolve(record.key)
            elif not record.key.startswith(RULE_PREFIX) and now - record.last_seen >= STALE_AFTER:
                await self._close_quietly(record, now)
            elif record.unsent and record.last_sent_at and now - record.last_sent_at >= self._window:
                await self._send_repeats(record, now)

    async def _send_repeats(self, record: AlertRecord, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.alerts.save(record.evolve(unsent=0, last_sent_at=now))
            await uow.commit()
        self._notifier.to_admins(render_alert(record), kind=f"alert:{record.key}")

    async def _close_quietly(self, record: AlertRecord, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.alerts.save(record.evolve(resolved_at=now))
            await uow.commit()

    async def _send_without_database(
        self, severity: Severity, key: str, title: str, detail: str, now: datetime
    ) -> bool:
        last = self._sent_without_database.get(key)
        if last is not None and now - last < self._window:
            return False
        self._sent_without_database[key] = now
        text = render_alert(
            AlertRecord(key=key, severity=severity.value, title=title, detail=detail, first_seen=now, last_seen=now)
        )
        chat = self._notifier.admin_chat_id
        if chat is None or not await self._notifier.send_now(chat, text):
            self._notifier.to_admins(text, kind=f"alert:{key}")  # kept in memory until it can be written
        return True

    async def _on_alert(self, event: AlertRaised) -> None:
        await self.raise_alert(event.severity, event.key, event.title, event.detail)

    async def _on_state(self, event: TradingStateChanged) -> None:
        if event.user_id is None or not event.breaker:
            return
        await self.raise_alert(
            Severity.P2,
            "breakers:users",
            f"Circuit breaker {event.breaker} tripped for user {event.user_id}",
            f"Trading is {event.state.value} for them: {event.reason}",
        )


def render_alert(record: AlertRecord) -> str:
    severity = Severity(record.severity)
    lines = [f"<b>[{severity.value} {severity.label}] {render.escape(record.title)}</b>"]
    if record.detail:
        lines.append(render.escape(record.detail))
    if record.occurrences > 1:
        lines.append(
            f"<i>{record.occurrences} times since {record.first_seen:%Y-%m-%d %H:%M} UTC"
            f"{f', {record.unsent} not shown' if record.unsent else ''}.</i>"
        )
    return "\n".join(lines)


def render_resolved(record: AlertRecord, note: str = "") -> str:
    assert record.resolved_at is not None
    minutes = max(1, round((record.resolved_at - record.first_seen).total_seconds() / 60))
    lines = [f"<b>[{record.severity} resolved] {render.escape(record.title)}</b>"]
    lines.append(f"After {record.occurrences} occurrence(s) over {minutes} min.")
    if note:
        lines.append(render.escape(note))
    return "\n".join(lines)
