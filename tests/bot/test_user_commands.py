"""Every user command through the real python-telegram-bot Application and the Bot API stand-in: the happy
path, wrong arguments, and a person without an account (or in a group chat)."""

from __future__ import annotations

from decimal import Decimal

from bot.help_text import ADMIN_COMMANDS, USER_COMMANDS
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import RiskProfileName
from storage.config import DatabaseConfig
from tests.bot.product import buy, current, now_reads, onboard, press, product_settings, running_product, say

ANN = ChatUser(id=5151, first_name="Ann", username="ann")
STRANGER = ChatUser(id=777, first_name="Bo")
GROUP = -100555


async def test_reading_the_account_positions_history_pnl_chart_and_help(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        engine = runtime.services.engine
        user = await onboard(runtime, ANN)
        await buy(runtime, user, "ETH/USDT", Decimal(200))
        await buy(runtime, user, "LTC/USDT", Decimal(100))

        positions = (await say(standin, ANN, "/positions")).displayed_text
        assert "Open positions (2)" in positions
        assert positions.index("ETH/USDT") < positions.index("LTC/USDT")  # largest first
        assert "stop" in positions and "(at the exchange)" in positions and "by ema_cross" in positions

        history = (await say(standin, ANN, "/history")).displayed_text
        assert history.count("Bought") == 2 and "entry · ema_cross" in history
        one = (await say(standin, ANN, "/history 1")).displayed_text
        assert one.count("Bought") == 1 and one.startswith("Last 1 trade(s)")
        for wrong in ("/history abc", "/history 0", "/history 101", "/history 1 2"):
            assert "Usage: /history [n]" in (await say(standin, ANN, wrong)).displayed_text, wrong

        pnl = (await say(standin, ANN, "/pnl")).displayed_text
        assert "today (since 00:00 UTC)" in pnl and "No trade closed" in pnl and "not yet realized" in pnl
        assert "the last 7 days" in (await say(standin, ANN, "/pnl week")).displayed_text
        assert "the last 30 days" in (await say(standin, ANN, "/pnl MONTH")).displayed_text
        assert "Usage: /pnl [day|week|month]" in (await say(standin, ANN, "/pnl year")).displayed_text

        await engine.monitor.mark_equity()
        standin.send_text(ANN, "/portfolio chart")
        (chart,) = await standin.wait_for_messages(ANN.id, predicate=lambda m: m.photo is not None, timeout=30)
        assert chart.photo is not None and chart.photo.startswith(b"\x89PNG") and "Equity $" in chart.displayed_text
        assert "Usage: /portfolio" in (await say(standin, ANN, "/portfolio pie")).displayed_text

        helped = (await say(standin, ANN, "/help")).displayed_text
        assert all(c.usage in helped for c in USER_COMMANDS)
        assert not any(c.usage in helped for c in ADMIN_COMMANDS)  # operators' commands stay out of sight
        assert "withdrawals disabled" in (await say(standin, ANN, "/help connect")).displayed_text
        assert "no guide called weather" in (await say(standin, ANN, "/help weather")).displayed_text
        assert "I work with commands" in (await say(standin, ANN, "hello?")).displayed_text


async def test_closing_one_position_then_everything_needs_a_confirmation(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        closer = runtime.services.engine.closer
        assert closer is not None
        user = await onboard(runtime, ANN)
        await buy(runtime, user, "ETH/USDT")
        await buy(runtime, user, "LTC/USDT")
        await buy(runtime, user, "ADA/USDT")

        assert "Usage: /close SYMBOL" in (await say(standin, ANN, "/close")).displayed_text
        assert "You hold no XMR/USDT" in (await say(standin, ANN, "/close xmr")).displayed_text
        ask = await say(standin, ANN, "/close eth")
        assert "Sell your whole ETH/USDT position" in ask.displayed_text
        kept = await press(standin, ANN, ask, "No")
        assert "Nothing was sold" in kept.displayed_text and len(await closer.open_positions(user)) == 3

        ask = await say(standin, ANN, "/close ETHUSDT")
        await press(standin, ANN, ask, "Yes")
        assert "Selling your ETH/USDT position at market" in now_reads(standin, ask)
        assert sorted(p.symbol for p in await closer.open_positions(user)) == ["ADA/USDT", "LTC/USDT"]
        fill = await standin.wait_for_messages(ANN.id, predicate=lambda m: "Closed as you asked" in m.displayed_text)
        assert "ETH/USDT" in fill[0].displayed_text
        assert "1 trade(s)" in (await say(standin, ANN, "/pnl")).displayed_text

        ask = await say(standin, ANN, "/closeall")
        assert "Sell every open position" in ask.displayed_text
        assert "Nothing was sold" in (await press(standin, ANN, ask, "No")).displayed_text
        assert len(await closer.open_positions(user)) == 2
        ask = await say(standin, ANN, "/closeall")
        await press(standin, ANN, ask, "Yes, sell everything")
        assert "Selling every open position at market (2 order(s))" in now_reads(standin, ask)
        assert await closer.open_positions(user) == []
        ask = await say(standin, ANN, "/closeall")
        assert "no open positions" in (await press(standin, ANN, ask, "Yes")).displayed_text


async def test_risk_and_notification_settings(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        users = runtime.services.engine.users
        user = await onboard(runtime, ANN)

        shown = await say(standin, ANN, "/risk")
        assert "Your risk profile: moderate" in shown.displayed_text and "Risk per trade 1.00%" in shown.displayed_text
        assert "Usage: /risk" in (await say(standin, ANN, "/risk reckless")).displayed_text
        assert "already use the moderate" in (await say(standin, ANN, "/risk moderate")).displayed_text
        await press(standin, ANN, shown, "Switch to aggressive")
        assert "Switch from moderate to aggressive?" in now_reads(standin, shown)
        assert (await users.get(ANN.id)).profile is RiskProfileName.MODERATE  # type: ignore[union-attr]
        await press(standin, ANN, current(standin, shown), "Yes")
        assert "Your profile is now aggressive" in now_reads(standin, shown)
        assert (await users.get(ANN.id)).profile is RiskProfileName.AGGRESSIVE  # type: ignore[union-attr]

        settings = await say(standin, ANN, "/settings")
        assert "🔔 on · Trades I open for you" in settings.displayed_text
        await press(standin, ANN, settings, "Turn off trades")
        assert "🔕 off · Trades I open for you" in now_reads(standin, settings)
        assert (await users.get(ANN.id)).notifications_muted == {"trade"}  # type: ignore[union-attr]
        standin.mark(ANN.id)
        await buy(runtime, user, "ETH/USDT")
        await standin.wait_idle(quiet=1.2, timeout=10)
        assert not [m for m in standin.messages(ANN.id)[-3:] if "Bought" in m.displayed_text]
        await press(standin, ANN, current(standin, settings), "Turn on trades")
        assert (await users.get(ANN.id)).notifications_muted == frozenset()  # type: ignore[union-attr]
        await buy(runtime, user, "LTC/USDT")
        bought = await standin.wait_for_messages(ANN.id, predicate=lambda m: "Bought" in m.displayed_text)
        assert "LTC/USDT" in bought[0].displayed_text

        assert "No decisions yet" in (await say(standin, ANN, "/why")).displayed_text


async def test_without_an_account_or_outside_a_private_chat_nothing_is_shown(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        commands = ["/portfolio", "/positions", "/history", "/pnl", "/pause", "/resume", "/close ETH", "/closeall"]
        commands += ["/risk", "/settings", "/why", "/disconnect"]
        for command in commands:
            assert "send /start" in (await say(standin, STRANGER, command)).displayed_text, command
        assert await runtime.services.engine.users.get(STRANGER.id) is None  # asking created nothing

        await onboard(runtime, ANN)
        for command in ("/portfolio", "/positions", "/start"):
            standin.send_text(ANN, command, chat=GROUP)
            await standin.wait_idle(quiet=0.3, timeout=10)
            assert "private chat" in standin.messages(GROUP)[-1].displayed_text, command
        assert not any("Equity" in m.displayed_text for m in standin.messages(GROUP))


async def test_commands_are_rate_limited_per_person_with_one_warning(database: DatabaseConfig):
    standin = TelegramStandIn()
    settings = product_settings(database)
    telegram = settings.telegram.model_copy(update={"rate_limit_per_minute": 5})
    settings = settings.model_copy(update={"telegram": telegram})
    async with running_product(settings, standin) as runtime:
        await onboard(runtime, ANN)
        for _ in range(12):
            standin.send_text(ANN, "/help")
        await standin.wait_idle(quiet=0.5, timeout=15)
        texts = [m.displayed_text for m in standin.messages(ANN.id)]
        assert sum("Commands" in t for t in texts) == 5
        assert sum("faster than I can take them" in t for t in texts) == 1
        other = ChatUser(id=5252, first_name="Cy")
        assert "Commands" in (await say(standin, other, "/help")).displayed_text  # a limit per person
