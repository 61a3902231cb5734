"""What Telegram does to a bot, and how the product takes it: flood control, outages, a second poller, long
replies, a reply that fails inside a handler."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.telegram_standin import ChatUser, TelegramStandIn
from storage.config import DatabaseConfig
from tests.bot.product import ADMIN, ADMIN_CHAT, buy, onboard, product_settings, running_product, say

ANN = ChatUser(id=5151, first_name="Ann")


async def test_a_reply_refused_by_flood_control_is_sent_after_retry_after(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        await onboard(runtime, ANN)
        flood = "Too Many Requests: retry after 1"
        standin.fail_next("sendMessage", 429, flood, retry_after=1, times=2, chat_id=ANN.id)
        standin.send_text(ANN, "/help")
        (reply,) = await standin.wait_for_messages(ANN.id, timeout=15)
        assert "Commands" in reply.displayed_text
        assert [c.status for c in standin.calls_to("sendMessage") if c.params["chat_id"] == ANN.id] == [429, 429, 200]


async def test_notifications_queued_during_an_outage_are_delivered_after_it(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        notifier = runtime.services.notifier
        user = await onboard(runtime, ANN)
        standin.fail_next("sendMessage", 502, "Bad Gateway", times=4, chat_id=ANN.id)
        await buy(runtime, user, "ETH/USDT")  # trading goes on while Telegram is down
        assert len(await runtime.services.engine.closer.open_positions(user)) == 1  # type: ignore[union-attr]
        bought = await standin.wait_for_messages(ANN.id, predicate=lambda m: "Bought" in m.displayed_text, timeout=20)
        assert "ETH/USDT" in bought[0].displayed_text
        sends = [c.status for c in standin.calls_to("sendMessage") if c.params["chat_id"] == ANN.id]
        assert notifier.failures >= 4 and sends == [502, 502, 502, 502, 200]


async def test_a_second_poller_makes_this_process_step_aside_and_tell_the_admins_once(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        assert runtime.application is not None
        standin.set_conflict(True)
        alert = await standin.wait_for_messages(
            ADMIN_CHAT, predicate=lambda m: "polling conflict" in m.displayed_text, timeout=20
        )
        assert "stopped polling" in alert[0].displayed_text
        for _ in range(100):
            if not runtime.application.updater.running:
                break
            await asyncio.sleep(0.05)
        assert not runtime.application.updater.running
        health = await runtime.services.health.check()
        assert health["components"]["telegram"]["status"] == "down"
        await asyncio.sleep(1.0)
        alerts = [m for m in standin.messages(ADMIN_CHAT) if "polling conflict" in m.displayed_text]
        assert len(alerts) == 1 and "[P1 high]" in alerts[0].displayed_text
        assert "telegram:conflict" in [a.key for a in await runtime.services.operations.alerts.open_alerts()]
        assert health["components"]["telegram"]["detail"] == "another process polls this token"
        user = await onboard(runtime, ANN)  # trading and notifications go on without polling
        await buy(runtime, user, "LTC/USDT")
        await standin.wait_for_messages(ANN.id, predicate=lambda m: "Bought" in m.displayed_text, timeout=10)


async def test_a_history_longer_than_one_message_arrives_whole(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        user = await onboard(runtime, ANN, Decimal(5000))
        for number in range(60):
            await buy(runtime, user, "ADA/USDT", Decimal(20), origin=f"test:many:{number}")
        await standin.wait_for_messages(ANN.id, 60, predicate=lambda m: "Bought" in m.displayed_text, timeout=60)
        standin.send_text(ANN, "/history 60")
        first = await standin.wait_for_messages(ANN.id, predicate=lambda m: "trade(s)" in m.displayed_text)
        await standin.wait_idle(quiet=0.5, timeout=15)
        parts = [m for m in standin.messages(ANN.id) if "entry · ema_cross" in m.displayed_text]
        assert len(parts) >= 2 and parts[0] is first[0] and first[0].displayed_text.startswith("Last 60 trade(s)")
        assert sum(m.displayed_text.count("Bought") for m in parts) == 60
        assert all(len(m.displayed_text) <= 4096 for m in parts)


async def test_a_reply_that_fails_inside_a_command_is_recorded_and_the_person_told(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        await onboard(runtime, ANN)
        standin.fail_next("sendMessage", 400, "Bad Request: can't parse entities", chat_id=ANN.id)
        standin.send_text(ANN, "/positions")
        await standin.wait_for_messages(ANN.id, predicate=lambda m: "Something went wrong on our side" in m.text)
        errors = await runtime.services.engine.recent_errors(5)
        assert errors and errors[0]["source"] == "telegram" and "/positions" in str(errors[0]["context"])
        assert "Can't parse entities" in (await say(standin, ADMIN, "/errors")).displayed_text
