"""Reconciliation against the paper venue: what a crash leaves behind is resolved by client order id."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderStatus
from engine.domain.events import AlertRaised, OrderFailed, Severity
from engine.domain.orders import Order, OrderAccepted, OrderSubmitted
from engine.domain.positions import Position
from engine.order_outcomes import order_from, request_for
from engine.reconciliation import ReconciliationReport
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ETH, entry_order


def entry(user, account, origin: str = "signal:r1:entry", qty: str = "0.1") -> SubmitOrder:  # type: ignore[no-untyped-def]
    return entry_order(user.id, account.id, origin=origin, qty=qty)


async def written_intent(h: Harness, command: SubmitOrder) -> Order:
    """The order manager's first step only: the intent is in the database, then the process died."""
    async with h.uow() as work:
        (order,) = await work.orders.add_many([order_from(command, h.clock.now())])
        await work.commit()
    return order


async def reconcile(h: Harness, after: float = 121) -> ReconciliationReport:
    h.clock.advance(timedelta(seconds=after))
    assert h.engine.reconciler is not None
    return await h.engine.reconciler.run()


async def stored(h: Harness, order: Order) -> Order:
    async with h.uow() as work:
        found = await work.orders.get(order.client_order_id)
    assert found is not None
    return found


async def open_position(h: Harness, user_id: int) -> Position | None:
    async with h.uow() as work:
        positions = await work.positions.open_for_user(user_id)  # type: ignore[arg-type]
    return positions[0] if positions else None


async def test_an_intent_that_was_never_sent_is_rejected_after_the_grace_period_and_never_sent(
    uow: SqlUnitOfWorkFactory,
):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    order = await written_intent(h, entry(user, account))
    # Act: within the grace period nothing is decided
    young = await reconcile(h, after=30)
    # Assert
    assert young.accounts[0].pending == 1 and (await stored(h, order)).status is OrderStatus.NEW
    # Act: past it
    old = await reconcile(h, after=100)
    # Assert
    settled = await stored(h, order)
    assert settled.status is OrderStatus.REJECTED and "never reached the exchange" in settled.reason
    assert old.accounts[0].never_sent == 1 and old.accounts[0].is_clean
    assert await h.paper.fetch_order(account.id, ETH, order.client_order_id) is None
    assert [e.reason for e in h.events if isinstance(e, OrderFailed)] == [settled.reason]


async def test_a_fill_whose_answer_was_lost_is_adopted_with_its_position_cash_and_stop(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    order = await written_intent(h, entry(user, account))
    await h.paper.place_orders([request_for(order)])  # the venue filled it; the process died before recording
    # Act
    report = await reconcile(h)
    # Assert
    adopted = await stored(h, order)
    position = await open_position(h, user.id)
    assert adopted.status is OrderStatus.FILLED
    assert position is not None and position.qty == Decimal("0.1")
    assert position.stop_order_id is not None
    balances = await h.paper.fetch_balances(account.id)
    async with h.uow() as work:
        cash = (await work.accounts.get(account.id)).managed_cash  # type: ignore[union-attr]
    assert cash == balances["USDT"].total == Decimal("899.9")
    assert report.accounts[0].adopted == 1 and report.accounts[0].is_clean
    assert (await reconcile(h)).accounts[0].is_clean  # and again: nothing changes, nothing is sent


async def test_a_stop_that_filled_while_the_process_was_down_closes_the_position(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    await h.orders.submit([entry(user, account)])
    position = await open_position(h, user.id)
    assert position is not None and position.stop_order_id
    # Act: the market falls through the stop while our process is down (the venue has nobody to tell)
    h.paper._listeners.clear()
    await h.paper.on_bars({ETH: h.prices.set(ETH, "960", low="955")})
    restarted = await build_harness(uow)
    report = await reconcile(restarted)
    # Assert
    assert await open_position(restarted, user.id) is None
    async with h.uow() as work:
        (closed,) = await work.positions.closed_for_user(user.id)
    assert closed.qty == 0 and report.accounts[0].adopted == 1 and report.accounts[0].is_clean


async def test_coins_the_books_cannot_explain_put_the_account_in_reduce_only_and_alert_once(
    uow: SqlUnitOfWorkFactory,
):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    await h.orders.submit([entry(user, account)])
    await h.paper.deposit(account.id, "ETH", Decimal("0.5"))  # coins from nowhere: not ours to explain
    # Act
    report = await reconcile(h)
    again = await reconcile(h)
    # Assert
    assert report.differences == {account.id: ["the venue holds 0.6 ETH, our books 0.1 ETH"]}
    async with h.uow() as work:
        halted = await work.accounts.get(account.id)
    assert halted is not None and halted.is_reduce_only and "0.6 ETH" in halted.status_reason
    alerts = [e for e in h.events if isinstance(e, AlertRaised)]
    assert len(alerts) == 1 and alerts[0].severity is Severity.P1
    assert again.differences  # still there, but alerted only once


async def test_a_stop_cancelled_at_the_venue_is_replaced_under_a_new_client_order_id(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    await h.orders.submit([entry(user, account)])
    position = await open_position(h, user.id)
    assert position is not None and position.stop_order_id
    await h.paper.cancel_order(account.id, ETH, position.stop_order_id)  # e.g. the user cancelled it by hand
    # Act
    report = await reconcile(h)
    # Assert
    guarded = await open_position(h, user.id)
    assert guarded is not None and guarded.stop_order_id not in (None, position.stop_order_id)
    resting = await h.paper.fetch_order(account.id, ETH, guarded.stop_order_id)  # type: ignore[arg-type]
    assert resting is not None and resting.status.value == "open"
    assert report.accounts[0].stops_restored == 1 and report.accounts[0].is_clean
    assert (await reconcile(h)).accounts[0].stops_restored == 0


async def test_an_order_open_in_our_books_that_the_venue_does_not_know_is_a_difference(uow: SqlUnitOfWorkFactory):
    h = await build_harness(uow)
    user, account = await h.onboarded_user()
    order = await written_intent(h, entry(user, account, qty="0.1"))
    opened = order.apply(OrderSubmitted(ts=h.clock.now())).apply(OrderAccepted(ts=h.clock.now()))
    async with h.uow() as work:
        await work.orders.save_many([opened])
        await work.commit()
    # Act
    report = await reconcile(h)
    # Assert
    assert report.differences[account.id] == [f"order {order.client_order_id} is open here, unknown at the venue"]
