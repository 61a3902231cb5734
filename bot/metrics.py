"""Prometheus metrics for `GET /metrics`: what the engine reports on its bus, what the scheduler and the exchange
timings observe, and a few counts read from the database when the page is scraped.

Counters and histograms are process-wide (prometheus-client's default registry); the gauges read at scrape time
(open positions, users, order success rate) belong to the process's one `MetricsFeed`.
"""

from __future__ import annotations

import time
from datetime import timedelta

from prometheus_client import Counter, Gauge, Histogram

from engine.bus import EventBus
from engine.clock import Clock, SystemClock
from engine.domain.events import AlertRaised, EntriesDecided, LlmUsageRecorded, OrdersRecorded
from engine.gateway_timing import GatewayTimings, TimedCall
from engine.ports import UnitOfWorkFactory
from jobs.catalog import MONITOR_JOB
from jobs.scheduler import JobStats

ORDERS = Counter("tradebot_orders", "Orders that reached each status (filled, rejected, unknown, ...)", ["outcome"])
ORDER_SUCCESS = Gauge(
    "tradebot_order_success_ratio",
    "Of the orders created in the last 24 h that got an answer, the share the venue took (not rejected or unknown)",
)
EXCHANGE_LATENCY = Histogram(
    "tradebot_exchange_request_seconds",
    "Exchange HTTP request time (after the rate limiter), by venue and endpoint",
    ["venue", "endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EXCHANGE_ERRORS = Counter(
    "tradebot_exchange_request_errors",
    "Exchange requests that failed, by venue, endpoint and error",
    ["venue", "error"],
)
SIGNAL_DECISIONS = Counter("tradebot_signal_decisions", "Entry decisions for followers by outcome", ["outcome"])
SIGNAL_REFUSALS = Counter(
    "tradebot_signal_refusals", "Reasons entries were refused (one entry may have several)", ["reason"]
)
MONITOR_PASS = Histogram(
    "tradebot_monitor_pass_seconds",
    "Time of a scheduled position-monitor pass",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OPEN_POSITIONS = Gauge("tradebot_open_positions", "Open positions across all users")
USERS = Gauge("tradebot_users", "Onboarded users, active or paused", ["state"])
LLM_TOKENS = Counter("tradebot_llm_tokens", "Tokens the LLM agent used", ["kind"])
LLM_COST = Counter("tradebot_llm_cost_usd", "What the LLM agent's calls cost, in USD")
TELEGRAM_SEND_FAILURES = Counter(
    "tradebot_telegram_send_failures", "Messages Telegram did not take, by message kind", ["kind"]
)
JOB_RUNS = Counter("tradebot_job_runs", "Scheduled job runs", ["job"])
JOB_FAILURES = Counter("tradebot_job_failures", "Scheduled job runs that failed", ["job"])
JOB_SKIPPED = Counter(
    "tradebot_job_skipped", "Scheduled ticks dropped (overrun: still running; missed: too late)", ["job", "reason"]
)
JOB_DURATION = Histogram(
    "tradebot_job_duration_seconds",
    "Scheduled job run time",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)
ALERTS = Counter("tradebot_alerts", "Admin alerts raised (before grouping), by severity", ["severity"])

REFRESH_SECONDS = 5.0  # scrapes closer together than this reuse the last database counts


class MetricsFeed:
    """Feeds the metrics from the bus, the scheduler and the exchange timings; refreshes the gauges on scrape."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock | None = None) -> None:
        self._uow = uow
        self._clock = clock or SystemClock()
        self._refreshed_at = float("-inf")

    def subscribe(self, bus: EventBus, timings: GatewayTimings) -> None:
        bus.subscribe(OrdersRecorded, self._on_orders)
        bus.subscribe(EntriesDecided, self._on_decisions)
        bus.subscribe(LlmUsageRecorded, self._on_llm)
        bus.subscribe(AlertRaised, self._on_alert)
        timings.observe(self._on_exchange_call)

    async def refresh(self) -> None:
        """Read the counts behind the gauges (at most every few seconds, whatever the scrape rate)."""
        if time.monotonic() - self._refreshed_at < REFRESH_SECONDS:
            return
        self._refreshed_at = time.monotonic()
        async with self._uow() as uow:
            users = await uow.users.count_by_pause()
            positions = await uow.positions.count_open()
            outcomes = await uow.orders.outcome_counts(self._clock.now() - timedelta(days=1))
        USERS.labels("active").set(users.get(False, 0))
        USERS.labels("paused").set(users.get(True, 0))
        OPEN_POSITIONS.set(positions)
        ORDER_SUCCESS.set(outcomes.success_ratio)

    # --- the scheduler (a JobObserver) -------------------------------------------------------------

    async def job_finished(self, stats: JobStats, error: Exception | None) -> None:
        JOB_RUNS.labels(stats.job_id).inc()
        JOB_DURATION.labels(stats.job_id).observe(stats.last_duration)
        if error is not None:
            JOB_FAILURES.labels(stats.job_id).inc()
        elif stats.job_id == MONITOR_JOB:
            MONITOR_PASS.observe(stats.last_duration)

    def job_skipped(self, stats: JobStats, reason: str) -> None:
        JOB_SKIPPED.labels(stats.job_id, reason).inc()

    # --- events --------------------------------------------------------------------------------------

    async def _on_orders(self, event: OrdersRecorded) -> None:
        for status, count in event.reached:
            ORDERS.labels(status).inc(count)

    async def _on_decisions(self, event: EntriesDecided) -> None:
        SIGNAL_DECISIONS.labels("accepted").inc(event.accepted)
        SIGNAL_DECISIONS.labels("refused").inc(event.refused)
        for reason, count in event.reasons:
            SIGNAL_REFUSALS.labels(reason).inc(count)

    async def _on_llm(self, event: LlmUsageRecorded) -> None:
        LLM_TOKENS.labels("input").inc(event.input_tokens)
        LLM_TOKENS.labels("output").inc(event.output_tokens)
        LLM_COST.inc(float(event.cost_usd))

    async def _on_alert(self, event: AlertRaised) -> None:
        ALERTS.labels(event.severity.value).inc()

    def _on_exchange_call(self, call: TimedCall) -> None:
        EXCHANGE_LATENCY.labels(call.venue, call.endpoint).observe(call.seconds)
        if not call.is_ok:
            EXCHANGE_ERRORS.labels(call.venue, call.error).inc()


def count_send_failure(kind: str) -> None:
    """A message Telegram did not take (the notifier's outbox, or a reply to a command)."""
    TELEGRAM_SEND_FAILURES.labels(kind.split(":", 1)[0]).inc()
