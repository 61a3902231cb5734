"""Backtests asked for in the chat: run in a worker process (the event loop keeps serving everyone), limited per
person (one at a time, and a pause between two) and overall (a few at once)."""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import structlog

from bot.charts import equity_chart_png
from engine.backtest.report import summary_lines
from engine.backtest.session import BacktestRequest, backtest_blocking

MIN_SECONDS_BETWEEN = 60.0  # per person, from the start of one backtest to the next
MAX_AT_ONCE = 2  # backtests running or waiting for the worker, everyone together


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """What the chat shows: the summary and the equity chart (small, so it crosses the process boundary)."""

    title: str
    lines: list[str]
    chart_png: bytes
    trades: int


def run_report(request: BacktestRequest) -> BacktestReport:
    """Run a backtest and render its chart: the work done in the worker process."""
    outcome = backtest_blocking(request)
    chart = equity_chart_png(outcome.curve.points(), outcome.title, outcome.summary.capital)
    return BacktestReport(outcome.title, summary_lines(outcome.summary, outcome.title), chart, outcome.summary.trades)


def _quiet_worker() -> None:
    """The engine logs every order at debug level: in a backtest worker, only warnings are worth a line."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


class BacktestDesk:
    def __init__(
        self,
        workers: int = 1,
        min_seconds_between: float = MIN_SECONDS_BETWEEN,
        max_at_once: int = MAX_AT_ONCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._workers = workers
        self._min_between = min_seconds_between
        self._max_at_once = max_at_once
        self._clock = clock
        self._pool: ProcessPoolExecutor | None = None
        self._running: set[int] = set()
        self._started: dict[int, float] = {}

    def refusal(self, person: int) -> str | None:
        """Why `person` may not start a backtest now, or None."""
        if person in self._running:
            return "Your last backtest is still running; its result comes here when it is done."
        wait = self._started.get(person, -float("inf")) + self._min_between - self._clock()
        if wait > 0:
            return f"One backtest a minute, please: try again in {math.ceil(wait)} s."
        if len(self._running) >= self._max_at_once:
            return "The backtester is busy with other people's runs; try again in a minute."
        return None

    async def run(self, person: int, request: BacktestRequest) -> BacktestReport:
        """Run `request` in the worker process for `person` (check `refusal` first)."""
        self._running.add(person)
        self._started[person] = self._clock()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker_pool(), run_report, request)
        finally:
            self._running.discard(person)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _worker_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:  # a fresh interpreter: nothing of this process's loop, threads or sockets comes along
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"), initializer=_quiet_worker
            )
        return self._pool
