"""Admin controls over everyone: pause-all and the rollout phase, persisted across restarts, with the reasons
stored on every refused entry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.enums import AccountMode, RiskProfileName, TradingState
from engine.domain.events import PhaseChanged, TradingStateChanged
from risk.phases import PhaseName
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import build_harness
from tests.engine.signals import codes, entry_signal, follow, latest_decision


async def test_pause_all_stops_entries_for_everyone_and_survives_a_restart(uow: SqlUnitOfWorkFactory) -> None:
    # Arrange
    harness = await build_harness(uow)
    user, _ = await harness.onboarded_user(601)
    await follow(harness, user)
    # Act
    assert await harness.engine.system.pause_all(actor="admin:1") is True
    assert await harness.engine.system.pause_all(actor="admin:1") is False  # already paused: nothing changes
    restarted = await build_harness(uow)
    await restarted.engine.pipeline.handle(entry_signal(restarted, "after-restart"))
    # Assert
    assert restarted.engine.system.state is TradingState.REDUCING
    decision = await latest_decision(restarted, user)
    assert codes(decision) == ["system_paused"]
    (change,) = [e for e in harness.events if isinstance(e, TradingStateChanged)]
    assert change.user_id is None and change.state is TradingState.REDUCING


async def test_resume_all_lets_entries_through_again(uow: SqlUnitOfWorkFactory) -> None:
    harness = await build_harness(uow)
    user, _ = await harness.onboarded_user(602)
    await follow(harness, user)
    await harness.engine.system.pause_all(actor="admin:1")

    assert await harness.engine.system.resume_all(actor="admin:1") is True
    await harness.engine.pipeline.handle(entry_signal(harness, "resumed"))

    assert (await latest_decision(harness, user)).is_accepted
    assert await harness.engine.system.resume_all(actor="admin:1") is False


async def test_moving_the_phase_names_the_users_it_no_longer_fits(uow: SqlUnitOfWorkFactory) -> None:
    # Arrange: the harness starts in the open phase
    harness = await build_harness(uow)
    fits, _ = await harness.onboarded_user(603, capital="300", profile=RiskProfileName.CONSERVATIVE)
    too_big, _ = await harness.onboarded_user(604, capital="1000", profile=RiskProfileName.MODERATE)
    await follow(harness, too_big)
    # Act
    change = await harness.engine.system.set_phase(PhaseName.INTERNAL, actor="admin:1")
    await harness.engine.pipeline.handle(entry_signal(harness, "internal"))
    # Assert
    assert change.changed and change.previous.name is PhaseName.OPEN
    assert [(user_id, [r.code for r in refusals]) for user_id, refusals in change.conflicts] == [
        (too_big.id, ["profile_not_allowed", "capital_bounds"])
    ]
    assert fits.id not in dict(change.conflicts)
    (event,) = [e for e in harness.events if isinstance(e, PhaseChanged)]
    assert event.phase == "internal" and event.previous == "open" and event.conflicts == change.conflicts
    decision = await latest_decision(harness, too_big)
    assert codes(decision) == ["capital_bounds", "profile_not_allowed"]
    assert (await build_harness(uow)).engine.system.phase.name is PhaseName.INTERNAL  # persisted


async def test_a_full_phase_refuses_one_more_person(uow: SqlUnitOfWorkFactory) -> None:
    harness = await build_harness(uow)
    await harness.engine.system.set_phase(PhaseName.INTERNAL, actor="admin:1")
    for telegram_id in range(610, 615):  # the internal phase takes five people
        await harness.onboarded_user(telegram_id, capital="200", profile=RiskProfileName.CONSERVATIVE)
    users = harness.engine.users
    late = await users.arrive(620, 620, "late")

    with pytest.raises(ValueError, match="The internal phase is full"):
        await users.onboard(late, RiskProfileName.CONSERVATIVE, Decimal(200), AccountMode.PAPER)

    assert (await users.get(620)) is not None and not (await users.get(620)).is_onboarded  # type: ignore[union-attr]
