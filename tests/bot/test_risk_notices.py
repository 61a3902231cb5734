"""Breakers, pause-all and phase moves reach users and admins through the notifier's outbox."""

from __future__ import annotations

from bot.notifier import Notifier
from engine.domain.enums import RiskProfileName
from engine.ports import OutboxMessage
from risk.phases import PhaseName
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness

ADMIN_CHAT = -1001


async def _outbox(harness: Harness, notifier: Notifier) -> list[OutboxMessage]:
    await notifier.flush()
    async with harness.uow() as work:
        return await work.notifications.pending(limit=100)


async def _notified(uow: SqlUnitOfWorkFactory) -> tuple[Harness, Notifier]:
    harness = await build_harness(uow)
    notifier = Notifier(uow, harness.clock, ADMIN_CHAT)
    notifier.subscribe(harness.bus)
    return harness, notifier


async def test_a_phase_move_tells_the_users_it_no_longer_fits_and_the_admins(uow: SqlUnitOfWorkFactory) -> None:
    harness, notifier = await _notified(uow)
    await harness.onboarded_user(701, capital="300", profile=RiskProfileName.CONSERVATIVE)
    await harness.onboarded_user(702, capital="1000", profile=RiskProfileName.MODERATE)

    await harness.engine.system.set_phase(PhaseName.INTERNAL, actor="admin:9")

    messages = {(m.chat_id, m.kind): m.text for m in await _outbox(harness, notifier)}
    assert set(messages) == {(ADMIN_CHAT, "phase"), (702, "phase")}
    assert "open → internal" in messages[(ADMIN_CHAT, "phase")] and "1 user(s)" in messages[(ADMIN_CHAT, "phase")]
    assert "capital must be between $100 and $500" in messages[(702, "phase")]
    assert "moderate profile is not open" in messages[(702, "phase")]


async def test_pause_all_is_announced_to_the_admins(uow: SqlUnitOfWorkFactory) -> None:
    harness, notifier = await _notified(uow)

    await harness.engine.system.pause_all(actor="admin:9", reason="exchange maintenance")

    (message,) = await _outbox(harness, notifier)
    assert message.chat_id == ADMIN_CHAT
    assert "System trading is now reducing (exits only)" in message.text and "exchange maintenance" in message.text
