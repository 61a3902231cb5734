"""Start the whole product (bot.main.run) in-process against the Telegram stand-in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.main import Runtime, run
from bot.settings import Settings, TelegramConfig
from bot.telegram_standin import ChatUser, SentMessage, TelegramStandIn
from engine.config import MarketConfig
from risk.config import RiskConfig
from risk.phases import PhaseName
from storage.config import DatabaseConfig

ADMIN = ChatUser(id=9001, first_name="Ada", username="ops")
ADMIN_CHAT = -1002000000001


def product_settings(database: DatabaseConfig, **changes: Any) -> Settings:
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        host="127.0.0.1",
        port=0,
        database=database,
        telegram=TelegramConfig(admin_ids=frozenset({ADMIN.id}), admin_chat_id=ADMIN_CHAT),
        market=MarketConfig(replay_seconds_per_candle=3600.0),  # the market stands still unless a test moves it
        risk=RiskConfig(phase=PhaseName.OPEN),
    )
    return base.model_copy(update=changes)


@contextlib.asynccontextmanager
async def running_product(settings: Settings, standin: TelegramStandIn) -> AsyncIterator[Runtime]:
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    task = asyncio.create_task(run(settings, stop=stop, telegram=standin.configure, on_ready=on_ready))
    done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if task in done:
        task.result()
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def say(standin: TelegramStandIn, user: ChatUser, text: str) -> SentMessage:
    """Send a line as `user`, wait until the bot is quiet, return the bot's latest message to them."""
    standin.send_text(user, text)
    await standin.wait_idle(quiet=0.3, timeout=10)
    return standin.messages(user.id)[-1]


async def press(standin: TelegramStandIn, user: ChatUser, message: SentMessage, label: str) -> SentMessage:
    """Press the button whose text contains `label`; return the bot's latest message afterwards."""
    matches = [data for row in message.keyboard for text, data in row if label.lower() in text.lower() and data]
    assert matches, f"no button {label!r} in {message.keyboard}"
    standin.press_button(user, message, matches[0])
    await standin.wait_idle(quiet=0.3, timeout=10)
    return standin.messages(user.id)[-1]
