"""Admins list and switch strategies from Telegram; everyone else is refused and changes nothing."""

from __future__ import annotations

from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode, RiskProfileName
from engine.domain.ids import StrategyId
from storage.config import DatabaseConfig
from tests.bot.product import ADMIN, press, product_settings, running_product, say

MALLORY = ChatUser(id=6161, first_name="Mallory")
NAMES = ["ema_cross", "rsi_reversion", "donchian_breakout", "llm_agent", "webhook"]


async def enabled_in_table(runtime) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    async with runtime.services.engine.uow() as uow:
        return {r.id: r.enabled for r in await uow.strategies.list()}


async def test_admin_lists_strategies_and_switches_one_off_and_on_again(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        engine = runtime.services.engine
        user = await engine.users.arrive(7001, 7001, "Moe")
        await engine.users.onboard(user, RiskProfileName.MODERATE, engine.system.phase.min_capital, AccountMode.PAPER)

        listing = await say(standin, ADMIN, "/strategies")
        text = listing.displayed_text
        assert all(f"🟢 on · {name}" in text for name in NAMES)
        assert "rsi_reversion (rule) · 1 follower(s)" in text and "RSI(14) mean reversion" in text

        off = await say(standin, ADMIN, "/strategy rsi_reversion off")
        assert "rsi_reversion is off" in off.displayed_text
        assert (await enabled_in_table(runtime))["rsi_reversion"] is False
        assert not engine.strategies.is_enabled(StrategyId("rsi_reversion"))

        listing = await say(standin, ADMIN, "/strategies")
        assert "⚪ off · rsi_reversion" in listing.displayed_text
        switched = await press(standin, ADMIN, listing, "Turn on rsi_reversion")
        assert switched.message_id == listing.message_id and "rsi_reversion is on" in switched.displayed_text
        assert "🟢 on · rsi_reversion" in switched.displayed_text
        assert (await enabled_in_table(runtime))["rsi_reversion"] is True
        assert engine.strategies.is_enabled(StrategyId("rsi_reversion"))

        assert "Usage: /strategy NAME on|off" in (await say(standin, ADMIN, "/strategy ema_cross maybe")).displayed_text
        assert "Usage" in (await say(standin, ADMIN, "/strategy")).displayed_text
        unknown = await say(standin, ADMIN, "/strategy moon_shot on")
        assert (
            "There is no strategy moon_shot" in unknown.displayed_text and "donchian_breakout" in unknown.displayed_text
        )


async def test_non_admins_are_refused_and_nothing_changes(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        before = await enabled_in_table(runtime)
        assert "operators only" in (await say(standin, MALLORY, "/strategies")).displayed_text
        assert "operators only" in (await say(standin, MALLORY, "/strategy webhook off")).displayed_text
        listing = await say(standin, ADMIN, "/strategies")
        standin.press_button(MALLORY, listing, listing.callback_data[0])  # a forwarded admin message
        await standin.wait_idle(quiet=0.3, timeout=10)
        alerts = [c for c in standin.calls_to("answerCallbackQuery") if c.params.get("text")]
        assert alerts and "operators only" in alerts[-1].params["text"]
        assert await enabled_in_table(runtime) == before and all(before.values())


async def test_a_disabled_strategy_stays_disabled_after_a_restart(database: DatabaseConfig):
    async with running_product(product_settings(database), TelegramStandIn()) as runtime:
        await runtime.services.engine.strategy_control.set_enabled("donchian_breakout", False, actor="test")
        await runtime.services.engine.strategy_control.set_enabled("webhook", False, actor="test")
    async with running_product(product_settings(database), TelegramStandIn()) as runtime:
        control = runtime.services.engine.strategy_control
        assert not control.is_enabled("donchian_breakout") and not control.is_enabled("webhook")
        assert control.is_enabled("ema_cross")
        assert not runtime.services.engine.strategies.is_enabled(StrategyId("donchian_breakout"))
