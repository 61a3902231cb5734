"""A known day of trading for the report tests: made through the real order manager and paper venue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from engine.domain.accounts import Account, User
from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose
from engine.ports import AlertRecord, LlmUsageRecord
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ETH, entry_order

D = Decimal


@dataclass
class Trader:
    user: User
    account: Account


async def buy(h: Harness, who: Trader, at: str, qty: str, strategy: str, origin: str) -> None:
    h.prices.set(ETH, at)
    stop = D(at) * D("0.9")
    (order,) = await h.orders.submit(
        [entry_order(who.user.id, who.account.id, qty=qty, origin=origin, strategy=strategy, protective_stop=stop)]
    )
    assert order.status.value == "filled"
    h.clock.advance(timedelta(minutes=10))


async def sell(h: Harness, who: Trader, at: str) -> None:
    h.prices.set(ETH, at)
    await h.orders.close_positions(
        [
            ClosePosition(
                user_id=who.user.id,
                account_id=who.account.id,
                symbol=ETH,
                purpose=OrderPurpose.EXIT_SIGNAL,
                reason="exit",
            )
        ]
    )
    h.clock.advance(timedelta(minutes=10))


async def known_day(uow: SqlUnitOfWorkFactory) -> Harness:
    """Two users on 2018-01-10 from 12:00 (fees 0.1% of each fill, no slippage):

    Ann (ema_cross): 0.1 ETH 1000 → 1100 (+10 − 0.21 fees = +9.79), then 0.1 ETH 1100 → 1050 (−5 − 0.215 =
    −5.215), then 0.1 ETH bought at 1050, still open with ETH at 1060.
    Ben (rsi_reversion): 0.2 ETH 1000 → 1020 (+4 − 0.404 = +3.596); then an order too large for his cash is
    rejected.
    """
    h = await build_harness(uow)
    ann = Trader(*await h.onboarded_user(601))
    ben = Trader(*await h.onboarded_user(602))
    await h.engine.monitor.mark_equity()  # the day starts at 1000 each
    await buy(h, ann, "1000", "0.1", "ema_cross", "signal:a1:entry")
    await sell(h, ann, "1100")
    await buy(h, ann, "1100", "0.1", "ema_cross", "signal:a2:entry")
    await sell(h, ann, "1050")
    await buy(h, ben, "1000", "0.2", "rsi_reversion", "signal:b1:entry")
    await sell(h, ben, "1020")
    await h.engine.monitor.mark_equity()
    h.clock.advance(timedelta(hours=1))
    await buy(h, ann, "1050", "0.1", "ema_cross", "signal:a3:entry")
    (refused,) = await h.orders.submit(
        [entry_order(ben.user.id, ben.account.id, qty="5", origin="signal:b2:entry", strategy="rsi_reversion")]
    )
    assert refused.status.value == "rejected"
    h.prices.set(ETH, "1060")
    h.clock.advance(timedelta(hours=1))
    await h.engine.monitor.mark_equity()
    await h.engine.record_error("reconciliation", "binance timed out")
    await h.engine.record_error("reconciliation", "binance timed out")
    await h.engine.record_error("telegram", "flood control")
    now = h.clock.now()
    async with uow() as work:
        await work.alerts.save(
            AlertRecord(
                key="job:reconciliation",
                severity="P1",
                title="Job reconciliation keeps failing",
                detail="",
                first_seen=now,
                last_seen=now,
                occurrences=4,
            )
        )
        await work.llm_usage.add(
            LlmUsageRecord(
                ts=now,
                model="m",
                symbol="ETH/USDT",
                cost_usd=D("1.25"),
                outcome="ok",
                input_tokens=900,
                output_tokens=100,
            )
        )
        await work.commit()
    return h
