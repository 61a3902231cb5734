"""The local chat of `tradebot demo` supports every command: each typed line gets its answer, and numbers
press the buttons (confirmations included)."""

from __future__ import annotations

import io

from bot.help_text import ADMIN_COMMANDS, USER_COMMANDS, CommandInfo
from bot.local_chat import PROMPT, LocalChat
from bot.telegram_standin import TelegramStandIn
from storage.config import DatabaseConfig
from tests.bot.product import ADMIN, ADMIN_CHAT, buy, onboard, product_settings, running_product

EXAMPLES = {
    "close": "/close ETH",
    "user": "/user 1",
    "approve": "/approve 1",
    "broadcast": "/broadcast Maintenance at noon",
    "strategy": "/strategy ema_cross on",
}
FAILURES = ("Something went wrong", "I don't know that command")


def example(command: CommandInfo) -> str:
    return EXAMPLES.get(command.name, f"/{command.name}")


async def test_every_command_gets_its_answer_in_the_local_chat(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with running_product(product_settings(database), standin) as runtime:
        user = await onboard(runtime, ADMIN)  # the demo's person is a user and an admin, as in `tradebot demo`
        await buy(runtime, user, "ETH/USDT")
        await standin.wait_idle(quiet=0.5, timeout=10)
        chat = LocalChat(standin, ADMIN, io.StringIO(), admin_chat_id=ADMIN_CHAT)
        try:
            for command in (*USER_COMMANDS, *ADMIN_COMMANDS):
                answer = await type_line(chat, standin, example(command))
                assert answer, f"{example(command)} got no answer"
                assert not any(failure in answer for failure in FAILURES), (example(command), answer)

            asked = await type_line(chat, standin, "/closeall")
            assert "[1] Yes, sell everything now" in asked
            sold = await type_line(chat, standin, "1")
            assert '(pressed "Yes, sell everything now")' in sold and "Selling every open position" in sold
            assert await runtime.services.engine.closer.open_positions(user) == []  # type: ignore[union-attr]
            chart = await type_line(chat, standin, "/portfolio chart")
            assert "[picture: equity.png" in chart or "Not enough history" in chart
        finally:
            chat.close()


async def type_line(chat: LocalChat, standin: TelegramStandIn, line: str) -> str:
    """Type `line` as in the terminal; return what was printed after it."""
    chat.transcript.append(PROMPT + line)
    start = len(chat.transcript)
    chat.say(line)
    await standin.wait_idle(quiet=0.6, timeout=15)
    return "\n".join(chat.transcript[start:])
