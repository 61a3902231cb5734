"""How long each exchange request takes, and whether it failed: every HTTP request a ccxt client makes is timed
(after ccxt's rate limiter, so the figure is the exchange's answer time), labelled by venue and endpoint.

Kept in memory for a day: the admin report's p50/p95, `/health`'s view of each exchange, and observers (the
Prometheus histogram) that see every call as it ends.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from engine.analytics import percentile
from engine.clock import Clock, SystemClock

_VARIABLE = re.compile(r"/(?:\d+|[0-9a-f]{16,}|[0-9a-f-]{32,})(?=/|$)", re.I)  # ids in a path: one label, not many


@dataclass(frozen=True, slots=True)
class TimedCall:
    venue: str
    endpoint: str  # "POST /api/v3/order"
    at: datetime  # wall clock, when it ended
    seconds: float
    error: str = ""  # the exception's class name when it failed

    @property
    def is_ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class LatencySummary:
    calls: int
    errors: int
    p50: float  # seconds
    p95: float
    slowest: float

    @property
    def error_ratio(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class VenueActivity:
    """What the recent calls to one venue say about it, for `/health` and the alert rules."""

    venue: str
    recent: LatencySummary
    last_ok: datetime | None
    last_error: str
    last_error_at: datetime | None


CallObserver = Callable[[TimedCall], None]


class GatewayTimings:
    def __init__(self, clock: Clock | None = None, keep: timedelta = timedelta(days=1), limit: int = 500_000) -> None:
        self._clock = clock or SystemClock()  # wall time, even when the market runs on a simulated clock
        self._keep = keep
        self._calls: deque[TimedCall] = deque(maxlen=limit)
        self._observers: list[CallObserver] = []
        self._last_ok: dict[str, datetime] = {}
        self._last_error: dict[str, TimedCall] = {}

    def observe(self, observer: CallObserver) -> None:
        self._observers.append(observer)

    def record(self, venue: str, endpoint: str, seconds: float, error: str = "") -> TimedCall:
        call = TimedCall(venue, endpoint, self._clock.now(), seconds, error)
        self._calls.append(call)
        if call.is_ok:
            self._last_ok[venue] = call.at
        else:
            self._last_error[venue] = call
        self._forget_old(call.at)
        for observer in self._observers:
            observer(call)
        return call

    def calls(self, since: datetime, venue: str | None = None) -> list[TimedCall]:
        return [c for c in self._calls if c.at >= since and (venue is None or c.venue == venue)]

    def summary(self, since: datetime) -> dict[str, LatencySummary]:
        """Per venue: calls, errors, p50 and p95 of the answer times since `since`."""
        by_venue: dict[str, list[TimedCall]] = {}
        for call in self.calls(since):
            by_venue.setdefault(call.venue, []).append(call)
        return {venue: summarize(calls) for venue, calls in sorted(by_venue.items())}

    def activity(self, venue: str, window: timedelta = timedelta(minutes=5)) -> VenueActivity:
        failed = self._last_error.get(venue)
        return VenueActivity(
            venue=venue,
            recent=summarize(self.calls(self._clock.now() - window, venue)),
            last_ok=self._last_ok.get(venue),
            last_error=failed.error if failed else "",
            last_error_at=failed.at if failed else None,
        )

    @property
    def venues(self) -> list[str]:
        return sorted({*self._last_ok, *self._last_error})

    def instrument(self, client: Any, venue: str) -> None:
        """Time every HTTP request of a ccxt client (its `fetch`, which every call goes through)."""
        fetch = client.fetch

        async def timed_fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            started = time.perf_counter()
            error = ""
            try:
                return await fetch(url, method, headers, body)
            except BaseException as failure:
                error = type(failure).__name__
                raise
            finally:
                self.record(venue, endpoint_of(method, url), time.perf_counter() - started, error)

        client.fetch = timed_fetch

    def _forget_old(self, now: datetime) -> None:
        horizon = now - self._keep
        while self._calls and self._calls[0].at < horizon:
            self._calls.popleft()


def summarize(calls: Iterable[TimedCall]) -> LatencySummary:
    calls = list(calls)
    seconds = [c.seconds for c in calls]
    return LatencySummary(
        calls=len(calls),
        errors=sum(1 for c in calls if not c.is_ok),
        p50=percentile(seconds, 50),
        p95=percentile(seconds, 95),
        slowest=max(seconds, default=0.0),
    )


def endpoint_of(method: str, url: str) -> str:
    """`GET /api/v3/order`: the method and the path, with ids in the path folded into `:id`."""
    return f"{method.upper()} {_VARIABLE.sub('/:id', urlsplit(url).path) or '/'}"
