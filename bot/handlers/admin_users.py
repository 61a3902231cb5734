"""Operators and users: `/users`, `/user ID`, `/approve ID`, `/broadcast TEXT`. Refused to anyone who is not
an admin (TELEGRAM_ADMIN_IDS)."""

from __future__ import annotations

from collections import Counter
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import render_admin
from bot.callbacks import ConfirmBroadcast, UsersPage
from bot.context import BotContext
from bot.guards import for_admin
from bot.replies import edit, reply
from engine.domain.accounts import User
from engine.domain.enums import UserStatus
from engine.domain.ids import UserId

PAGE_SIZE = 30
AUDIENCES = ("all", "pending", "active", "paused")
BROADCAST_TO = frozenset({UserStatus.APPROVED, UserStatus.ACTIVE})


def _matches(user: User, audience: str) -> bool:
    if audience == "paused":
        return user.is_paused
    return audience == "all" or user.status.value == audience


async def users(update: Update, context: BotContext) -> None:
    """`/users [pending|active|paused|all]`: counts, then the list a page at a time."""
    args = [a.lower() for a in context.args or []]
    if len(args) > 1 or (args and args[0] not in AUDIENCES):
        await reply(update, f"Usage: /users [{'|'.join(AUDIENCES)}]")
        return
    await _show_page(update, context, args[0] if args else "all", 0)


async def users_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, UsersPage)
    await query.answer()
    await _show_page(update, context, query.data.audience, query.data.page)


async def _show_page(update: Update, context: BotContext, audience: str, page: int) -> None:
    everyone = await context.services.engine.users.list()
    chosen = [u for u in everyone if _matches(u, audience)]
    pages = (len(chosen) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), max(pages - 1, 0))
    counts = Counter(u.status.value for u in everyone)
    counts["paused"] = sum(1 for u in everyone if u.is_paused)
    text = render_admin.users_page(chosen[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], audience, page, pages, counts)
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ Previous", callback_data=UsersPage(audience, page - 1)))
    if page + 1 < pages:
        buttons.append(InlineKeyboardButton("Next ▶", callback_data=UsersPage(audience, page + 1)))
    markup = InlineKeyboardMarkup([buttons]) if buttons else None
    await (edit(update, text, markup) if update.callback_query else reply(update, text, markup))


def _user_id(args: list[str]) -> UserId | None:
    if len(args) != 1:
        return None
    text = args[0].lstrip("#")
    return UserId(int(text)) if text.isdigit() else None


async def user(update: Update, context: BotContext) -> None:
    """`/user ID`: one user in detail (the id from /users or an access request)."""
    user_id = _user_id(context.args or [])
    if user_id is None:
        await reply(update, "Usage: /user ID — e.g. /user 12 (ids are in /users).")
        return
    engine = context.services.engine
    found = await engine.users.get_by_id(user_id)
    if found is None:
        await reply(update, f"There is no user #{user_id}.")
        return
    account = await engine.users.account(found)
    view = await engine.portfolio.value(found) if account is not None else None
    count = len(view.positions) if view else 0
    await reply(update, render_admin.user_detail(found, account, view, count))


async def approve(update: Update, context: BotContext) -> None:
    """`/approve ID`: let a waiting person in, and tell them."""
    user_id = _user_id(context.args or [])
    if user_id is None:
        await reply(update, "Usage: /approve ID — e.g. /approve 12 (the id is in the access request).")
        return
    assert update.effective_user is not None
    engine = context.services.engine
    before = await engine.users.get_by_id(user_id)
    if before is None:
        await reply(update, f"There is no user #{user_id}.")
        return
    if before.status not in (UserStatus.PENDING, UserStatus.BLOCKED):
        await reply(update, f"#{user_id} {escape(before.name)} is already in ({before.status.value}).")
        return
    await engine.users.approve(user_id, actor=f"telegram:{update.effective_user.id}")
    await context.services.notifier.to_user(
        user_id, "<b>You're in!</b> The operators approved your access. Send /start to set up your account.", "access"
    )
    await reply(update, f"Approved #{user_id} {escape(before.name)}; they have been told to send /start.")


async def broadcast(update: Update, context: BotContext) -> None:
    """`/broadcast TEXT`: show who would get it, then send after a confirmation."""
    message = update.effective_message
    assert message is not None
    words = (message.text or "").split(maxsplit=1)
    text = words[1].strip() if len(words) == 2 else ""
    if not text:
        await reply(update, "Usage: /broadcast TEXT — e.g. /broadcast Exchange maintenance, back by 14:00 UTC.")
        return
    recipients = [u for u in await context.services.engine.users.list() if u.status in BROADCAST_TO]
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(f"Send to {len(recipients)} user(s)", callback_data=ConfirmBroadcast(text, True)),
                InlineKeyboardButton("Cancel", callback_data=ConfirmBroadcast(text, False)),
            ]
        ]
    )
    await reply(update, f"{_broadcast_text(text)}\n\n<i>Send this to {len(recipients)} user(s)?</i>", buttons)


async def confirm_broadcast(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.data, ConfirmBroadcast)
    await query.answer()
    if not query.data.confirmed:
        await edit(update, "Not sent.")
        return
    recipients = [u for u in await context.services.engine.users.list() if u.status in BROADCAST_TO]
    notifier = context.services.notifier
    for recipient in recipients:
        notifier.enqueue(recipient.chat_id, _broadcast_text(query.data.text), "broadcast")
    await notifier.flush()
    await edit(
        update,
        f"Queued for {len(recipients)} user(s); it goes out within Telegram's limits (about 30 messages a second).",
    )


def _broadcast_text(text: str) -> str:
    return f"<b>From the operators</b>\n{escape(text)}"


def admin_user_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    return [
        CommandHandler("users", for_admin(users)),
        CommandHandler("user", for_admin(user)),
        CommandHandler("approve", for_admin(approve)),
        CommandHandler("broadcast", for_admin(broadcast)),
        CallbackQueryHandler(for_admin(users_page), pattern=UsersPage),
        CallbackQueryHandler(for_admin(confirm_broadcast), pattern=ConfirmBroadcast),
    ]
