"""`/help` (a line per command, and the guides) and the answer to anything we do not understand."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.guards import is_admin
from bot.help_text import GUIDES, help_message
from bot.replies import reply


async def help_command(update: Update, context: BotContext) -> None:
    """Every command in a line; `/help TOPIC` for a guide."""
    args = [a.lower() for a in context.args or []]
    if args and args[0] in GUIDES:
        await reply(update, GUIDES[args[0]])
        return
    prefix = f"There is no guide called {escape(args[0])}.\n\n" if args else ""
    await reply(update, prefix + help_message(admin=is_admin(update, context)))


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    command = escape((update.effective_message.text or "").split()[0])
    await reply(update, f"I don't know that command ({command}).\n\n" + help_message(admin=is_admin(update, context)))


async def plain_text(update: Update, context: BotContext) -> None:
    """A message that is not a command, outside any conversation: point to the commands."""
    await reply(update, "I work with commands: /portfolio, /pause, /help for the full list.")


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """`/cancel` outside a setup or a /connect: there is nothing to stop."""
    await reply(update, "Nothing to cancel: you are not in the middle of anything.")


def help_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [CommandHandler("help", help_command), CommandHandler("cancel", nothing_to_cancel)]


def fallback_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        MessageHandler(filters.COMMAND, unknown_command),
        MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, plain_text),
    ]
