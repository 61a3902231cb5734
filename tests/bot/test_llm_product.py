"""The LLM agent inside the running product: the real SDK over loopback to the Messages API stand-in, its
rationale in the user's trade notification and /why, its spend in /health, the budget alert in the admin chat."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from bot.main import Runtime
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.config import LlmConfig
from engine.domain.enums import AccountMode, RiskProfileName
from engine.domain.ids import Symbol
from storage.config import DatabaseConfig
from tests.bot.product import ADMIN, ADMIN_CHAT, product_settings, running_product, say
from tests.standins.anthropic_api import AnthropicStandIn

BEA = ChatUser(id=5353, first_name="Bea")
ETH = Symbol("ETH/USDT")


def agent_config(url: str, standin: AnthropicStandIn, **changes: Any) -> LlmConfig:
    return LlmConfig(api_key=SecretStr(standin.api_key), base_url=url, symbols=[ETH], max_retries=0, **changes)


async def onboard(runtime: Runtime) -> None:
    users = runtime.services.engine.users
    user = await users.arrive(BEA.id, BEA.id, BEA.first_name)
    await users.onboard(user, RiskProfileName.MODERATE, Decimal(1000), AccountMode.PAPER)


async def test_the_agents_buy_reaches_followers_with_its_reason_and_its_spend_shows_in_health(database: DatabaseConfig):
    standin, telegram = AnthropicStandIn(), TelegramStandIn()
    async with standin.serve() as url:
        settings = product_settings(database, anthropic=agent_config(url, standin))
        async with running_product(settings, telegram) as runtime:
            await onboard(runtime)
            price = runtime.services.engine.feed.last_price(ETH)
            assert price is not None
            why = "Price reclaimed the 26-candle average on rising volume; RSI 48 leaves room to run."
            standin.decide(
                action="buy",
                confidence=0.8,
                stop=float(price * Decimal("0.98")),
                take_profit=float(price * Decimal("1.05")),
                rationale=why,
            )
            agent = runtime.services.extras["llm_agent"]
            assert await agent.run_once() == {ETH: "buy"}

            bought = await telegram.wait_for_messages(BEA.id, 1, timeout=10)
            assert (
                "Bought" in bought[0].displayed_text and f"Why: {why} (LLM, confidence 80%)" in bought[0].displayed_text
            )
            assert why in (await say(telegram, BEA, "/why")).displayed_text

            async with httpx.AsyncClient() as http:
                llm = (await http.get(f"{runtime.http_url}/health")).json()["components"]["llm"]
            assert llm["status"] == "ok" and llm["model"] == "claude-haiku-4-5" and llm["calls_today"] == 1
            assert llm["spent_today_usd"] == "0.0022" and llm["daily_budget_usd"] == "5"
            listing = await say(telegram, ADMIN, "/strategies")
            assert "🟢 on · llm_agent" in listing.displayed_text and "not running" not in listing.displayed_text


async def test_at_the_budget_the_admins_are_alerted_and_the_rule_strategies_go_on(database: DatabaseConfig):
    standin, telegram = AnthropicStandIn(), TelegramStandIn()
    async with standin.serve() as url:
        settings = product_settings(database, anthropic=agent_config(url, standin, daily_budget_usd=Decimal("0.002")))
        async with running_product(settings, telegram) as runtime:
            agent = runtime.services.extras["llm_agent"]
            assert await agent.run_once() == {ETH: "hold"}  # $0.00215 spent: the budget is used up
            (alert,) = await telegram.wait_for_messages(ADMIN_CHAT, 1, timeout=10)
            assert "[P1 high]" in alert.displayed_text and "LLM budget reached" in alert.displayed_text

            engine, feed = runtime.services.engine, runtime.services.extras["replay_feed"]
            produced = []
            for _ in range(300):
                step = feed.advance()
                assert step is not None
                produced += await engine.process_step(step, feed.candles)
                if produced:
                    break
            assert produced and all(s.strategy != "llm_agent" for s in produced)  # rules keep signalling
            assert (await agent.run_once())[ETH] == "budget_reached" and standin.calls == 1
            telegram.mark(ADMIN_CHAT)
            await agent.run_once()
            assert [m for m in telegram.messages(ADMIN_CHAT) if "LLM budget" in m.displayed_text] == [alert]


async def test_without_an_api_key_the_agent_is_off_and_says_so(database: DatabaseConfig):
    telegram = TelegramStandIn()
    async with running_product(product_settings(database), telegram) as runtime:
        assert "llm_agent" not in runtime.services.extras
        listing = await say(telegram, ADMIN, "/strategies")
        assert "not running: ANTHROPIC_API_KEY is not set" in listing.displayed_text
        async with httpx.AsyncClient() as http:
            llm = (await http.get(f"{runtime.http_url}/health")).json()["components"]["llm"]
        assert llm == {"status": "disabled", "detail": "ANTHROPIC_API_KEY is not set"}
