"""`/connect` and `/disconnect`: a user's exchange API keys.

The message holding keys is deleted the moment it arrives, before anything else is done with it (in a
group too, where keys should never have been sent). The keys are then checked against the exchange and
stored encrypted by the engine; no reply, log line or error ever repeats them.
"""

from __future__ import annotations

import warnings

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import render
from bot.callbacks import DisconnectChoice
from bot.context import BotContext
from bot.guards import PRIVATE_ONLY, for_user
from bot.replies import edit, reply
from engine.domain.accounts import User
from engine.exchange_connections import Connected, ExchangeConnections, Refused
from engine.ports import Credentials

log = structlog.get_logger(__name__)

KEYS = 0
END = ConversationHandler.END
ASK_KEYS = (
    "Send your API key and secret now, in one message, separated by a space. I delete that message at once.\n"
    "The key needs reading and spot trading; keys that allow withdrawals are refused. /cancel to stop.\n"
    "/help connect explains how to create one."
)
NOT_DELETED = (
    "I could not delete the message holding your keys: delete it yourself, and if anyone else can read this "
    "chat, revoke those keys on the exchange."
)


def _connections(context: BotContext) -> ExchangeConnections:
    connections = context.services.engine.connections
    assert connections is not None
    return connections


async def connect(update: Update, context: BotContext) -> int | None:
    """`/connect` asks for the keys; `/connect KEY SECRET` takes them at once (the message is deleted first)."""
    message = update.effective_message
    if message is not None and context.args:
        await _delete_keys_message(update, message)
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        await reply(
            update, PRIVATE_ONLY + (" Revoke the keys you sent: others could read them." if context.args else "")
        )
        return END
    result: int | None = await for_user(_start_connect)(update, context)
    return result


async def _start_connect(update: Update, context: BotContext, user: User) -> int:
    connections = _connections(context)
    if not connections.venues:
        await reply(update, "Live trading is not enabled on this bot: you trade on paper. /portfolio shows it.")
        return END
    if context.args:
        return await _check_and_store(update, context, user, context.args)
    await reply(update, f"<b>Connect {', '.join(connections.venues)}</b>\n{ASK_KEYS}")
    return KEYS


async def keys_sent(update: Update, context: BotContext) -> int:
    """The message with the keys, in the /connect conversation: deleted first, then checked."""
    message = update.effective_message
    assert message is not None
    await _delete_keys_message(update, message)
    result: int | None = await for_user(lambda u, c, user: _check_and_store(u, c, user, (message.text or "").split()))(
        update, context
    )
    return END if result is None else result


async def _check_and_store(update: Update, context: BotContext, user: User, words: list[str]) -> int:
    if len(words) != 2:
        await reply(update, "I need exactly two things: the API key, a space, then the secret. Send them again.")
        return KEYS
    assert update.effective_chat is not None
    await update.effective_chat.send_chat_action(ChatAction.TYPING)
    checking = await reply(update, "Checking your keys with the exchange…")
    outcome = await _connections(context).connect(user, Credentials(api_key=words[0], secret=words[1]))
    text = (
        _connected_text(outcome)
        if isinstance(outcome, Connected)
        else f"Not connected: {render.escape(outcome.message)}"
    )
    if checking is not None:
        await checking.edit_text(text, parse_mode="HTML")
    else:
        await reply(update, text)
    return END


def _connected_text(outcome: Connected) -> str:
    account = outcome.account
    lines = [
        f"<b>Connected</b> to {render.escape(account.venue)} with the key ending …{render.escape(account.key_hint)}.",
        f"Free on the exchange: {render.money(outcome.free_quote)}. I will manage {render.money(outcome.managed)}.",
    ]
    if outcome.managed <= 0:
        lines.append("Deposit some USDT on the exchange: with nothing free I cannot open trades.")
    lines.append("Your keys are stored encrypted. /portfolio shows the account; /disconnect removes the keys.")
    return "\n".join(lines)


async def _delete_keys_message(update: Update, message: Message) -> None:
    try:
        await message.delete()
    except TelegramError as error:
        log.warning("keys.message_not_deleted", error=type(error).__name__)
        await reply(update, NOT_DELETED)


async def cancel(update: Update, context: BotContext) -> int:
    await reply(update, "Stopped: no keys were stored.")
    return END


async def disconnect(update: Update, context: BotContext, user: User) -> None:
    """Ask before removing the keys."""
    account = await context.services.engine.users.account(user)
    if account is None or account.is_paper:
        await reply(update, "No exchange keys are connected: you trade on paper.")
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes, remove the keys", callback_data=DisconnectChoice(True)),
                InlineKeyboardButton("No", callback_data=DisconnectChoice(False)),
            ]
        ]
    )
    await reply(
        update,
        f"Remove the {render.escape(account.venue)} keys ending …{render.escape(account.key_hint)}? "
        "I will stop trading on that account.",
        buttons,
    )


async def confirm_disconnect(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, DisconnectChoice)
    await query.answer()
    if not query.data.confirmed:
        await edit(update, "Your keys stay connected.")
        return
    outcome = await _connections(context).disconnect(user)
    if isinstance(outcome, Refused):
        await edit(update, f"Not disconnected: {render.escape(outcome.message)}")
        return
    await edit(
        update,
        f"Removed the {render.escape(outcome.venue)} keys ending …{render.escape(outcome.key_hint)}. "
        "Delete them on the exchange too if you no longer use them. /connect adds keys again.",
    )


def exchange_key_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    with warnings.catch_warnings():  # per user and chat, not per message: what we want
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation: ConversationHandler[BotContext] = ConversationHandler(
            entry_points=[CommandHandler("connect", connect)],
            states={KEYS: [MessageHandler(filters.TEXT & ~filters.COMMAND, keys_sent)]},
            fallbacks=[CommandHandler("cancel", cancel), CommandHandler("connect", connect)],
            allow_reentry=True,
            name="connect",
            conversation_timeout=600,
        )
    return [
        conversation,  # type: ignore[list-item]
        CommandHandler("disconnect", for_user(disconnect)),
        CallbackQueryHandler(for_user(confirm_disconnect), pattern=DisconnectChoice),
    ]
