"""A user's own account: `/portfolio`, `/pause`, `/resume`, `/why`, `/help`, and unknown commands."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import render
from bot.callbacks import ConfirmCloseAll, PauseChoice, RefreshPortfolio
from bot.context import BotContext
from bot.help_text import GUIDES, help_message
from engine.domain.accounts import User
from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose, TradingState


async def _onboarded_user(update: Update, context: BotContext) -> User | None:
    """The caller's own account, or a nudge to /start; nobody ever reaches another person's account."""
    assert update.effective_user is not None and update.effective_message is not None
    user = await context.services.engine.users.get(update.effective_user.id)
    if user is None or not user.is_onboarded:
        await update.effective_message.reply_text("You have no account yet: send /start to set one up.")
        return None
    return user


def _refresh_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("↻ Refresh", callback_data=RefreshPortfolio())]])


async def portfolio(update: Update, context: BotContext) -> None:
    """Equity, cash, open positions and PnL, with a refresh button."""
    user = await _onboarded_user(update, context)
    if user is None:
        return
    text = await _portfolio_text(context, user)
    assert update.effective_message is not None
    await context.services.notifier.reply(update.effective_message, text, reply_markup=_refresh_button())


async def refresh_portfolio(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user = await context.services.engine.users.get(update.effective_user.id)
    if user is None or not user.is_onboarded:
        await query.answer("No account yet: /start")
        return
    text = await _portfolio_text(context, user)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=_refresh_button())
        await query.answer("Updated")
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
        await query.answer("Already up to date")


async def _portfolio_text(context: BotContext, user: User) -> str:
    engine = context.services.engine
    view = await engine.portfolio.value(user)
    if view is None:
        return "Your account is not connected yet. /start shows your setup."
    return render.portfolio(view, engine.clock.now())


async def pause(update: Update, context: BotContext) -> None:
    """Stop new entries at once; then ask whether to also close everything."""
    user = await _onboarded_user(update, context)
    if user is None:
        return
    await context.services.engine.users.set_paused(user, True)
    view = await context.services.engine.portfolio.value(user)
    held = len(view.positions) if view else 0
    assert update.effective_message is not None
    if not held:
        await update.effective_message.reply_text("Paused: no new trades will be opened. /resume to start again.")
        return
    buttons = [
        [
            InlineKeyboardButton("Keep my positions", callback_data=PauseChoice(False)),
            InlineKeyboardButton(f"Close all {held}…", callback_data=PauseChoice(True)),
        ]
    ]
    await update.effective_message.reply_text(
        f"Paused: no new trades will be opened. Your {held} open position(s) keep their stops.\n"
        "Do you also want to close them now?",
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def pause_choice(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, PauseChoice)
    await query.answer()
    if not query.data.close_all:
        await query.edit_message_text("Paused. Your positions stay open with their stops. /resume to trade again.")
        return
    await _ask_close_all(update)


async def close_all(update: Update, context: BotContext) -> None:
    """`/closeall`: sell every open position at market, after a confirmation."""
    if await _onboarded_user(update, context) is None:
        return
    await _ask_close_all(update)


async def _ask_close_all(update: Update) -> None:
    buttons = [
        [
            InlineKeyboardButton("Yes, sell everything now", callback_data=ConfirmCloseAll(True)),
            InlineKeyboardButton("No", callback_data=ConfirmCloseAll(False)),
        ]
    ]
    text = "Sell every open position at the market price now? This cannot be undone."
    if update.callback_query is not None:
        await update.callback_query.edit_message_text(text, reply_markup=InlineKeyboardMarkup(buttons))
    else:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, reply_markup=InlineKeyboardMarkup(buttons))


async def confirm_close_all(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmCloseAll) and update.effective_user is not None
    await query.answer()
    if not query.data.confirmed:
        await query.edit_message_text("Nothing was sold.")
        return
    engine = context.services.engine
    user = await engine.users.get(update.effective_user.id)
    view = await engine.portfolio.value(user) if user else None
    if user is None or view is None or not view.positions:
        await query.edit_message_text("You have no open positions.")
        return
    commands = [
        ClosePosition(
            user_id=user.id,
            account_id=view.account.id,
            symbol=p.position.symbol,
            purpose=OrderPurpose.MANUAL_CLOSE,
            reason="you asked to close everything",
        )
        for p in view.positions
    ]
    await query.edit_message_text(f"Selling {len(commands)} position(s) at market…")
    await engine.orders.close_positions(commands)


async def resume(update: Update, context: BotContext) -> None:
    """Start opening trades again (after a halt, this is the user's confirmation that they reviewed it)."""
    user = await _onboarded_user(update, context)
    if user is None:
        return
    users = context.services.engine.users
    assert update.effective_message is not None
    if user.trading_state is TradingState.HALTED:
        await users.resume_after_halt(user)
        await update.effective_message.reply_text(
            "Resumed after the halt. The drawdown limit counts again from your current equity."
        )
        return
    if not user.is_paused:
        await update.effective_message.reply_text("You are not paused: trading is on.")
        return
    await users.set_paused(user, False)
    await update.effective_message.reply_text("Resumed: I will open new trades again when your strategies signal.")


async def why(update: Update, context: BotContext) -> None:
    """The latest decisions, accepted or refused, with every reason."""
    user = await _onboarded_user(update, context)
    if user is None:
        return
    decisions = await context.services.engine.portfolio.decisions(user, 5)
    assert update.effective_message is not None
    await context.services.notifier.reply(update.effective_message, render.decisions(decisions))


async def help_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    topic = (context.args or [""])[0].lower()
    text = GUIDES.get(topic) or help_message()
    await update.effective_message.reply_html(text)


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html("I don't know that command.\n\n" + help_message())


def account_handlers() -> list[object]:
    return [
        CommandHandler("portfolio", portfolio),
        CommandHandler("pause", pause),
        CommandHandler("resume", resume),
        CommandHandler("closeall", close_all),
        CommandHandler("why", why),
        CommandHandler("help", help_command),
        CallbackQueryHandler(refresh_portfolio, pattern=RefreshPortfolio),
        CallbackQueryHandler(pause_choice, pattern=PauseChoice),
        CallbackQueryHandler(confirm_close_all, pattern=ConfirmCloseAll),
    ]


def fallback_handlers() -> list[object]:
    return [MessageHandler(filters.COMMAND, unknown_command)]
