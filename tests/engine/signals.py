"""Entry signals for engine tests, and a look at the decisions they produced."""

from __future__ import annotations

from engine.domain.accounts import User
from engine.domain.enums import Side, SignalAction, SignalSource
from engine.domain.ids import StrategyId, Symbol
from engine.domain.signals import Decision, Signal
from engine.strategy_control import WEBHOOK
from tests.engine.harness import Harness
from tests.factories import ETH


async def follow(harness: Harness, user: User, strategy: StrategyId = WEBHOOK) -> None:
    async with harness.uow() as work:
        await work.users.subscribe(user.id, [strategy], harness.clock.now())
        await work.commit()


def entry_signal(harness: Harness, key: str, symbol: Symbol = ETH, strategy: StrategyId = WEBHOOK) -> Signal:
    return Signal(
        strategy=strategy,
        symbol=symbol,
        action=SignalAction.ENTER,
        side=Side.BUY,
        price=harness.prices.prices[symbol],
        ts=harness.clock.now(),
        source=SignalSource.WEBHOOK,
        idempotency_key=key,
    )


async def latest_decision(harness: Harness, user: User) -> Decision:
    async with harness.uow() as work:
        (decision,) = await work.decisions.latest_for_user(user.id, 1)
    return decision


def codes(decision: Decision) -> list[str]:
    return [r.code for r in decision.refusals]
