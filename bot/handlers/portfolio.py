"""What a user holds and how it went: `/portfolio` (with a refresh button, or `chart`), `/positions`,
`/history [n]`, `/pnl [day|week|month]`."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import render, render_trades
from bot.callbacks import RefreshPortfolio
from bot.charts import render_equity_chart
from bot.context import BotContext
from bot.guards import for_user
from bot.replies import edit, reply
from engine.domain.accounts import User
from engine.portfolio import Period

HISTORY_DEFAULT, HISTORY_MAX = 10, 100
NOT_CONNECTED = "Your account is not connected yet: /start shows your setup, /connect adds exchange keys."


def _refresh_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("↻ Refresh", callback_data=RefreshPortfolio())]])


async def portfolio(update: Update, context: BotContext, user: User) -> None:
    """Equity, cash, open positions and PnL, with a refresh button; `/portfolio chart` draws the equity curve."""
    args = [a.lower() for a in context.args or []]
    if args == ["chart"]:
        await _chart(update, context, user)
        return
    if args:
        await reply(update, "Usage: /portfolio, or /portfolio chart for your equity curve.")
        return
    await reply(update, await _portfolio_text(context, user), _refresh_button())


async def refresh_portfolio(update: Update, context: BotContext, user: User) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer("Updated")
    await edit(update, await _portfolio_text(context, user), _refresh_button())


async def _portfolio_text(context: BotContext, user: User) -> str:
    engine = context.services.engine
    view = await engine.portfolio.value(user)
    return NOT_CONNECTED if view is None else render.portfolio(view, engine.clock.now())


async def _chart(update: Update, context: BotContext, user: User) -> None:
    engine = context.services.engine
    points = await engine.portfolio.equity_series(user)
    view = await engine.portfolio.value(user)
    if view is not None:
        points = [*points, (engine.clock.now(), view.equity)]
    if len(points) < 2:
        await reply(update, "Not enough history for a chart yet: I mark your equity every few minutes.")
        return
    assert update.effective_chat is not None
    await update.effective_chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
    png = await render_equity_chart(points, f"Equity of {user.name}", user.capital)
    await update.effective_chat.send_photo(
        png,
        caption=f"Equity {render.money(points[-1][1])} · start {render.money(points[0][1])}",
        filename="equity.png",
    )


async def positions(update: Update, context: BotContext, user: User) -> None:
    """Every open position: size, entry, price, result, stop, target, since when."""
    engine = context.services.engine
    view = await engine.portfolio.value(user)
    await reply(update, NOT_CONNECTED if view is None else render_trades.positions(view, engine.clock.now()))


async def history(update: Update, context: BotContext, user: User) -> None:
    """The last n fills (10 by default, 100 at most)."""
    args = context.args or []
    count = HISTORY_DEFAULT
    if args:
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= HISTORY_MAX:
            await reply(update, f"Usage: /history [n] — n from 1 to {HISTORY_MAX}, e.g. /history 20.")
            return
        count = int(args[0])
    fills = await context.services.engine.portfolio.fills(user, limit=count)
    await reply(update, render_trades.history(fills, count))


async def pnl(update: Update, context: BotContext, user: User) -> None:
    """Profit and loss over today, the last 7 days or the last 30."""
    args = [a.lower() for a in context.args or []]
    if len(args) > 1 or (args and args[0] not in Period.__members__.values()):
        await reply(update, "Usage: /pnl [day|week|month] — e.g. /pnl week.")
        return
    period = Period(args[0]) if args else Period.DAY
    engine = context.services.engine
    result = await engine.portfolio.period_pnl(user, period, engine.clock.now())
    await reply(update, render_trades.pnl(result))


def portfolio_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("portfolio", for_user(portfolio)),
        CommandHandler("positions", for_user(positions)),
        CommandHandler("history", for_user(history)),
        CommandHandler("pnl", for_user(pnl)),
        CallbackQueryHandler(for_user(refresh_portfolio), pattern=RefreshPortfolio),
    ]
