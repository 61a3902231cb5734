"""Every log line about an order carries its client order id, its user and its symbol: followed through a paper
fill, a refusal, a real exchange losing its answer, reconciliation, and a close."""

from __future__ import annotations

from typing import Any

import structlog

from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose, OrderStatus
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.live_harness import live_engine
from tests.factories import ETH, entry_order

ABOUT_ORDERS = ("order.", "exchange.place", "position.sell")


def order_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"].startswith(ABOUT_ORDERS)]


async def test_order_log_lines_name_the_order_its_user_and_its_symbol(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        h = live.h
        paper_user, paper_account = await h.onboarded_user(702)
        with structlog.testing.capture_logs() as logs:
            (filled,) = await h.orders.submit([entry_order(paper_user.id, paper_account.id, origin="signal:p1:entry")])
            (refused,) = await h.orders.submit(
                [entry_order(paper_user.id, paper_account.id, qty="50", origin="signal:p2:entry")]
            )
            live.standin.faults.drop_response(mode="reset")
            (lost,) = await h.orders.submit([live.entry()])
            await live.reconcile()
            await h.orders.close_positions(
                [
                    ClosePosition(
                        user_id=paper_user.id,
                        account_id=paper_account.id,
                        symbol=ETH,
                        purpose=OrderPurpose.EXIT_SIGNAL,
                        reason="test exit",
                    )
                ]
            )
    assert filled.status is OrderStatus.FILLED and refused.status is OrderStatus.REJECTED
    assert lost.status is OrderStatus.UNKNOWN
    lines = order_lines(logs)
    events = {line["event"] for line in lines}
    assert {"order.intent_written", "order.transition", "order.outcome_unknown"} <= events
    assert {line["status"] for line in lines if line["event"] == "order.transition"} >= {
        "filled",
        "rejected",
        "unknown",
        "cancelled",
    }
    for line in lines:
        assert line.get("client_order_id") and line.get("symbol") == ETH, line
        assert line.get("user") in (paper_user.id, live.user.id), line
    unknown = next(line for line in lines if line["event"] == "order.outcome_unknown")
    assert unknown["client_order_id"] == lost.client_order_id and unknown["user"] == live.user.id
