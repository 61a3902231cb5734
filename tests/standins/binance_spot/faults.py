"""Fault injection and request recording.

A fault rule matches requests by method and path and is consumed by the next `times` matching
requests, in the order the rules were added. Each request consumes at most one rule. Kinds:

* ``respond``  answer at once with a canned status/body/headers (429, 418, 5xx, ...), before auth;
* ``delay``    wait ``seconds`` before handling; a client that gave up meanwhile gets nothing and the
               request is not processed (it never "reached the matching engine");
* ``reject``   after authentication, answer with a Binance business error (e.g. -2010, -1013);
* ``drop``     process the request normally (an order IS created), then lose the response: ``hang``
               keeps the connection silent (client timeout), ``close`` resets it (connection error).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from . import errors
from .symbols import DecimalLike, to_decimal

FaultKind = Literal["respond", "delay", "reject", "drop"]
DropMode = Literal["hang", "close"]
ORDER_PATH: Final = "/api/v3/order"


@dataclass(slots=True, kw_only=True)
class FaultRule:
    kind: FaultKind
    path: str | None = None
    method: str | None = None
    times: int = 1
    status: int = 500
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    drop_mode: DropMode = "hang"

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or self.path == path) and (self.method is None or self.method == method)


@dataclass(slots=True, kw_only=True)
class RecordedRequest:
    """One request that reached the stand-in (control requests excluded)."""

    method: str
    path: str
    params: dict[str, str]
    api_key: str | None
    time_ms: int
    fault: FaultKind | None = None
    status: int | None = None


class FaultPlan:
    """The faults queued for the next requests, plus matching-level knobs (partial fills, clock skew)."""

    def __init__(self, partial_fill_ratios: deque[Decimal] | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.partial_fill_ratios: deque[Decimal] = deque() if partial_fill_ratios is None else partial_fill_ratios
        self.clock_skew_ms = 0

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one use of the first rule matching this request."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()
        self.partial_fill_ratios.clear()
        self.clock_skew_ms = 0

    def respond(
        self,
        status: int,
        body: str | Mapping[str, object] = "",
        *,
        path: str | None = None,
        method: str | None = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> FaultRule:
        """Answer the next `times` matching requests with this status and body (a dict is sent as JSON)."""
        text = body if isinstance(body, str) else json.dumps(body)
        return self._add(
            FaultRule(
                kind="respond",
                path=path,
                method=method,
                times=times,
                status=status,
                body=text,
                headers=dict(headers or {}),
            )
        )

    def rate_limit(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int = 1,
        retry_after: int = 1,
        status: int = 429,
    ) -> FaultRule:
        """429 (or 418, an IP ban) with Binance's -1003 body and a Retry-After header."""
        error = errors.too_many_requests()
        return self.respond(
            status,
            error.payload(),
            path=path,
            method=method,
            times=times,
            headers={"Retry-After": str(retry_after)},
        )

    def server_error(
        self,
        status: int = 503,
        *,
        with_code: bool = False,
        path: str | None = None,
        method: str | None = None,
        times: int = 1,
    ) -> FaultRule:
        """5xx with an empty body, or with Binance's -1001 "Internal error" body when `with_code`."""
        body = errors.internal_error().payload() if with_code else ""
        return self.respond(status, body, path=path, method=method, times=times)

    def delay(self, seconds: float, *, path: str | None = None, method: str | None = None, times: int = 1) -> FaultRule:
        """Hold the next matching requests `seconds` before handling them (past the client timeout)."""
        return self._add(FaultRule(kind="delay", path=path, method=method, times=times, seconds=seconds))

    def drop_response(
        self,
        *,
        mode: DropMode = "hang",
        path: str = ORDER_PATH,
        method: str | None = "POST",
        times: int = 1,
        seconds: float = 30.0,
    ) -> FaultRule:
        """Accept and persist the request, then lose the answer (hang until the client gives up, or reset)."""
        return self._add(FaultRule(kind="drop", path=path, method=method, times=times, drop_mode=mode, seconds=seconds))

    def reject(
        self,
        code: int,
        msg: str,
        *,
        status: int = 400,
        path: str = ORDER_PATH,
        method: str | None = "POST",
        times: int = 1,
    ) -> FaultRule:
        """Answer authenticated matching requests with this Binance error instead of handling them."""
        body = json.dumps({"code": code, "msg": msg})
        return self._add(FaultRule(kind="reject", path=path, method=method, times=times, status=status, body=body))

    def insufficient_balance(self, *, times: int = 1) -> FaultRule:
        error = errors.insufficient_balance()
        return self.reject(error.code, error.msg, times=times)

    def invalid_quantity(self, *, times: int = 1) -> FaultRule:
        error = errors.filter_failure("LOT_SIZE")
        return self.reject(error.code, error.msg, times=times)

    def partial_fills(self, ratio: DecimalLike, *, times: int = 1) -> None:
        """The next `times` fills execute only `ratio` of the order's remaining quantity."""
        value = to_decimal(ratio)
        if not 0 < value < 1:
            raise ValueError("a partial fill ratio lies strictly between 0 and 1")
        self.partial_fill_ratios.extend([value] * times)

    def skew_clock(self, milliseconds: int) -> None:
        """Shift the server clock (GET /time and the recvWindow check) by `milliseconds`."""
        self.clock_skew_ms = int(milliseconds)

    def _add(self, rule: FaultRule) -> FaultRule:
        if rule.times < 1:
            raise ValueError("a fault applies to at least one request")
        self.rules.append(rule)
        return rule


class RequestLog:
    """Every request the stand-in received, in arrival order."""

    def __init__(self) -> None:
        self.entries: list[RecordedRequest] = []

    def add(self, entry: RecordedRequest) -> RecordedRequest:
        self.entries.append(entry)
        return entry

    def select(
        self, method: str | None = None, path: str | None = None, api_key: str | None = None
    ) -> list[RecordedRequest]:
        return [
            entry
            for entry in self.entries
            if (method is None or entry.method == method)
            and (path is None or entry.path == path)
            and (api_key is None or entry.api_key == api_key)
        ]

    def count(self, method: str | None = None, path: str | None = None, api_key: str | None = None) -> int:
        return len(self.select(method, path, api_key))
