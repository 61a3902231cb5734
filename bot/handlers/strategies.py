"""Admins turn strategies on and off: `/strategies` lists them with their state, `/strategy NAME on|off`
switches one (also from the buttons under the list). Refused to anyone who is not an admin."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.guards import for_admin
from engine.strategy_control import StrategyStatus, UnknownStrategy

USAGE = "Usage: /strategy NAME on|off — e.g. /strategy rsi_reversion off. /strategies lists them."
SWITCHES = {"on": True, "off": False, "enable": True, "disable": False}


@dataclass(frozen=True, slots=True)
class SwitchStrategy:
    """A button under /strategies: turn `name` on or off."""

    name: str
    enabled: bool


async def list_strategies(update: Update, context: BotContext) -> None:
    """`/strategies`: every strategy, on or off, with its followers."""
    assert update.effective_message is not None
    statuses = await context.services.engine.strategy_control.list()
    await update.effective_message.reply_html(render_strategies(statuses), reply_markup=_buttons(statuses))


async def switch_strategy(update: Update, context: BotContext) -> None:
    """`/strategy NAME on|off`."""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    if len(args) != 2 or args[1].lower() not in SWITCHES:
        await message.reply_text(USAGE)
        return
    await message.reply_html(await _switch(update, context, args[0], SWITCHES[args[1].lower()]))


async def press_switch(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, SwitchStrategy)
    text = await _switch(update, context, query.data.name, query.data.enabled)
    await query.answer()
    statuses = await context.services.engine.strategy_control.list()
    await query.edit_message_text(
        f"{text}\n\n{render_strategies(statuses)}", parse_mode=ParseMode.HTML, reply_markup=_buttons(statuses)
    )


async def _switch(update: Update, context: BotContext, name: str, enabled: bool) -> str:
    assert update.effective_user is not None
    control = context.services.engine.strategy_control
    try:
        status = await control.set_enabled(name.lower(), enabled, actor=f"telegram:{update.effective_user.id}")
    except UnknownStrategy as error:
        return f"There is no strategy {escape(error.name)}. Known: {escape(', '.join(error.known))}."
    if status.enabled:
        return f"<b>{escape(status.id)}</b> is on: its signals reach its {status.followers} follower(s) again."
    return f"<b>{escape(status.id)}</b> is off: it sends no new signals. Open positions keep their stops and exits."


def render_strategies(statuses: list[StrategyStatus]) -> str:
    lines = ["<b>Strategies</b>"]
    for s in statuses:
        state = "🟢 on" if s.enabled else "⚪ off"
        lines.append(f"\n{state} · <b>{escape(s.id)}</b> ({escape(s.kind)}) · {s.followers} follower(s)")
        lines.append(f"  {escape(s.description)}")
        if s.note:
            lines.append(f"  <i>{escape(s.note)}</i>")
    lines.append("\n/strategy NAME on|off, or the buttons below.")
    return "\n".join(lines)


def _buttons(statuses: list[StrategyStatus]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"Turn {'off' if s.enabled else 'on'} {s.id}", callback_data=SwitchStrategy(s.id, not s.enabled)
            )
        ]
        for s in statuses
    ]
    return InlineKeyboardMarkup(rows)


def strategy_handlers() -> list[object]:
    return [
        CommandHandler("strategies", for_admin(list_strategies)),
        CommandHandler("strategy", for_admin(switch_strategy)),
        CallbackQueryHandler(for_admin(press_switch), pattern=SwitchStrategy),
    ]
