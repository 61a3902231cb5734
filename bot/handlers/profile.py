"""A user's choices: `/risk` (see or change the profile within the phase), `/settings` (which notifications),
and `/why` (the latest decisions with their reasons)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import render
from bot.callbacks import ChangeProfile, ToggleNotification
from bot.context import BotContext
from bot.guards import for_user
from bot.notification_prefs import ALWAYS_SENT, MUTABLE
from bot.replies import edit, reply
from engine.domain.accounts import User
from engine.domain.enums import RiskProfileName


async def risk(update: Update, context: BotContext, user: User) -> None:
    """`/risk` shows the profile's numbers with buttons to switch; `/risk NAME` asks to switch to NAME."""
    args = [a.lower() for a in context.args or []]
    names = [p.value for p in RiskProfileName]
    if len(args) > 1 or (args and args[0] not in names):
        await reply(update, f"Usage: /risk [{'|'.join(names)}] — e.g. /risk conservative.")
        return
    if args:
        await _ask_switch(update, context, user, RiskProfileName(args[0]))
        return
    await reply(update, _risk_text(context, user), _switch_buttons(context, user))


async def change_profile(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ChangeProfile)
    wanted = query.data.profile
    if not query.data.confirmed:
        await query.answer()
        await _ask_switch(update, context, user, wanted)
        return
    try:
        changed = await context.services.engine.users.change_profile(user, wanted)
    except ValueError as refusal:
        await query.answer(str(refusal), show_alert=True)
        return
    await query.answer("Profile changed")
    await edit(
        update,
        f"Your profile is now <b>{wanted.value}</b>. New trades use its limits; open positions keep their stops.\n\n"
        + _risk_text(context, changed),
    )


async def _ask_switch(update: Update, context: BotContext, user: User, wanted: RiskProfileName) -> None:
    if wanted is user.profile:
        await reply(update, f"You already use the {wanted.value} profile. /risk shows its numbers.")
        return
    refusal = context.services.engine.users.profile_refusal(wanted)
    if refusal is not None:
        await reply(update, escape(refusal.message))
        return
    profile = context.services.engine.system.profiles[wanted.value]
    text = f"Switch from {user.profile.value if user.profile else '—'} to <b>{wanted.value}</b>?\n" + escape(
        profile.summary
    )
    buttons = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Yes, switch to {wanted.value}", callback_data=ChangeProfile(wanted, True))]]
    )
    if update.callback_query is not None:
        await edit(update, text, buttons)
    else:
        await reply(update, text, buttons)


def _risk_text(context: BotContext, user: User) -> str:
    system = context.services.engine.system
    current = system.profiles[user.profile.value] if user.profile else None
    lines = [f"<b>Your risk profile: {user.profile.value if user.profile else '—'}</b>"]
    if current is not None:
        lines += [
            escape(current.summary),
            f"Risk per trade {render.pct(current.risk_per_trade, signed=False)} of equity · "
            f"stop {render.pct(current.stop_loss, signed=False)} · "
            f"target {render.pct(current.take_profit, signed=False)}",
            f"Up to {current.max_open_positions} positions, each at most "
            f"{render.pct(current.max_position_size, signed=False)} of equity; "
            f"{render.pct(current.max_total_exposure, signed=False)} invested in total",
            f"Daily loss cap {render.pct(current.daily_loss_limit, signed=False)} · "
            f"drawdown halt {render.pct(current.max_drawdown, signed=False)}",
        ]
    lines.append(f"\nCapital {render.money(user.capital or 0)} · phase {system.phase.name.value}")
    state = render.state_line(user)
    if state:
        lines.append(state)
    return "\n".join(lines)


def _switch_buttons(context: BotContext, user: User) -> InlineKeyboardMarkup | None:
    phase = context.services.engine.system.phase
    rows = [
        [InlineKeyboardButton(f"Switch to {p.value}", callback_data=ChangeProfile(p))]
        for p in RiskProfileName
        if p is not user.profile and p in phase.profiles
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def settings(update: Update, context: BotContext, user: User) -> None:
    """`/settings`: one button per kind of notification, turning it on or off."""
    await reply(update, _settings_text(user), _settings_buttons(user))


async def toggle_notification(update: Update, context: BotContext, user: User) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ToggleNotification)
    kind = query.data.kind
    if kind not in MUTABLE:
        await query.answer("That setting no longer exists.", show_alert=True)
        return
    muted = user.notifications_muted ^ {kind}
    changed = await context.services.engine.users.set_muted(user, frozenset(muted))
    context.services.notifier.forget_user(user.id)
    await query.answer("Off" if kind in muted else "On")
    await edit(update, _settings_text(changed), _settings_buttons(changed))


def _settings_text(user: User) -> str:
    lines = ["<b>Notifications</b>"]
    for kind, label in MUTABLE.items():
        lines.append(f"{'🔕 off' if kind in user.notifications_muted else '🔔 on'} · {escape(label)}")
    lines += ["", escape(ALWAYS_SENT), "Tap a button to switch one."]
    return "\n".join(lines)


def _settings_buttons(user: User) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"{'Turn on' if kind in user.notifications_muted else 'Turn off'} {kind}s",
                callback_data=ToggleNotification(kind),
            )
        ]
        for kind in MUTABLE
    ]
    return InlineKeyboardMarkup(rows)


async def why(update: Update, context: BotContext, user: User) -> None:
    """The latest decisions, accepted or refused, with every reason."""
    decisions = await context.services.engine.portfolio.decisions(user, 5)
    await reply(update, render.decisions(decisions))


def profile_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("risk", for_user(risk)),
        CommandHandler("settings", for_user(settings)),
        CommandHandler("why", for_user(why)),
        CallbackQueryHandler(for_user(change_profile), pattern=ChangeProfile),
        CallbackQueryHandler(for_user(toggle_notification), pattern=ToggleNotification),
    ]
