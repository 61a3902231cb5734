"""`/report`: your daily report now (text and equity chart), in your private chat. Operators also have
`/report admin` (today's admin report so far) and `/report weekly` (the strategy and agent review of the
last 7 days)."""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import CommandHandler

from bot import report_text
from bot.context import BotContext
from bot.guards import REFUSED, for_user, is_admin
from bot.replies import reply
from engine.domain.accounts import User

log = structlog.get_logger(__name__)

USAGE = "Usage: /report — your day so far. Operators: /report admin · /report weekly"
UNAVAILABLE = "Reports are not available right now."
OPERATOR_REPORTS = ("admin", "weekly")


async def report(update: Update, context: BotContext) -> None:
    args = [a.lower() for a in (context.args or [])]
    if not args:
        await own_report(update, context)
        return
    if len(args) > 1 or args[0] not in OPERATOR_REPORTS:
        await reply(update, USAGE)
        return
    if not is_admin(update, context):
        person = update.effective_user
        log.warning("admin.refused", user=person.id if person else None, handler=f"report {args[0]}")
        await reply(update, REFUSED)
        return
    service = context.services.operations.reports
    if service is None:
        await reply(update, UNAVAILABLE)
    elif args[0] == "admin":
        await reply(update, report_text.admin_day(await service.builder.admin_day()))
    else:
        await reply(update, report_text.weekly_review(await service.builder.weekly_review()))


async def _own_report(update: Update, context: BotContext, user: User) -> None:
    service = context.services.operations.reports
    found = await service.user_report(user.id) if service is not None else None
    if found is None:
        await reply(update, UNAVAILABLE)
        return
    text, chart = found
    await reply(update, text)
    if chart is not None and update.effective_chat is not None:
        await update.effective_chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
        await update.effective_chat.send_photo(chart, caption="Equity and drawdown, last 7 days", filename="day.png")


own_report = for_user(_own_report)


def report_handlers() -> list[object]:
    return [CommandHandler("report", report)]
