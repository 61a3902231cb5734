"""The inbox for outside signals: stored on arrival, never acted on twice, processed in order, recovered
after a restart, and a failure is kept with the signal instead of being lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from engine.clock import SimClock
from engine.domain.enums import Side, SignalAction, SignalSource
from engine.domain.signals import Signal
from engine.signal_inbox import InboxStatus, SignalInbox
from engine.strategy_control import WEBHOOK
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ETH, T0


def webhook_signal(harness: Harness, key: str = "webhook:tv:1", **changes: object) -> Signal:
    signal = Signal(
        strategy=WEBHOOK,
        symbol=ETH,
        action=SignalAction.ENTER,
        side=Side.BUY,
        price=Decimal("1000"),
        ts=harness.clock.now(),
        source=SignalSource.WEBHOOK,
        rationale="tv_macd (5m) via tv: buy ETH/USDT",
        idempotency_key=key,
        metadata={"correlation_id": "c0ffee"},
    )
    return replace(signal, **changes)  # type: ignore[arg-type]


def make_inbox(harness: Harness, wall: SimClock, capacity: int = 1000) -> SignalInbox:
    return SignalInbox(
        harness.uow,
        harness.engine.pipeline,
        wall,
        is_enabled=harness.engine.strategy_control.is_enabled,
        duplicate_ttl=timedelta(seconds=60),
        max_age=timedelta(seconds=300),
        record_error=harness.engine.record_error,
        capacity=capacity,
    )


async def rows(uow: SqlUnitOfWorkFactory, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    async with uow() as work:
        return [tuple(r) for r in (await work.session.execute(text(sql))).all()]


async def drain(inbox: SignalInbox) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(inbox.run(stop))
    await inbox.idle()
    stop.set()
    await worker


async def test_a_signal_is_stored_on_arrival_then_acted_on_once_for_every_follower(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    user, _ = await harness.onboarded_user(701)
    wall = SimClock(T0 + timedelta(days=3000))
    inbox = make_inbox(harness, wall)
    seen: list[tuple[str, float]] = []
    inbox.observers.append(lambda signal, status, seconds: seen.append((status, seconds)))

    receipt = await inbox.receive(webhook_signal(harness), content_hash="a" * 64)
    assert receipt.status is InboxStatus.ACCEPTED and receipt.signal_id is not None
    assert await rows(uow, "SELECT status, content_hash FROM signals") == [("received", "a" * 64)]

    again = await inbox.receive(webhook_signal(harness), content_hash="b" * 64)  # same key, other content
    wall.advance(timedelta(seconds=59))
    same_content = await inbox.receive(webhook_signal(harness, key="webhook:tv:2"), content_hash="a" * 64)
    assert again.status is same_content.status is InboxStatus.DUPLICATE
    assert again.signal_id == same_content.signal_id == receipt.signal_id
    assert "already received as signal" in again.message

    await drain(inbox)
    assert await rows(uow, "SELECT status FROM signals") == [("accepted",)]
    assert await rows(uow, "SELECT user_id, outcome FROM decisions") == [(user.id, "accepted")]
    assert [status for status, _ in seen] == ["processed"] and seen[0][1] >= 0

    wall.advance(timedelta(seconds=2))  # past the duplicate window: the same content is a new signal
    later = await inbox.receive(webhook_signal(harness, key="webhook:tv:3"), content_hash="a" * 64)
    assert later.status is InboxStatus.ACCEPTED and later.signal_id != receipt.signal_id


async def test_a_disabled_webhook_strategy_stores_the_signal_but_never_acts(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    await harness.onboarded_user(702)
    inbox = make_inbox(harness, SimClock(T0))
    await harness.engine.strategy_control.set_enabled("webhook", False, actor="test")
    receipt = await inbox.receive(webhook_signal(harness), content_hash="c" * 64)
    assert receipt.status is InboxStatus.IGNORED and "disabled" in receipt.message
    await drain(inbox)
    assert await rows(uow, "SELECT status FROM signals") == [("disabled",)]
    assert await rows(uow, "SELECT count(*) FROM decisions") == [(0,)]


async def test_a_full_inbox_stores_nothing_and_asks_to_send_again(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    inbox = make_inbox(harness, SimClock(T0), capacity=1)
    assert (await inbox.receive(webhook_signal(harness), "d" * 64)).status is InboxStatus.ACCEPTED
    busy = await inbox.receive(webhook_signal(harness, key="webhook:tv:9"), "e" * 64)
    assert busy.status is InboxStatus.BUSY and busy.signal_id is None
    assert await rows(uow, "SELECT count(*) FROM signals") == [(1,)]


async def test_after_a_restart_fresh_signals_are_processed_and_stale_ones_expire(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    await harness.onboarded_user(703)
    wall = SimClock(T0)
    first = make_inbox(harness, wall)  # receives, then the process stops before its worker runs
    await first.receive(webhook_signal(harness, key="webhook:tv:old"), "f" * 64)
    wall.advance(timedelta(seconds=400))
    await first.receive(webhook_signal(harness, key="webhook:tv:new", symbol=ETH), "0" * 64)
    wall.advance(timedelta(seconds=10))

    restarted = make_inbox(harness, wall)
    assert await restarted.recover() == 1
    await drain(restarted)
    statuses = await rows(uow, "SELECT idempotency_key, status FROM signals ORDER BY id")
    assert statuses == [("webhook:tv:old", "expired"), ("webhook:tv:new", "accepted")]
    errors = await rows(uow, "SELECT source, message FROM processing_errors")
    assert errors == [("webhook", "signal expired before it was processed (process restarted)")]
    assert await restarted.recover() == 0  # nothing left over


async def test_a_failure_while_processing_is_kept_with_the_signal_and_recorded(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    await harness.onboarded_user(704)
    inbox = make_inbox(harness, SimClock(T0))
    await inbox.receive(webhook_signal(harness), "1" * 64)
    async with uow() as work:  # the decisions table disappears under the engine
        await work.session.execute(text("ALTER TABLE decisions RENAME TO decisions_gone"))
        await work.commit()
    try:
        await drain(inbox)
    finally:
        async with uow() as work:
            await work.session.execute(text("ALTER TABLE decisions_gone RENAME TO decisions"))
            await work.commit()
    assert await rows(uow, "SELECT status FROM signals") == [("failed",)]
    ((source, message, context),) = await rows(uow, "SELECT source, message, context FROM processing_errors")
    assert source == "webhook" and "decisions" in message and "c0ffee" in str(context)


async def test_signals_arriving_together_are_stored_together_and_twins_are_duplicates(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    inbox = make_inbox(harness, SimClock(T0))
    arrivals = [
        inbox.receive(webhook_signal(harness, key="webhook:tv:a"), "a" * 64),
        inbox.receive(webhook_signal(harness, key="webhook:tv:a"), "b" * 64),  # same key
        inbox.receive(webhook_signal(harness, key="webhook:tv:c"), "a" * 64),  # same content
        inbox.receive(webhook_signal(harness, key="webhook:tv:d"), "d" * 64),
    ]
    receipts = await asyncio.gather(*arrivals)
    assert [r.status for r in receipts] == [
        InboxStatus.ACCEPTED,
        InboxStatus.DUPLICATE,
        InboxStatus.DUPLICATE,
        InboxStatus.ACCEPTED,
    ]
    assert receipts[1].signal_id == receipts[2].signal_id == receipts[0].signal_id != receipts[3].signal_id
    assert await rows(uow, "SELECT idempotency_key FROM signals ORDER BY id") == [("webhook:tv:a",), ("webhook:tv:d",)]
    assert inbox.waiting == 2
