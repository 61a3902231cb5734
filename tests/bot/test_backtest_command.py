"""`/backtest NAME SYMBOL DAYS` in the chat: the summary and the chart, computed off the event loop, one at a time
per person; bad input gets the usage line."""

from __future__ import annotations

import asyncio

from bot.backtest_desk import BacktestDesk
from bot.charts import PNG_SIGNATURE
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode, RiskProfileName
from storage.config import DatabaseConfig
from tests.bot.product import product_settings, running_product, say

ANN = ChatUser(id=7101, first_name="Ann")
STRANGER = ChatUser(id=7102, first_name="Zed")


async def wait_for_photo(standin: TelegramStandIn, user: ChatUser, within: float = 90) -> None:
    async with asyncio.timeout(within):
        while not any(m.photo for m in standin.messages(user.id)):  # noqa: ASYNC110 - the stand-in has no event
            await asyncio.sleep(0.05)
    await standin.wait_idle(quiet=0.3, timeout=10)


async def test_a_backtest_answers_with_its_summary_and_chart_while_the_bot_keeps_answering(
    database: DatabaseConfig,
) -> None:
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        engine = runtime.services.engine
        user = await engine.users.arrive(ANN.id, ANN.id, "Ann")
        await engine.users.onboard(user, RiskProfileName.AGGRESSIVE, engine.system.phase.min_capital, AccountMode.PAPER)

        standin.send_text(ANN, "/backtest donchian_breakout eth 5")
        standin.send_text(ANN, "/help")  # answered while the backtest runs in its worker process
        await wait_for_photo(standin, ANN)

        texts = [m.displayed_text for m in standin.messages(ANN.id)]
        started = next(i for i, t in enumerate(texts) if t.startswith("Backtesting donchian_breakout on ETH/USDT"))
        helped = next(i for i, t in enumerate(texts) if "/backtest" in t and "Commands" in t)
        summary = next(i for i, t in enumerate(texts) if "max drawdown" in t)
        assert started < summary and helped < summary  # /help did not wait for the backtest
        assert "donchian_breakout on ETH/USDT (5m), aggressive" in texts[summary]
        assert "Sharpe" in texts[summary] and "profit factor" in texts[summary]
        assert f"{engine.system.phase.min_capital:,.2f} →" in texts[summary]  # the person's own capital
        (photo,) = [m for m in standin.messages(ANN.id) if m.photo]
        assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)

        again = await say(standin, ANN, "/backtest ema_cross LTC 2")
        assert "One backtest a minute" in again.displayed_text
        assert len([m for m in standin.messages(ANN.id) if m.photo]) == 1


async def test_bad_input_and_unknown_people_get_an_answer_and_run_nothing(database: DatabaseConfig) -> None:
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        engine = runtime.services.engine
        await engine.users.arrive(ANN.id, ANN.id, "Ann")
        for text in (
            "/backtest",
            "/backtest ema_cross ETH",
            "/backtest moon_shot ETH 3",
            "/backtest ema_cross ETH many",
            "/backtest ema_cross ETH 0",
            "/backtest ema_cross ETH 400",
        ):
            assert "Usage: /backtest NAME SYMBOL DAYS" in (await say(standin, ANN, text)).displayed_text, text
        unknown_symbol = await say(standin, ANN, "/backtest ema_cross DOGE 3")
        if "Backtesting" in unknown_symbol.displayed_text:
            async with asyncio.timeout(60):
                while "no recorded 5m" not in standin.messages(ANN.id)[-1].displayed_text:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        assert "Usage" in standin.messages(ANN.id)[-1].displayed_text
        assert "send /start" in (await say(standin, STRANGER, "/backtest ema_cross ETH 3")).displayed_text
        assert not standin.calls_to("sendPhoto")


def test_the_desk_lets_each_person_run_one_backtest_a_minute_and_a_few_at_once() -> None:
    now = [1000.0]
    desk = BacktestDesk(min_seconds_between=60, max_at_once=2, clock=lambda: now[0])
    desk._running.update({1, 2})  # two people's backtests are running
    assert "still running" in (desk.refusal(1) or "")
    assert "busy" in (desk.refusal(3) or "")
    desk._running.clear()
    desk._started[3] = now[0]
    assert desk.refusal(4) is None
    now[0] += 30
    assert "try again in 30 s" in (desk.refusal(3) or "")
    now[0] += 31
    assert desk.refusal(3) is None
