"""The real python-telegram-bot Application, driven through the Bot API stand-in, over the whole product."""

from __future__ import annotations

from decimal import Decimal

from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode, RiskProfileName, UserStatus
from storage.config import DatabaseConfig
from tests.bot.product import press, product_settings, running_product, say

ANN = ChatUser(id=5151, first_name="Ann", username="ann")


async def test_start_portfolio_pause_resume(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        users = runtime.services.engine.users

        menu = await say(standin, ANN, "/start")
        assert "Pick a risk profile" in menu.displayed_text
        assert [row[0][0] for row in menu.keyboard] == ["Conservative", "Moderate", "Aggressive"]

        capital = await press(standin, ANN, menu, "Moderate")
        assert (
            "How much should I manage?" in capital.displayed_text and "$100.00 and $5,000.00" in capital.displayed_text
        )
        mode = await say(standin, ANN, "1,500")
        assert "Capital: $1,500.00" in mode.displayed_text
        confirm = await press(standin, ANN, mode, "Paper")
        assert "Please confirm" in confirm.displayed_text
        done = await press(standin, ANN, confirm, "Confirm")
        assert "You're set" in done.displayed_text

        user = await users.get(ANN.id)
        assert user is not None and user.status is UserStatus.ACTIVE
        assert (user.profile, user.capital, user.mode) == (RiskProfileName.MODERATE, Decimal(1500), AccountMode.PAPER)
        account = await users.account(user)
        assert account is not None and account.is_paper and account.managed_cash == Decimal(1500)

        setup = await say(standin, ANN, "/start")
        assert "Your setup" in setup.displayed_text and "moderate" in setup.displayed_text

        portfolio = await say(standin, ANN, "/portfolio")
        assert "Equity  $1,500.00" in portfolio.displayed_text and "No open positions." in portfolio.displayed_text
        refreshed = await press(standin, ANN, portfolio, "Refresh")
        assert refreshed.message_id == portfolio.message_id

        paused = await say(standin, ANN, "/pause")
        assert "Paused" in paused.displayed_text
        assert (await users.get(ANN.id)).is_paused is True  # type: ignore[union-attr]
        again = await say(standin, ANN, "/portfolio")
        assert "Paused: no new trades" in again.displayed_text

        resumed = await say(standin, ANN, "/resume")
        assert "Resumed" in resumed.displayed_text
        assert (await users.get(ANN.id)).is_paused is False  # type: ignore[union-attr]


async def test_wrong_capital_and_unknown_commands_get_a_clear_answer(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        menu = await say(standin, ANN, "/start")
        await press(standin, ANN, menu, "Conservative")
        too_much = await say(standin, ANN, "99999")
        assert "between $100 and $5,000" in too_much.displayed_text
        not_a_number = await say(standin, ANN, "lots")
        assert "as a number" in not_a_number.displayed_text
        unknown = await say(standin, ANN, "/frobnicate")
        assert "I don't know that command" in unknown.displayed_text and "/portfolio" in unknown.displayed_text
        early = await say(standin, ChatUser(id=777, first_name="Bo"), "/portfolio")
        assert "/start" in early.displayed_text
        user = await runtime.services.engine.users.get(ANN.id)
        assert user is not None and user.capital is None  # nothing changed by the bad input
