"""`/report` in the running product: your day with its chart; the admin report and the weekly review for the
operators only; a usage line for anything else."""

from __future__ import annotations

from decimal import Decimal

from bot.charts import PNG_SIGNATURE
from bot.guards import REFUSED
from bot.handlers.reports import USAGE
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode, RiskProfileName
from storage.config import DatabaseConfig
from tests.bot.product import ADMIN, product_settings, running_product, say

DORA = ChatUser(id=7373, first_name="Dora")


async def test_report_for_a_user_for_the_admins_and_with_bad_arguments(database: DatabaseConfig):
    telegram = TelegramStandIn()
    async with running_product(product_settings(database), telegram) as runtime:
        assert (await say(telegram, DORA, "/report")).displayed_text.startswith("You have no account yet")
        users = runtime.services.engine.users
        user = await users.arrive(DORA.id, DORA.id, DORA.first_name)
        user = await users.onboard(user, RiskProfileName.MODERATE, Decimal(1000), AccountMode.PAPER)
        await users.set_paused(user, True)  # the market moves below; Dora stays out of it
        engine, feed = runtime.services.engine, runtime.services.extras["replay_feed"]
        await engine.monitor.mark_equity()
        step = feed.advance()  # five minutes of market: the chart has a start and a now
        assert step is not None
        await engine.process_step(step, feed.candles)

        telegram.mark(DORA.id)
        telegram.send_text(DORA, "/report")
        text, chart = await telegram.wait_for_messages(DORA.id, 2, timeout=20)  # the chart is drawn in a worker
        assert chart.photo is not None and chart.photo.startswith(PNG_SIGNATURE)
        assert text.displayed_text.startswith("Your day ·")
        assert "Equity $1,000.00 · today $0.00 (0.00%)" in text.displayed_text
        assert "⏸ Paused: no new trades" in text.displayed_text
        assert "Trades today: none" in text.displayed_text and "Open positions: none" in text.displayed_text

        assert (await say(telegram, DORA, "/report admin")).displayed_text == REFUSED
        assert (await say(telegram, DORA, "/report everything now")).displayed_text == USAGE
        admin = await say(telegram, ADMIN, "/report admin")
        assert admin.displayed_text.startswith("Admin report ·") and "Users: 0 active, 1 paused" in admin.displayed_text
        weekly = await say(telegram, ADMIN, "/report weekly")
        assert weekly.displayed_text.startswith("Weekly review ·") and "No position was closed" in weekly.displayed_text
