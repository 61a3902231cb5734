"""Signals handled as one batch give exactly the decisions and positions they give one by one."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from engine.domain.enums import RiskProfileName, Side, SignalAction, SignalSource
from engine.domain.ids import StrategyId, Symbol
from engine.domain.signals import Signal
from engine.strategy_control import LLM_AGENT, WEBHOOK
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import ADA, ETH

SCRIPT = [(ETH, "buy"), (ETH, "buy"), (ADA, "buy"), (ETH, "exit"), (ETH, "exit"), (ETH, "buy"), (ADA, "buy")]


def signals(harness: Harness, strategy: StrategyId) -> list[Signal]:
    made = []
    for number, (symbol, direction) in enumerate(SCRIPT):
        entry = direction == "buy"
        made.append(
            Signal(
                strategy=strategy,
                symbol=Symbol(symbol),
                action=SignalAction.ENTER if entry else SignalAction.EXIT,
                side=Side.BUY if entry else Side.SELL,
                price=harness.prices.prices[symbol],
                ts=harness.clock.now(),
                source=SignalSource.WEBHOOK,
                idempotency_key=f"{strategy}:{number}",
            )
        )
    return made


async def test_a_batch_decides_exactly_as_one_signal_at_a_time(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    # two identical followers: one follows the webhook, the other the LLM agent
    one_by_one, _ = await harness.onboarded_user(951, capital="300", profile=RiskProfileName.MODERATE)
    batched, _ = await harness.onboarded_user(952, capital="300", profile=RiskProfileName.MODERATE)
    async with uow() as work:
        await work.users.subscribe(one_by_one.id, [WEBHOOK], harness.clock.now())
        await work.users.subscribe(batched.id, [LLM_AGENT], harness.clock.now())
        await work.commit()
    pipeline = harness.engine.pipeline

    for signal in signals(harness, WEBHOOK):
        await pipeline.handle(signal)
    await pipeline.handle_many(signals(harness, LLM_AGENT))

    async with uow() as work:
        seen = {
            user.id: [
                (d.symbol, d.outcome.value, d.qty, tuple(r.code for r in d.refusals))
                for d in reversed(await work.decisions.latest_for_user(user.id, 20))
            ]
            for user in (one_by_one, batched)
        }
        held = {
            user.id: sorted((p.symbol, p.qty) for p in await work.positions.open_for_user(user.id))
            for user in (one_by_one, batched)
        }
        statuses = await work.session.execute(text("SELECT strategy, status FROM signals ORDER BY id"))
        by_strategy: dict[str, list[str]] = {}
        for strategy, status in statuses:
            by_strategy.setdefault(strategy, []).append(status)
    assert seen[one_by_one.id] == seen[batched.id]
    outcomes = [(symbol, outcome, codes[:1]) for symbol, outcome, _, codes in seen[batched.id]]
    assert outcomes[:3] == [(ETH, "accepted", ()), (ETH, "refused", ("already_in_position",)), (ADA, "accepted", ())]
    assert held[one_by_one.id] == held[batched.id] and [s for s, _ in held[batched.id]] == [ADA, ETH]
    expected = ["accepted", "refused", "accepted", "accepted", "no_position", "accepted", "refused"]
    assert by_strategy[WEBHOOK] == by_strategy[LLM_AGENT] == expected
    assert Decimal(0) < held[batched.id][0][1]
