"""Operators and the whole system: `/status`, `/pause_all`, `/resume_all`, `/close_all` (asks first),
`/phase`, `/errors`. Refused to anyone who is not an admin (TELEGRAM_ADMIN_IDS)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import render_admin
from bot.callbacks import ConfirmEveryoneClose, ConfirmPhase
from bot.context import BotContext
from bot.guards import for_admin
from bot.replies import edit, reply
from risk.phases import PhaseName

ERRORS_DEFAULT, ERRORS_MAX = 10, 50


def _actor(update: Update) -> str:
    assert update.effective_user is not None
    return f"telegram:{update.effective_user.id}"


async def status(update: Update, context: BotContext) -> None:
    """Health of each component, users, open positions, today's orders and their success rate, LLM spend."""
    services = context.services
    assert services.engine.status is not None
    report = await services.engine.status.read()
    health = await services.health.check()
    alerts = await services.operations.alerts.open_alerts()
    llm = services.settings.anthropic
    budget = llm.daily_budget_usd if llm.is_enabled else None
    await reply(update, render_admin.status(report, health, budget, alerts))


async def pause_all(update: Update, context: BotContext) -> None:
    """`/pause_all [reason]`: no new entries for anyone; stops and exits keep working."""
    system = context.services.engine.system
    reason = " ".join(context.args or [])  # empty: the engine's own wording
    if not await system.pause_all(_actor(update), reason):
        await reply(update, f"Trading is already paused for everyone ({escape(system.state_reason)}).")
        return
    await reply(
        update,
        "⏸ Paused for everyone: no new entries; stops, targets and exits keep working.\n"
        "/resume_all to undo · /close_all to also sell every position · /broadcast to tell users.",
    )


async def resume_all(update: Update, context: BotContext) -> None:
    """`/resume_all`: trading active again for everyone (users' own pauses and breakers still apply)."""
    if not await context.services.engine.system.resume_all(_actor(update)):
        await reply(update, "Trading is already on for everyone.")
        return
    await reply(update, "▶ Trading is on again for everyone. Users who paused themselves stay paused.")


async def close_all(update: Update, context: BotContext) -> None:
    """`/close_all`: sell every user's positions, after a confirmation (pausing everyone first is offered)."""
    closer = context.services.engine.closer
    assert closer is not None
    status_report = context.services.engine.status
    assert status_report is not None
    held = (await status_report.read()).open_positions
    if held == 0:
        await reply(update, "No user holds an open position.")
        return
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Pause everyone, then sell all", callback_data=ConfirmEveryoneClose(True, True))],
            [InlineKeyboardButton("Sell all, keep trading on", callback_data=ConfirmEveryoneClose(True, False))],
            [InlineKeyboardButton("Cancel", callback_data=ConfirmEveryoneClose(False))],
        ]
    )
    await reply(update, f"Sell all {held} open position(s) of every user at market? This cannot be undone.", buttons)


async def confirm_close_all(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmEveryoneClose)
    await query.answer()
    if not query.data.confirmed:
        await edit(update, "Nothing was sold.")
        return
    engine = context.services.engine
    assert engine.closer is not None
    if query.data.pause_first:
        await engine.system.pause_all(_actor(update), "the operators closed every position")
    await edit(update, "Selling every open position…")
    result = await engine.closer.close_everyone(actor=_actor(update), reason="the operators closed every position")
    failed = f" {len(result.failed)} were refused: see /errors." if result.failed else ""
    paused = " Everyone is paused: /resume_all when ready." if query.data.pause_first else ""
    await reply(update, f"Sent {len(result.orders)} sell order(s) for {result.requested} position(s).{failed}{paused}")


async def phase(update: Update, context: BotContext) -> None:
    """`/phase` shows the phases; `/phase NAME` moves to NAME after a confirmation."""
    system = context.services.engine.system
    args = [a.lower() for a in context.args or []]
    names = [p.value for p in PhaseName]
    if len(args) > 1 or (args and args[0] not in names):
        await reply(update, f"Usage: /phase [{'|'.join(names)}]")
        return
    if not args:
        await reply(update, render_admin.phases(system.phase, system.phases))
        return
    wanted = system.phases[PhaseName(args[0])]
    if wanted.name is system.phase.name:
        await reply(update, f"The phase is already {wanted.name.value}.")
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"Move to {wanted.name.value}", callback_data=ConfirmPhase(wanted.name.value, True)
                ),
                InlineKeyboardButton("Cancel", callback_data=ConfirmPhase(wanted.name.value, False)),
            ]
        ]
    )
    await reply(update, f"Move from {system.phase.name.value} to <b>{wanted.name.value}</b>?", buttons)


async def confirm_phase(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmPhase)
    await query.answer()
    if not query.data.confirmed:
        await edit(update, "The phase is unchanged.")
        return
    system = context.services.engine.system
    change = await system.set_phase(PhaseName(query.data.phase), actor=_actor(update))
    await edit(update, render_admin.phase_change(change) + "\n\n" + render_admin.phases(system.phase, system.phases))


async def errors(update: Update, context: BotContext) -> None:
    """`/errors [n]`: the latest processing errors (10 unless told, 50 at most)."""
    args = context.args or []
    if len(args) > 1 or (args and not (args[0].isdigit() and 1 <= int(args[0]) <= ERRORS_MAX)):
        await reply(update, f"Usage: /errors [n] — n from 1 to {ERRORS_MAX}.")
        return
    count = int(args[0]) if args else ERRORS_DEFAULT
    await reply(update, render_admin.errors(await context.services.engine.recent_errors(count)))


def admin_system_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("status", for_admin(status)),
        CommandHandler("pause_all", for_admin(pause_all)),
        CommandHandler("resume_all", for_admin(resume_all)),
        CommandHandler("close_all", for_admin(close_all)),
        CommandHandler("phase", for_admin(phase)),
        CommandHandler("errors", for_admin(errors)),
        CallbackQueryHandler(for_admin(confirm_close_all), pattern=ConfirmEveryoneClose),
        CallbackQueryHandler(for_admin(confirm_phase), pattern=ConfirmPhase),
    ]
