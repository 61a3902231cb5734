"""A user's hand on their own trading: `/pause` (and optionally close everything), `/resume`,
`/close SYMBOL` and `/closeall`, each sale after a confirmation button."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import render
from bot.callbacks import ConfirmClose, ConfirmCloseAll, PauseChoice
from bot.context import BotContext
from bot.guards import for_user
from bot.replies import edit, reply
from engine.closing import CloseResult
from engine.domain.accounts import User
from engine.domain.enums import TradingState
from engine.domain.ids import Symbol

CLOSE_USAGE = "Usage: /close SYMBOL — e.g. /close ETH or /close ETH/USDT. /positions lists what you hold."


def _yes_no(yes: str, yes_data: object, no_data: object) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(yes, callback_data=yes_data), InlineKeyboardButton("No", callback_data=no_data)]]
    )


async def pause(update: Update, context: BotContext, user: User) -> None:
    """Stop new entries at once; then ask whether to also close everything."""
    engine = context.services.engine
    await engine.users.set_paused(user, True)
    held = len(await engine.closer.open_positions(user)) if engine.closer else 0
    if not held:
        await reply(update, "Paused: no new trades will be opened. /resume to start again.")
        return
    buttons = [
        [
            InlineKeyboardButton("Keep my positions", callback_data=PauseChoice(False)),
            InlineKeyboardButton(f"Close all {held}…", callback_data=PauseChoice(True)),
        ]
    ]
    await reply(
        update,
        f"Paused: no new trades will be opened. Your {held} open position(s) keep their stops.\n"
        "Do you also want to close them now?",
        InlineKeyboardMarkup(buttons),
    )


async def pause_choice(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, PauseChoice)
    await query.answer()
    if not query.data.close_all:
        await edit(update, "Paused. Your positions stay open with their stops. /resume to trade again.")
        return
    await _ask_close_all(update)


async def resume(update: Update, context: BotContext, user: User) -> None:
    """Start opening trades again (after a halt, this is the user's confirmation that they reviewed it)."""
    users = context.services.engine.users
    if user.trading_state is TradingState.HALTED:
        await users.resume_after_halt(user)
        await reply(update, "Resumed after the halt. The drawdown limit counts again from your current equity.")
        return
    if not user.is_paused:
        await reply(update, "You are not paused: trading is on.")
        return
    await users.set_paused(user, False)
    await reply(update, "Resumed: I will open new trades again when your strategies signal.")


async def close(update: Update, context: BotContext, user: User) -> None:
    """`/close SYMBOL`: sell that position at market, after a confirmation."""
    args = context.args or []
    if len(args) != 1:
        await reply(update, CLOSE_USAGE)
        return
    engine = context.services.engine
    assert engine.closer is not None
    held = {p.symbol: p for p in await engine.closer.open_positions(user)}
    symbol = parse_symbol(args[0], context.services.settings.exchange.quote)
    if symbol not in held:
        holding = ", ".join(sorted(held)) or "nothing"
        await reply(update, f"You hold no {escape(symbol)}. Open positions: {escape(holding)}.")
        return
    position = held[symbol]
    await reply(
        update,
        f"Sell your whole {escape(symbol)} position ({render.qty(position.qty)}) at the market price now?",
        _yes_no(f"Yes, sell {symbol}", ConfirmClose(symbol, True), ConfirmClose(symbol, False)),
    )


async def confirm_close(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmClose)
    await query.answer()
    symbol = query.data.symbol
    if not query.data.confirmed:
        await edit(update, f"Nothing was sold; {escape(symbol)} stays open.")
        return
    closer = context.services.engine.closer
    assert closer is not None
    result = await closer.close(user, [Symbol(symbol)], reason=f"you asked to close {symbol}")
    await edit(update, _closing_text(result, f"your {escape(symbol)} position"))


async def close_all(update: Update, context: BotContext, user: User) -> None:
    """`/closeall`: sell every open position at market, after a confirmation."""
    await _ask_close_all(update)


async def _ask_close_all(update: Update) -> None:
    text = "Sell every open position at the market price now? This cannot be undone."
    markup = _yes_no("Yes, sell everything now", ConfirmCloseAll(True), ConfirmCloseAll(False))
    if update.callback_query is not None:
        await edit(update, text, markup)
    else:
        await reply(update, text, markup)


async def confirm_close_all(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmCloseAll)
    await query.answer()
    if not query.data.confirmed:
        await edit(update, "Nothing was sold.")
        return
    closer = context.services.engine.closer
    assert closer is not None
    result = await closer.close(user, reason="you asked to close everything")
    await edit(update, _closing_text(result, "every open position"))


def _closing_text(result: CloseResult, what: str) -> str:
    if result.requested == 0:
        return "You have no open positions."
    if result.failed:
        reasons = "; ".join(escape(o.reason or "refused") for o in result.failed[:3])
        return f"Selling {what}: {len(result.failed)} sale(s) were refused ({reasons}). Your stops stay in place."
    return f"Selling {what} at market ({len(result.orders)} order(s)). I'll message you with each fill."


def parse_symbol(text: str, quote: str) -> str:
    """'eth', 'ETHUSDT' or 'eth/usdt' → 'ETH/USDT'."""
    symbol = text.strip().upper()
    if "/" in symbol:
        return symbol
    if symbol.endswith(quote) and len(symbol) > len(quote):
        return f"{symbol[: -len(quote)]}/{quote}"
    return f"{symbol}/{quote}"


def trading_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("pause", for_user(pause)),
        CommandHandler("resume", for_user(resume)),
        CommandHandler("close", for_user(close)),
        CommandHandler("closeall", for_user(close_all)),
        CallbackQueryHandler(for_user(pause_choice), pattern=PauseChoice),
        CallbackQueryHandler(for_user(confirm_close), pattern=ConfirmClose),
        CallbackQueryHandler(for_user(confirm_close_all), pattern=ConfirmCloseAll),
    ]
