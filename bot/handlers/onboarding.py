"""`/start`: access check, then profile → capital → account → confirm, as a conversation with buttons."""

from __future__ import annotations

import warnings
from decimal import Decimal, InvalidOperation

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import render
from bot.callbacks import ChooseCapital, ChooseMode, ChooseProfile, ConfirmOnboarding
from bot.context import BotContext
from bot.guards import PRIVATE_ONLY
from engine.domain.accounts import User
from engine.domain.enums import AccountMode, RiskProfileName, UserStatus

INVITE, PROFILE, CAPITAL, MODE, CONFIRM = range(5)
END = ConversationHandler.END


async def start(update: Update, context: BotContext) -> int:
    """Greet, check access, and start (or show) the setup."""
    person = update.effective_user
    assert person is not None and update.effective_chat is not None and update.effective_message is not None
    if update.effective_chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(PRIVATE_ONLY)
        return END
    services = context.services
    user = await services.engine.users.arrive(person.id, update.effective_chat.id, person.full_name)
    if user.status is UserStatus.BLOCKED:
        await update.effective_message.reply_text(
            "This account is blocked. Contact the operators if this is a mistake."
        )
        return END
    if user.status is UserStatus.PENDING:
        return await _ask_for_access(update, context, user)
    if user.is_onboarded:
        account = await services.engine.users.account(user)
        await update.effective_message.reply_html(render.setup_summary(user, account.venue if account else None))
        return END
    return await _ask_profile(update, context, first_time=True)


async def _ask_for_access(update: Update, context: BotContext, user: User) -> int:
    phase = context.services.engine.system.phase
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        f"Hello! During the <b>{phase.name.value}</b> phase tradebot is open by invitation.\n"
        "If you have an invite code, send it now. Otherwise I have asked the operators to let you in; "
        "you will get a message here when they do."
    )
    await context.services.notifier.admin_access_request(user)
    return INVITE


async def invite_code(update: Update, context: BotContext) -> int:
    assert update.effective_user is not None and update.effective_message is not None
    services = context.services
    user = await services.engine.users.get(update.effective_user.id)
    if user is None:
        return END
    approved = await services.engine.users.redeem_invite(user, update.effective_message.text or "")
    if approved is None:
        await update.effective_message.reply_text("That code did not work. Check it, or wait for the operators.")
        return INVITE
    await update.effective_message.reply_text("Code accepted, welcome in!")
    return await _ask_profile(update, context, first_time=True)


async def _ask_profile(update: Update, context: BotContext, *, first_time: bool) -> int:
    system = context.services.engine.system
    profiles = [system.profiles[name.value] for name in RiskProfileName]
    intro = (
        "Welcome to <b>tradebot</b>: I trade crypto for you and tell you what I did and why.\n\n" if first_time else ""
    )
    buttons = [
        [InlineKeyboardButton(p.name.value.title(), callback_data=ChooseProfile(p.name))]
        for p in profiles
        if p.name in system.phase.profiles
    ]
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        intro + render.profile_menu(profiles, system.phase), reply_markup=InlineKeyboardMarkup(buttons)
    )
    return PROFILE


async def choose_profile(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ChooseProfile)
    refusal = context.services.engine.users.profile_refusal(query.data.profile)
    if refusal is not None:
        await query.answer(refusal.message, show_alert=True)
        return PROFILE
    context.user_data["onboarding"] = {"profile": query.data.profile}  # type: ignore[index]
    await query.answer()
    phase = context.services.engine.system.phase
    amounts = _capital_choices(phase.min_capital, phase.max_capital)
    buttons = [[InlineKeyboardButton(render.money(a), callback_data=ChooseCapital(a)) for a in amounts]]
    await query.edit_message_text(
        f"Profile: <b>{query.data.profile.value}</b>\n\n" + render.capital_question(phase),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return CAPITAL


async def choose_capital(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ChooseCapital)
    await query.answer()
    return await _capital_chosen(update, context, query.data.amount)


async def typed_capital(update: Update, context: BotContext) -> int:
    assert update.effective_message is not None
    text = (update.effective_message.text or "").replace("$", "").replace(",", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        await update.effective_message.reply_text("Send the amount as a number, e.g. 250.")
        return CAPITAL
    return await _capital_chosen(update, context, amount)


async def _capital_chosen(update: Update, context: BotContext, amount: Decimal) -> int:
    assert update.effective_message is not None
    refusal = context.services.engine.users.capital_refusal(amount)
    if refusal is not None:
        await update.effective_message.reply_text(refusal.message)
        return CAPITAL
    context.user_data.setdefault("onboarding", {})["capital"] = amount  # type: ignore[union-attr]
    buttons = [[InlineKeyboardButton("Paper trading (simulated money)", callback_data=ChooseMode(AccountMode.PAPER))]]
    if context.services.settings.exchange.live_enabled:
        buttons.append(
            [InlineKeyboardButton("Live (connect exchange keys)", callback_data=ChooseMode(AccountMode.LIVE))]
        )
    await update.effective_message.reply_html(
        f"Capital: <b>{render.money(amount)}</b>\n\nTrade on paper first, or with a live exchange account?",
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return MODE


async def choose_mode(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ChooseMode)
    await query.answer()
    draft = context.user_data.setdefault("onboarding", {})  # type: ignore[union-attr]
    draft["mode"] = query.data.mode
    if "profile" not in draft or "capital" not in draft:
        await query.edit_message_text("That setup expired; send /start to begin again.")
        return END
    buttons = [
        [
            InlineKeyboardButton("Confirm", callback_data=ConfirmOnboarding(True)),
            InlineKeyboardButton("Start over", callback_data=ConfirmOnboarding(False)),
        ]
    ]
    await query.edit_message_text(
        f"<b>Please confirm</b>\nProfile {draft['profile'].value} · capital {render.money(draft['capital'])} · "
        f"{query.data.mode.value} account",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return CONFIRM


async def confirm(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmOnboarding) and update.effective_user is not None
    await query.answer()
    if not query.data.confirmed:
        await query.edit_message_text("Let's start over.")
        return await _ask_profile(update, context, first_time=False)
    draft = context.user_data.pop("onboarding", {})  # type: ignore[union-attr]
    users = context.services.engine.users
    user = await users.get(update.effective_user.id)
    if user is None or "capital" not in draft:
        await query.edit_message_text("That setup expired; send /start to begin again.")
        return END
    try:
        user = await users.onboard(user, draft["profile"], draft["capital"], draft["mode"])
    except ValueError as refusal:
        await query.edit_message_text(str(refusal))
        return END
    follow_up = "" if draft["mode"] is AccountMode.PAPER else "\nNow send /connect to add your exchange API keys."
    await query.edit_message_text(
        "You're set. I'll message you whenever I trade, with the reason.\n"
        "/portfolio any time · /pause stops new trades · /help for everything" + follow_up
    )
    return END


async def cancel(update: Update, context: BotContext) -> int:
    context.user_data.pop("onboarding", None)  # type: ignore[union-attr]
    assert update.effective_message is not None
    await update.effective_message.reply_text("Setup cancelled. /start when you are ready.")
    return END


def _capital_choices(low: Decimal, high: Decimal) -> list[Decimal]:
    middle = (low + high) / 2
    choices = [low, middle.quantize(Decimal(100)) if middle >= 100 else middle, high]
    return sorted(set(choices))


def onboarding_handler() -> ConversationHandler[BotContext]:
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():  # one conversation per user and chat is what we want, not per message
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                INVITE: [MessageHandler(text, invite_code)],
                PROFILE: [CallbackQueryHandler(choose_profile, pattern=ChooseProfile)],
                CAPITAL: [
                    CallbackQueryHandler(choose_capital, pattern=ChooseCapital),
                    MessageHandler(text, typed_capital),
                ],
                MODE: [CallbackQueryHandler(choose_mode, pattern=ChooseMode)],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=ConfirmOnboarding)],
            },
            fallbacks=[CommandHandler("start", start), CommandHandler("cancel", cancel)],
            allow_reentry=True,
            name="onboarding",
        )
