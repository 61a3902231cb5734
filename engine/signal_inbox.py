"""The inbox for signals from outside (webhooks). Each signal is checked for duplicates and stored before it is
acknowledged, then one worker feeds the stored signals, in arrival order, through the signal pipeline. A signal
stored but not processed when the process stopped is picked up at the next start (or expired if too old).

Under load both halves batch: signals arriving while a write is under way are stored together by the next
write (one transaction, every sender still gets its own answer), and the worker hands the pipeline everything
queued at once, which decides runs of entries together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from engine.clock import Clock
from engine.domain.enums import SignalSource
from engine.domain.ids import SignalId
from engine.domain.signals import Signal
from engine.ports import StoredSignal, UnitOfWork, UnitOfWorkFactory
from engine.trading import SignalPipeline

log = structlog.get_logger(__name__)

ErrorRecorder = Callable[[str, str, dict[str, object]], Awaitable[None]]
Observer = Callable[[Signal, str, float], None]  # signal, final status, seconds from arrival to processed
MAX_BATCH = 100  # signals handed to the pipeline at once


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


@dataclass(slots=True)
class _Arrival:
    signal: Signal
    content_hash: str
    answer: asyncio.Future[InboxReceipt]


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
        self._arrivals: list[_Arrival] = []
        self._writer: asyncio.Task[None] | None = None
        self.observers: list[Observer] = []

    @property
    def waiting(self) -> int:
        return self._queue.qsize() + len(self._arrivals)

    async def receive(self, signal: Signal, content_hash: str) -> InboxReceipt:
        """Store a new signal and queue it; a duplicate (same idempotency key, or same content within the
        duplicate window) is answered with the signal it repeats and never queued."""
        assert signal.idempotency_key is not None
        if self.waiting >= self._capacity:
            return InboxReceipt(InboxStatus.BUSY, f"{self._capacity} signals are waiting; send it again shortly")
        arrival = _Arrival(signal, content_hash, asyncio.get_running_loop().create_future())
        self._arrivals.append(arrival)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_arrivals(), name="inbox-writer")
        return await asyncio.shield(arrival.answer)

    async def _write_arrivals(self) -> None:
        while self._arrivals:
            batch, self._arrivals = self._arrivals, []
            try:
                receipts = await self._store(batch)
            except Exception as error:
                log.exception("inbox.store_failed", signals=len(batch))
                for arrival in batch:
                    arrival.answer.set_exception(error)
                continue
            arrived = time.monotonic()
            for arrival, (receipt, stored) in zip(batch, receipts, strict=True):
                if receipt.status is InboxStatus.ACCEPTED and stored is not None:
                    self._queue.put_nowait((stored, arrived))
                arrival.answer.set_result(receipt)

    async def _store(self, batch: list[_Arrival]) -> list[tuple[InboxReceipt, Signal | None]]:
        """One transaction for everything that arrived together; each arrival gets its own receipt."""
        now = self._clock.now()
        since = now - self._duplicate_ttl
        async with self._uow() as uow:
            keys, hashes = [_key(a) for a in batch], [a.content_hash for a in batch]
            earlier = _Earlier(await uow.signals.find_duplicates(keys, hashes, since), since)
            fresh: list[_Arrival] = []
            repeats: dict[int, _Arrival] = {}  # an arrival repeating another one of the same batch
            for arrival in batch:
                twin = next((f for f in fresh if _same(f, arrival)), None)
                if twin is not None:
                    repeats[id(arrival)] = twin
                elif earlier.of(arrival) is None:
                    fresh.append(arrival)
            stored = await uow.signals.add_inbound([(a.signal, a.content_hash) for a in fresh], now)
            await self._mark_disabled(uow, stored.values())
            await uow.commit()
        receipts: list[tuple[InboxReceipt, Signal | None]] = []
        for arrival in batch:
            original = stored.get(_key(repeats.get(id(arrival), arrival)))
            if original is not None and id(arrival) not in repeats:
                receipts.append((self._stored(original), original))
            else:
                receipts.append((_duplicate(earlier.of(arrival), original), None))
        return receipts

    async def _mark_disabled(self, uow: UnitOfWork, signals: Iterable[Signal]) -> None:
        disabled = [(signal, "disabled") for signal in signals if not self._is_enabled(signal.strategy)]
        if disabled:
            await uow.signals.set_statuses(disabled)

    def _stored(self, signal: Signal) -> InboxReceipt:
        if not self._is_enabled(signal.strategy):
            return InboxReceipt(InboxStatus.IGNORED, f"stored; the {signal.strategy} strategy is disabled", signal.id)
        return InboxReceipt(InboxStatus.ACCEPTED, "stored; processing for every follower", signal.id)

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
        """Process queued signals until `stop`, everything waiting at once; what is left stays stored."""
        while not stop.is_set():
            try:
                first = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self.process(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def idle(self) -> None:
        """Wait until every queued signal has been processed (a worker must be running)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer})
        await self._queue.join()

    async def process(self, batch: Sequence[tuple[Signal, float]]) -> list[str]:
        statuses = await self._process([signal for signal, _ in batch])
        done = time.monotonic()
        for (signal, arrived), status in zip(batch, statuses, strict=True):
            for observer in self.observers:
                observer(signal, status, done - arrived)
        return statuses

    async def _process(self, signals: list[Signal]) -> list[str]:
        enabled = [s for s in signals if self._is_enabled(s.strategy)]
        if len(enabled) < len(signals):
            async with self._uow() as uow:
                await self._mark_disabled(uow, signals)
                await uow.commit()
        outcome = "processed"
        with structlog.contextvars.bound_contextvars(correlation_ids=[_correlation(s) for s in enabled]):
            try:
                await self._pipeline.handle_many(enabled)
            except Exception as error:
                log.exception("inbox.failed", signals=len(enabled))
                outcome = "failed"
                for signal in enabled:
                    await self._failed(signal, error)
        return [outcome if self._is_enabled(s.strategy) else "disabled" for s in signals]

    async def _failed(self, signal: Signal, error: Exception) -> None:
        try:
            async with self._uow() as uow:
                await uow.signals.set_status(signal, "failed")
                await uow.commit()
        finally:
            await self._record_error("webhook", f"{type(error).__name__}: {error}", _context(signal))


class _Earlier:
    """Signals already stored that an arrival may repeat: by idempotency key (ever) or content (recently)."""

    def __init__(self, stored: list[StoredSignal], since: datetime) -> None:
        self._by_key = {s.signal.idempotency_key: s for s in stored}
        self._by_content = {s.content_hash: s for s in stored if s.received_at is not None and s.received_at >= since}

    def of(self, arrival: _Arrival) -> StoredSignal | None:
        return self._by_key.get(_key(arrival)) or self._by_content.get(arrival.content_hash)


def _key(arrival: _Arrival) -> str:
    return arrival.signal.idempotency_key or ""


def _same(one: _Arrival, other: _Arrival) -> bool:
    return _key(one) == _key(other) or one.content_hash == other.content_hash


def _duplicate(earlier: StoredSignal | None, twin: Signal | None) -> InboxReceipt:
    if earlier is not None:
        detail = f"signal {earlier.signal.id} ({earlier.status})"
        return InboxReceipt(
            InboxStatus.DUPLICATE, f"already received as {detail}; not acted on again", earlier.signal.id
        )
    original = twin.id if twin is not None else None
    detail = f"signal {original}" if original is not None else "an earlier signal"
    return InboxReceipt(InboxStatus.DUPLICATE, f"already received as {detail}; not acted on again", original)


def _correlation(signal: Signal) -> object:
    return signal.metadata.get("correlation_id")


def _context(signal: Signal) -> dict[str, object]:
    return {"signal_id": signal.id, "symbol": signal.symbol, "correlation_id": _correlation(signal)}
