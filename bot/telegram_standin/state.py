"""What the stand-in remembers: pending updates, messages per chat, uploaded files, calls."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from bot.telegram_standin.limits import ApiError, InlineKeyboard, callback_data_of, keyboard_rows

CONFLICT_DESCRIPTION: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


@dataclass(frozen=True, slots=True)
class ChatUser:
    """A person talking to the bot; their private chat has the same id."""

    id: int
    first_name: str
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the Telegram `User` object for this person."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        return user


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """A previous state of an edited message."""

    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None

    @property
    def keyboard(self) -> InlineKeyboard:
        """Inline keyboard rows of (text, callback_data or url)."""
        return keyboard_rows(self.reply_markup)


@dataclass(slots=True, eq=False)
class SentMessage:
    """A message the bot sent, kept current: edits update it and push the old state to history."""

    message_id: int
    chat_id: int
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    displayed_text: str
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    reply_to_message_id: int | None = None
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False

    @property
    def edited(self) -> bool:
        """Whether the bot edited this message at least once."""
        return bool(self.history)

    @property
    def body(self) -> str | None:
        """The text, or the caption for media, as the bot sent it (markup included)."""
        return self.text if self.text is not None else self.caption

    @property
    def keyboard(self) -> InlineKeyboard:
        """Inline keyboard rows of (text, callback_data or url), as currently shown."""
        return keyboard_rows(self.reply_markup)

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of every callback button currently shown, exactly as the bot sent it."""
        return callback_data_of(self.reply_markup)

    def snapshot(self) -> MessageVersion:
        """Return the current state as a history entry."""
        return MessageVersion(self.text, self.caption, self.parse_mode, self.reply_markup)


@dataclass(slots=True)
class RecordedCall:
    """One Bot API request: decoded parameters, uploaded files, and the HTTP status answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None


class ChatEventKind(StrEnum):
    SENT = "sent"
    EDITED = "edited"
    DELETED = "deleted"
    CALLBACK_ANSWERED = "callback_answered"


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """Something a person in `chat_id` would notice: a new, edited or deleted message, a toast."""

    kind: ChatEventKind
    chat_id: int
    message: SentMessage | None = None
    text: str | None = None


ChatListener = Callable[[ChatEvent], None]


class Notifier:
    """Wakes every waiter on `notify()`; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, seconds: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, max(seconds, 0))
        finally:
            self._waiters.discard(waiter)


class UpdateQueue:
    """Updates waiting for getUpdates, with Telegram's offset and long-poll semantics."""

    def __init__(self, changed: Notifier) -> None:
        self._changed = changed
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._poll_generation = 0
        self._release_generation = 0
        self.conflict = False

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Updates not yet acknowledged by an offset."""
        return list(self._updates)

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self._changed.notify()
        return update

    def drop_pending(self) -> None:
        self._updates.clear()

    def release_polls(self) -> None:
        """Make pending long polls answer now (used when the HTTP server shuts down)."""
        self._release_generation += 1
        self._changed.notify()

    async def fetch(self, offset: int, limit: int, poll_seconds: float, allowed: list[str] | None) -> list[Any]:
        """Acknowledge updates below `offset`, then wait up to `poll_seconds` for any to deliver."""
        if self.conflict:
            raise ApiError(409, CONFLICT_DESCRIPTION)
        self._acknowledge(offset)
        self._poll_generation += 1
        poll, release = self._poll_generation, self._release_generation
        self._changed.notify()  # an older poll still waiting is now terminated by this one
        deadline = time.monotonic() + poll_seconds
        while True:
            if poll != self._poll_generation or self.conflict:
                raise ApiError(409, CONFLICT_DESCRIPTION)
            ready = [update for update in self._updates if _is_allowed(update, allowed)][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or release != self._release_generation:
                return ready
            await self._changed.wait(remaining)

    def _acknowledge(self, offset: int) -> None:
        if offset < 0:
            del self._updates[:offset]
        elif offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]


def _is_allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
    return not allowed or any(kind in update for kind in allowed)


class MessageStore:
    """Every message in every chat (as Telegram JSON) plus the bot's messages as `SentMessage`s."""

    def __init__(self, changed: Notifier) -> None:
        self._changed = changed
        self._chats: dict[int, dict[str, Any]] = {}
        self._wire: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: dict[int, list[SentMessage]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._file_ids = itertools.count(1)
        self._listeners: list[ChatListener] = []
        self.callback_queries: dict[str, int] = {}

    def chat(self, chat_id: int) -> dict[str, Any]:
        """Return the `Chat` object for an id; unknown ids get a plausible private chat or group."""
        if chat_id not in self._chats:
            self._chats[chat_id] = _infer_chat(chat_id)
        return self._chats[chat_id]

    def remember_chat(self, chat: dict[str, Any]) -> None:
        self._chats[chat["id"]] = chat

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def wire(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self._wire.get((chat_id, message_id))

    def put_wire(self, message: dict[str, Any]) -> None:
        self._wire[(message["chat"]["id"], message["message_id"])] = message

    def forget_wire(self, chat_id: int, message_id: int) -> None:
        self._wire.pop((chat_id, message_id), None)

    def add_sent(self, sent: SentMessage, wire: dict[str, Any]) -> None:
        self.put_wire(wire)
        self._sent.setdefault(sent.chat_id, []).append(sent)
        self.emit(ChatEvent(ChatEventKind.SENT, sent.chat_id, sent))

    def sent(self, chat_id: int) -> list[SentMessage]:
        return list(self._sent.get(chat_id, []))

    def find_sent(self, chat_id: int, message_id: int) -> SentMessage | None:
        return next((m for m in self._sent.get(chat_id, []) if m.message_id == message_id), None)

    def store_file(self, upload: UploadedFile) -> str:
        file_id = f"standin-file-{next(self._file_ids)}"
        self._files[file_id] = upload
        return file_id

    def file(self, file_id: str) -> UploadedFile | None:
        return self._files.get(file_id)

    def subscribe(self, listener: ChatListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: ChatEvent) -> None:
        for listener in list(self._listeners):
            listener(event)
        self._changed.notify()


def _infer_chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
    return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
