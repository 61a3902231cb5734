"""Answering in a chat without ever losing a reply: texts over Telegram's limit go out in parts (buttons on
the last one), and an edit that no longer fits becomes an edit plus follow-up messages."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.message_split import split_message


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send `text` (HTML) to the chat the update came from; returns the last message sent."""
    if update.effective_chat is None:
        return None
    return await _send_parts(update.effective_chat, split_message(text), markup)


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text of the message whose button was pressed; what does not fit follows as new messages."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        await reply(update, text, markup)
        return
    first, *rest = split_message(text)
    try:
        await query.edit_message_text(first, parse_mode=ParseMode.HTML, reply_markup=None if rest else markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
    if rest:
        await _send_parts(update.effective_chat, rest, markup)


async def _send_parts(chat: Chat, parts: Sequence[str], markup: InlineKeyboardMarkup | None) -> Message | None:
    sent: Message | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await chat.send_message(part, parse_mode=ParseMode.HTML, reply_markup=markup if last else None)
    return sent
