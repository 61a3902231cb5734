"""`/report`: your daily report now (text and equity chart). Admins also have `/report admin` (today's admin
report so far) and `/report weekly` (the strategy and agent review of the last 7 days)."""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler

from bot import report_text
from bot.context import BotContext
from bot.reports import ReportService

log = structlog.get_logger(__name__)

USAGE = "Usage: /report — your day so far. Operators: /report admin · /report weekly"
ADMIN_ONLY = "That report is for the operators only. /report shows yours."


async def report(update: Update, context: BotContext) -> None:
    message, person = update.effective_message, update.effective_user
    assert message is not None and person is not None
    service = context.services.operations.reports
    if service is None:
        await message.reply_text("Reports are not available right now.")
        return
    args = [a.lower() for a in (context.args or [])]
    if not args:
        await _own_report(update, context, service)
        return
    if len(args) > 1 or args[0] not in ("admin", "weekly"):
        await message.reply_text(USAGE)
        return
    if person.id not in context.services.settings.telegram.admin_ids:
        log.warning("admin.refused", user=person.id, command=f"report {args[0]}")
        await message.reply_text(ADMIN_ONLY)
        return
    if args[0] == "admin":
        text = report_text.admin_day(await service.builder.admin_day())
    else:
        text = report_text.weekly_review(await service.builder.weekly_review())
    await context.services.notifier.reply(message, text)


async def _own_report(update: Update, context: BotContext, service: ReportService) -> None:
    message, person = update.effective_message, update.effective_user
    assert message is not None and person is not None
    user = await context.services.engine.users.get(person.id)
    found = await service.user_report(user.id) if user is not None and user.is_onboarded else None
    if found is None:
        await message.reply_text("You have no account yet: send /start to set one up.")
        return
    text, chart = found
    await context.services.notifier.reply(message, text)
    if chart is not None:
        await message.reply_photo(chart, caption="Equity and drawdown, last 7 days", parse_mode=ParseMode.HTML)


def report_handlers() -> list[object]:
    return [CommandHandler("report", report)]
