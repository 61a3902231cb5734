"""Signals and decisions stored in bulk keep their identities: each returned id is that row's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from engine.domain.enums import DecisionOutcome, Side, SignalAction, SignalSource
from engine.domain.signals import Decision, Refusal, Signal
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.factories import ADA, ETH, T0
from tests.storage.test_repositories import add_user


async def test_decisions_stored_together_get_their_own_ids(uow: SqlUnitOfWorkFactory):
    user, _ = await add_user(uow)
    made = [
        Decision(
            user_id=user.id,
            symbol=ETH if n % 2 else ADA,
            side=Side.BUY,
            outcome=DecisionOutcome.REFUSED,
            ts=T0 + timedelta(seconds=n),
            refusals=(Refusal("code", f"reason {n}"),),
            qty=Decimal(n),
        )
        for n in range(1, 30)
    ]
    async with uow() as work:
        await work.decisions.add_many(made[:3])  # rows before ours
        stored = await work.decisions.add_many(made[3:])
        await work.commit()
    async with uow() as work:
        latest = {d.id: d for d in await work.decisions.latest_for_user(user.id, 100)}
    assert len({d.id for d in stored}) == len(stored)
    assert all(latest[d.id].refusals == d.refusals and latest[d.id].qty == d.qty for d in stored)


async def test_inbound_signals_stored_together_skip_taken_keys_and_are_found_again(uow: SqlUnitOfWorkFactory):
    base = Signal(
        strategy="webhook",  # type: ignore[arg-type]
        symbol=ETH,
        action=SignalAction.ENTER,
        side=Side.BUY,
        price=Decimal("1000"),
        ts=T0,
        source=SignalSource.WEBHOOK,
    )
    first = [(replace(base, idempotency_key=f"webhook:k{n}"), f"{n:064d}") for n in range(3)]
    async with uow() as work:
        stored = await work.signals.add_inbound(first, T0)
        again = await work.signals.add_inbound([first[1], (replace(base, idempotency_key="webhook:k9"), "9" * 64)], T0)
        await work.commit()
    assert sorted(stored) == ["webhook:k0", "webhook:k1", "webhook:k2"] and list(again) == ["webhook:k9"]
    async with uow() as work:
        found = await work.signals.find_duplicates(["webhook:k2"], ["0" * 64], T0 - timedelta(seconds=1))
        late = await work.signals.find_duplicates(["nothing"], ["0" * 64], T0 + timedelta(seconds=1))
    assert sorted(f.signal.idempotency_key for f in found) == ["webhook:k0", "webhook:k2"]
    assert found[0].signal.id == stored["webhook:k0"].id and found[0].status == "received"
    assert late == []  # the content window has passed, and no key matches
