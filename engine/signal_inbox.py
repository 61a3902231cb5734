"""The inbox for signals from outside (webhooks). Each signal is checked for duplicates and stored the moment
it arrives, then one worker feeds the stored signals, in arrival order, through the signal pipeline. A signal
stored but not processed when the process stopped is picked up at the next start (or expired if too old)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import structlog

from engine.clock import Clock
from engine.domain.enums import SignalSource
from engine.domain.ids import SignalId
from engine.domain.signals import Signal
from engine.ports import UnitOfWorkFactory
from engine.trading import SignalPipeline

log = structlog.get_logger(__name__)

ErrorRecorder = Callable[[str, str, dict[str, object]], Awaitable[None]]
Observer = Callable[[Signal, str, float], None]  # signal, final status, seconds from arrival to processed


class InboxStatus(StrEnum):
    ACCEPTED = "ACCEPTED"  # stored; it will be processed
    DUPLICATE = "DUPLICATE"  # already received: not acted on again
    IGNORED = "IGNORED"  # stored, but its strategy is disabled
    BUSY = "BUSY"  # not stored: too many signals waiting; send it again shortly


@dataclass(frozen=True, slots=True)
class InboxReceipt:
    status: InboxStatus
    message: str
    signal_id: SignalId | None = None


class SignalInbox:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        pipeline: SignalPipeline,
        wall_clock: Clock,
        *,
        is_enabled: Callable[[str], bool],
        duplicate_ttl: timedelta,
        max_age: timedelta,
        record_error: ErrorRecorder,
        capacity: int = 1000,
    ) -> None:
        self._uow = uow
        self._pipeline = pipeline
        self._clock = wall_clock
        self._is_enabled = is_enabled
        self._duplicate_ttl = duplicate_ttl
        self._max_age = max_age
        self._record_error = record_error
        self._queue: asyncio.Queue[tuple[Signal, float]] = asyncio.Queue()
        self._capacity = capacity
        self._intake = asyncio.Lock()
        self.observers: list[Observer] = []

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    async def receive(self, signal: Signal, content_hash: str) -> InboxReceipt:
        """Store a new signal and queue it; a duplicate (same idempotency key, or same content within the
        duplicate window) is answered with the signal it repeats and never queued."""
        assert signal.idempotency_key is not None
        if self._queue.qsize() >= self._capacity:
            return InboxReceipt(InboxStatus.BUSY, f"{self._capacity} signals are waiting; send it again shortly")
        now = self._clock.now()
        async with self._intake, self._uow() as uow:
            earlier = await uow.signals.find_duplicate(signal.idempotency_key, content_hash, now - self._duplicate_ttl)
            stored = None if earlier else await uow.signals.add_inbound(signal, content_hash, now)
            if stored is not None and not self._is_enabled(signal.strategy):
                await uow.signals.set_status(stored, "disabled")
            await uow.commit()
        if stored is None:  # the key was taken after all (another process): the database said so
            original = earlier.signal.id if earlier else None
            detail = f"signal {original} ({earlier.status})" if earlier else "an earlier signal"
            return InboxReceipt(InboxStatus.DUPLICATE, f"already received as {detail}; not acted on again", original)
        if not self._is_enabled(signal.strategy):
            return InboxReceipt(InboxStatus.IGNORED, f"stored; the {signal.strategy} strategy is disabled", stored.id)
        self._queue.put_nowait((stored, time.monotonic()))
        return InboxReceipt(InboxStatus.ACCEPTED, "stored; processing for every follower", stored.id)

    async def recover(self) -> int:
        """Queue what was stored but not processed before a restart; expire what is older than `max_age`."""
        now = self._clock.now()
        async with self._uow() as uow:
            pending = await uow.signals.pending(SignalSource.WEBHOOK)
            stale = [p for p in pending if p.received_at is None or now - p.received_at > self._max_age]
            for item in stale:
                await uow.signals.set_status(item.signal, "expired")
            await uow.commit()
        for item in stale:
            await self._record_error(
                "webhook", "signal expired before it was processed (process restarted)", _context(item.signal)
            )
        fresh = [p for p in pending if p not in stale]  # a few at most
        for item in fresh:
            self._queue.put_nowait((item.signal, time.monotonic()))
        if pending:
            log.warning("inbox.recovered", queued=len(fresh), expired=len(stale))
        return len(fresh)

    async def run(self, stop: asyncio.Event) -> None:
        """Process queued signals one at a time until `stop`; what is left stays stored for the next start."""
        while not stop.is_set():
            try:
                signal, arrived = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            try:
                await self.process(signal, arrived)
            finally:
                self._queue.task_done()

    async def idle(self) -> None:
        """Wait until every queued signal has been processed (a worker must be running)."""
        await self._queue.join()

    async def process(self, signal: Signal, arrived: float) -> str:
        status = await self._process(signal)
        elapsed = time.monotonic() - arrived
        for observer in self.observers:
            observer(signal, status, elapsed)
        return status

    async def _process(self, signal: Signal) -> str:
        with structlog.contextvars.bound_contextvars(signal_id=signal.id, correlation_id=_correlation(signal)):
            if not self._is_enabled(signal.strategy):
                await self._set_status(signal, "disabled")
                return "disabled"
            try:
                await self._pipeline.handle(signal)
            except Exception as error:
                log.exception("inbox.failed", strategy=signal.strategy, symbol=signal.symbol)
                await self._set_status(signal, "failed")
                await self._record_error("webhook", f"{type(error).__name__}: {error}", _context(signal))
                return "failed"
        return "processed"

    async def _set_status(self, signal: Signal, status: str) -> None:
        async with self._uow() as uow:
            await uow.signals.set_status(signal, status)
            await uow.commit()


def _correlation(signal: Signal) -> object:
    return signal.metadata.get("correlation_id")


def _context(signal: Signal) -> dict[str, object]:
    return {"signal_id": signal.id, "symbol": signal.symbol, "correlation_id": _correlation(signal)}
