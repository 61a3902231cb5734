"""Who may run what, and how often: admin-only commands, one private chat per user, per-user rate limits.

Handlers are wrapped once where they are declared (`for_user`, `for_admin`), so no handler can forget a
check: a user command always acts on the caller's own account, fetched by their Telegram id, in their
private chat; an admin command refuses anyone whose Telegram id is not in TELEGRAM_ADMIN_IDS.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from engine.domain.accounts import User

log = structlog.get_logger(__name__)

REFUSED = "This command is for the operators only."
PRIVATE_ONLY = "For your privacy I only talk about your account in a private chat: open a chat with me and ask there."
NOT_ONBOARDED = "You have no account yet: send /start to set one up."

UserHandler = Callable[[Update, BotContext, User], Awaitable[Any]]
AdminHandler = Callable[[Update, BotContext], Awaitable[Any]]
Handler = Callable[[Update, BotContext], Awaitable[Any]]


def is_admin(update: Update, context: BotContext) -> bool:
    person = update.effective_user
    return person is not None and person.id in context.services.settings.telegram.admin_ids


async def answer(update: Update, text: str) -> None:
    """A short answer to a command or to a pressed button (as a pop-up)."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def for_admin(handler: AdminHandler) -> Handler:
    """Run `handler` only for admins; everyone else is refused and nothing changes."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> Any:
        if not is_admin(update, context):
            person = update.effective_user
            log.warning("admin.refused", user=person.id if person else None, handler=handler.__name__)
            await answer(update, REFUSED)
            return None
        return await handler(update, context)

    return guarded


def for_user(handler: UserHandler, *, onboarded: bool = True) -> Handler:
    """Run `handler` with the caller's own account, in their private chat; nudge them to /start otherwise."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> Any:
        chat, person = update.effective_chat, update.effective_user
        if chat is None or person is None:
            return None
        if chat.type != ChatType.PRIVATE:
            await answer(update, PRIVATE_ONLY)
            return None
        user = await context.services.engine.users.get(person.id)
        if user is None or (onboarded and not user.is_onboarded):
            await answer(update, NOT_ONBOARDED)
            return None
        return await handler(update, context, user)

    return guarded


class RateLimiter:
    """At most `per_minute` commands and button presses per person in any 60 seconds (admins exempt).

    The first update over the limit gets one answer saying when to try again; the rest are dropped
    silently until the window frees up, so a flood of taps never turns into a flood of replies.
    """

    def __init__(self, per_minute: int, exempt: frozenset[int], clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._exempt = exempt
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def wait_seconds(self, person_id: int) -> float:
        """0 if this person may act now (and count it), else how long until they may."""
        if person_id in self._exempt:
            return 0.0
        now = self._clock()
        seen = self._seen.setdefault(person_id, deque())
        while seen and now - seen[0] >= 60:
            seen.popleft()
        if len(seen) < self._per_minute:
            seen.append(now)
            self._warned.pop(person_id, None)
            return 0.0
        return 60 - (now - seen[0])

    def should_warn(self, person_id: int) -> bool:
        """True once per blocked spell, so the person hears it once."""
        if person_id in self._warned:
            return False
        self._warned[person_id] = self._clock()
        return True

    async def check(self, update: object, context: BotContext) -> None:
        """A handler in the first group: stops the update here when its sender is over the limit."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        if update.message is None and update.callback_query is None:
            return
        person_id = update.effective_user.id
        wait = self.wait_seconds(person_id)
        if wait <= 0:
            return
        log.info("telegram.rate_limited", user=person_id, wait_seconds=round(wait, 1))
        if self.should_warn(person_id):
            await answer(update, f"You are sending commands faster than I can take them. Try again in {wait:.0f} s.")
        elif update.callback_query is not None:
            await update.callback_query.answer()
        raise ApplicationHandlerStop
