"""Strategies are registered once, followed according to each user's profile, and switched by admins."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.domain.enums import RiskProfileName
from engine.domain.ids import StrategyId
from engine.strategies.base import StrategyRunner
from engine.strategies.catalog import builtin_rules
from engine.strategy_control import StrategyControl, UnknownStrategy
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import build_harness


async def test_users_follow_the_strategies_of_their_profile_including_ones_added_later(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)  # runs no rule strategy yet: only the LLM agent and webhooks exist
    moderate, _ = await harness.onboarded_user(601, profile=RiskProfileName.MODERATE)
    careful, _ = await harness.onboarded_user(602, profile=RiskProfileName.CONSERVATIVE)
    async with uow() as work:
        assert sorted(await work.users.subscriptions(moderate.id)) == ["llm_agent", "webhook"]
        assert await work.users.subscriptions(careful.id) == []

    runner = StrategyRunner(builtin_rules("5m"), harness.clock)  # a new release adds the rule strategies
    control = StrategyControl(uow, harness.clock, runner, lambda: harness.engine.system.profiles)
    await control.load()
    await control.load()  # loading twice adds nothing twice

    async with uow() as work:
        assert sorted(await work.users.subscriptions(moderate.id)) == sorted(
            ["donchian_breakout", "ema_cross", "llm_agent", "rsi_reversion", "webhook"]
        )
        assert await work.users.subscriptions(careful.id) == ["ema_cross"]
    counts = {s.id: s.followers for s in await control.list()}
    assert counts == {"ema_cross": 2, "rsi_reversion": 1, "donchian_breakout": 1, "llm_agent": 1, "webhook": 1}


async def test_switching_is_persisted_audited_and_applied_to_the_runner(uow: SqlUnitOfWorkFactory):
    harness = await build_harness(uow)
    runner = StrategyRunner(builtin_rules("5m"), harness.clock)
    control = StrategyControl(uow, harness.clock, runner, lambda: harness.engine.system.profiles)
    await control.load()

    status = await control.set_enabled("ema_cross", False, actor="telegram:9001")
    assert status.enabled is False and not runner.is_enabled(StrategyId("ema_cross"))
    await control.set_enabled("llm_agent", False, actor="telegram:9001")
    with pytest.raises(UnknownStrategy, match="known: ema_cross"):
        await control.set_enabled("martingale", True, actor="telegram:9001")

    again = StrategyControl(uow, harness.clock, StrategyRunner(builtin_rules("5m"), harness.clock), dict)
    await again.load()
    assert not again.is_enabled("ema_cross") and not again.is_enabled("llm_agent") and again.is_enabled("webhook")
    async with uow() as work:
        query = text("SELECT actor, action, target FROM audit_log WHERE action LIKE 'strategy.%'")
        rows = await work.session.execute(query)
        assert sorted(tuple(r) for r in rows) == [
            ("telegram:9001", "strategy.disabled", "ema_cross"),
            ("telegram:9001", "strategy.disabled", "llm_agent"),
        ]
