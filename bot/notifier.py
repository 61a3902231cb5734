"""Messages to users and admins. Engine events are turned into text, written to the outbox, and delivered by
one worker that honours flood control, retries through outages, and splits long texts. Nothing here can
raise into trading: a failed send is logged and retried, never propagated."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import structlog
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import render, risk_messages
from bot.message_split import split_message
from bot.metrics import count_send_failure
from bot.notification_prefs import wants
from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.accounts import User
from engine.domain.events import (
    CooldownStarted,
    EntryRefused,
    OrderFailed,
    PhaseChanged,
    TradeFilled,
    TradingStateChanged,
)
from engine.domain.ids import UserId
from engine.ports import OutboxMessage, UnitOfWorkFactory

log = structlog.get_logger(__name__)

QUIET_REFUSALS = frozenset({"user_paused", "duplicate_signal", "already_in_position"})
MAX_ATTEMPTS = 20
CAPTION_LIMIT = 1024  # Telegram's limit for a picture's caption


class Notifier:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, admin_chat_id: int | None) -> None:
        self._uow = uow
        self._clock = clock
        self._admin_chat_id = admin_chat_id
        self._bot: Bot | None = None
        self._buffer: list[OutboxMessage] = []
        self._wake = asyncio.Event()
        self._recipients: dict[UserId, User] = {}
        self.sent = 0
        self.failures = 0

    def attach(self, bot: Bot) -> None:
        self._bot = bot

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(TradeFilled, self._on_trade)
        bus.subscribe(OrderFailed, self._on_order_failed)
        bus.subscribe(EntryRefused, self._on_refused)
        bus.subscribe(TradingStateChanged, self._on_state)
        bus.subscribe(CooldownStarted, self._on_cooldown)
        bus.subscribe(PhaseChanged, self._on_phase)

    # --- enqueueing (never blocks on Telegram) ----------------------------------------------------

    def enqueue(self, chat_id: int, text: str, kind: str = "message") -> None:
        for part in split_message(text):
            self._buffer.append(OutboxMessage(chat_id=chat_id, kind=kind, text=part, created_at=self._clock.now()))
        self._wake.set()

    def enqueue_photo(self, chat_id: int, photo: bytes, caption: str, kind: str = "photo") -> None:
        """A picture with its caption (a caption longer than Telegram allows continues in text messages)."""
        first, *rest = split_message(caption, CAPTION_LIMIT)
        now = self._clock.now()
        self._buffer.append(OutboxMessage(chat_id=chat_id, kind=kind, text=first, created_at=now, photo=photo))
        for part in split_message("\n".join(rest)) if rest else []:
            self._buffer.append(OutboxMessage(chat_id=chat_id, kind=kind, text=part, created_at=now))
        self._wake.set()

    async def send_now(self, chat_id: int, text: str) -> bool:
        """Send at once, bypassing the outbox (for alerts while the database is down); False if it failed."""
        if self._bot is None:
            return False
        try:
            for part in split_message(text):
                await self._bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
        except TelegramError as error:
            self.failures += 1
            count_send_failure("direct")
            log.warning("notifier.direct_send_failed", chat_id=chat_id, error=str(error))
            return False
        self.sent += 1
        return True

    @property
    def admin_chat_id(self) -> int | None:
        return self._admin_chat_id

    async def to_user(self, user_id: UserId, text: str, kind: str) -> None:
        """Queue `text` for the user's own chat, unless they turned this kind of notification off."""
        user = await self._recipient(user_id)
        if user is not None and wants(user, kind):
            self.enqueue(user.chat_id, text, kind)

    def forget_user(self, user_id: UserId) -> None:
        """The user's settings changed: read them again before the next notification."""
        self._recipients.pop(user_id, None)

    def to_admins(self, text: str, kind: str = "admin") -> None:
        if self._admin_chat_id is None:
            log.warning("notifier.no_admin_chat", kind=kind, text=text[:200])
            return
        self.enqueue(self._admin_chat_id, text, kind)

    async def admin_access_request(self, user: User) -> None:
        self.to_admins(
            f"<b>Access request</b>\n{render.escape(user.name)} (Telegram id {user.telegram_id}) asked to join.\n"
            f"/approve {user.id} to let them in.",
            kind="access_request",
        )

    # --- delivery --------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver the outbox until `stop`; survives any Telegram failure."""
        while not stop.is_set():
            try:
                await self.flush()
                delivered = await self._deliver_pending()
            except Exception as error:  # the database is away: keep the buffer, try again shortly
                log.warning("notifier.outbox_unavailable", error=f"{type(error).__name__}: {error}"[:300])
                delivered = 0
            if not delivered:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def flush(self) -> None:
        """Write buffered messages to the outbox."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            async with self._uow() as uow:
                await uow.notifications.add_many(batch)
                await uow.commit()
        except BaseException:
            self._buffer = batch + self._buffer  # nothing is lost while the database is away
            raise

    async def drain(self, grace_seconds: float = 3.0) -> None:
        """On shutdown: persist what is buffered and try to send it briefly; the rest waits in the outbox."""
        await self.flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._deliver_pending(), timeout=grace_seconds)

    async def _deliver_pending(self) -> int:
        if self._bot is None:
            return 0
        async with self._uow() as uow:
            pending = await uow.notifications.pending(limit=30)
        sent = 0
        for message in pending:
            outcome = await self._send(message)
            if outcome == "retry_later":
                break
            sent += 1
        return sent

    async def _send(self, message: OutboxMessage) -> str:
        assert self._bot is not None and message.id is not None
        try:
            await self._deliver(message)
        except RetryAfter as error:
            await self._failed(message, f"flood control: {error}", give_up=False)
            await asyncio.sleep(_seconds(error.retry_after))
            return "retry_later"
        except (Forbidden, BadRequest) as error:  # blocked the bot, chat gone, or unsendable: drop with the reason
            await self._failed(message, str(error), give_up=True)
            return "dropped"
        except (NetworkError, TelegramError) as error:  # outage: keep it, try again later
            await self._failed(message, str(error), give_up=message.attempts + 1 >= MAX_ATTEMPTS)
            await asyncio.sleep(min(30.0, 0.5 * 2 ** min(message.attempts, 6)))
            return "retry_later"
        async with self._uow() as uow:
            await uow.notifications.mark_sent([message.id], self._clock.now())
            await uow.commit()
        self.sent += 1
        return "sent"

    async def _deliver(self, message: OutboxMessage) -> None:
        assert self._bot is not None
        if message.photo is not None:
            await self._bot.send_photo(message.chat_id, message.photo, caption=message.text, parse_mode=ParseMode.HTML)
        else:
            await self._bot.send_message(message.chat_id, message.text, parse_mode=ParseMode.HTML)

    async def _failed(self, message: OutboxMessage, error: str, *, give_up: bool) -> None:
        self.failures += 1
        count_send_failure(message.kind)
        log.warning("notifier.send_failed", chat_id=message.chat_id, kind=message.kind, error=error, give_up=give_up)
        assert message.id is not None
        async with self._uow() as uow:
            await uow.notifications.mark_failed(message.id, error, self._clock.now() if give_up else None)
            await uow.commit()

    # --- events ----------------------------------------------------------------------------------

    async def _on_trade(self, event: TradeFilled) -> None:
        kind = "exit" if event.purpose.is_exit else "trade"
        await self.to_user(event.user_id, render.trade_filled(event), kind)

    async def _on_order_failed(self, event: OrderFailed) -> None:
        await self.to_user(event.user_id, render.order_failed(event), "order_failed")

    async def _on_refused(self, event: EntryRefused) -> None:
        reasons = [r.message for r in event.refusals if r.code not in QUIET_REFUSALS]
        if reasons and len(reasons) == len(event.refusals):
            await self.to_user(event.user_id, render.refusal_notice(event.symbol, event.strategy, reasons), "refusal")

    async def _on_state(self, event: TradingStateChanged) -> None:
        if event.user_id is None:
            self.to_admins(risk_messages.system_state_changed(event), "system_state")
        else:
            await self.to_user(event.user_id, risk_messages.user_state_changed(event), "breaker")

    async def _on_cooldown(self, event: CooldownStarted) -> None:
        await self.to_user(event.user_id, risk_messages.cooldown_started(event), "breaker")

    async def _on_phase(self, event: PhaseChanged) -> None:
        self.to_admins(risk_messages.phase_changed_for_admins(event), "phase")
        for user_id, refusals in event.conflicts:
            await self.to_user(user_id, risk_messages.phase_conflict(event, refusals), "phase")

    async def _recipient(self, user_id: UserId) -> User | None:
        if user_id not in self._recipients:
            async with self._uow() as uow:
                user = await uow.users.get(user_id)
            if user is None:
                return None
            self._recipients[user_id] = user
        return self._recipients[user_id]


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
