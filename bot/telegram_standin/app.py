"""`TelegramStandIn`: a local Telegram Bot API server for the real python-telegram-bot client.

Use it in-process (httpx's ASGI transport, no socket) through `configure()` / `request()`, or on
a loopback socket through `serve()`. Controls inject what users do (`send_text`,
`press_button`), observe what the bot did (`calls`, `messages`, `wait_for_messages`,
`wait_idle`) and inject faults (`fail_next`, `block_chat`, `set_conflict`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram.request import HTTPXRequest

from bot.telegram_standin.limits import ApiError, utf16_length
from bot.telegram_standin.methods import BotApiMethods
from bot.telegram_standin.server import serve_asgi
from bot.telegram_standin.state import (
    ChatListener,
    ChatUser,
    MessageStore,
    Notifier,
    RecordedCall,
    SentMessage,
    UpdateQueue,
    UploadedFile,
)

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder

DEFAULT_TOKEN: Final = "123456789:STANDIN-token-for-local-use"
_TYPED_FIELDS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
    }
)


@dataclass(slots=True)
class _Fault:
    method: str
    error: ApiError
    remaining: int
    chat_id: int | None = None  # only calls addressed to this chat, when given

    def applies(self, method: str, params: dict[str, Any]) -> bool:
        if self.method != method.lower():
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


class TelegramStandIn:
    """A Telegram Bot API stand-in speaking the real wire format, with test controls."""

    base_url: ClassVar[str] = "http://telegram.standin/bot"
    base_file_url: ClassVar[str] = "http://telegram.standin/file/bot"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "tradebot_standin_bot",
        bot_name: str = "Tradebot",
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[RecordedCall] = []
        self._changed = Notifier()
        self._updates = UpdateQueue(self._changed)
        self._store = MessageStore(self._changed)
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._methods = BotApiMethods(self.bot_user, self._updates, self._store, self._blocked)
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._cursors: dict[int, int] = {}
        self._query_ids = itertools.count(4_000_000_000_001)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
            ]
        )

    # --- acting as users ---------------------------------------------------------------------

    def send_text(self, user: ChatUser, text: str, chat: int | None = None) -> dict[str, Any]:
        """Queue a message from `user` (in their private chat unless `chat` is given)."""
        chat_json = self._chat_of(user, chat)
        message: dict[str, Any] = {
            "message_id": self._store.next_message_id(chat_json["id"]),
            "from": user.as_json(),
            "chat": chat_json,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        self._store.put_wire(message)
        return self._push("message", message)

    def press_button(self, user: ChatUser, message: SentMessage, callback_data: str) -> dict[str, Any]:
        """Queue a callback query as if `user` pressed the button carrying `callback_data`."""
        wire = self._store.wire(message.chat_id, message.message_id)
        if wire is None or message.deleted:
            raise ValueError(f"message {message.message_id} in chat {message.chat_id} no longer exists")
        if callback_data not in message.callback_data:
            raise ValueError(f"message {message.message_id} has no button with data {callback_data!r}")
        query_id = str(next(self._query_ids))
        self._store.callback_queries[query_id] = message.chat_id
        query = {
            "id": query_id,
            "from": user.as_json(),
            "message": wire,
            "chat_instance": str(abs(message.chat_id) * 7919),
            "data": callback_data,
        }
        return self._push("callback_query", query)

    # --- observing the bot -------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to `chat_id`, oldest first (edits and deletions applied)."""
        return self._store.sent(chat_id)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The recorded calls of one Bot API method (name compared case-insensitively)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not acknowledged yet."""
        return self._updates.pending

    def mark(self, chat_id: int) -> None:
        """Treat every message already in `chat_id` as seen by `wait_for_messages`."""
        self._cursors[chat_id] = len(self._store.sent(chat_id))

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, part of the API
        predicate: Callable[[SentMessage], bool] | None = None,
    ) -> list[SentMessage]:
        """Wait for `count` new bot messages in `chat_id` since the mark, then move the mark past them.

        The mark starts at the chat's first message and advances with every successful wait.
        Raises TimeoutError (listing what did arrive) when they do not come in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            fresh = self._store.sent(chat_id)[self._cursors.get(chat_id, 0) :]
            matching = [m for m in fresh if predicate is None or predicate(m)]
            if len(matching) >= count:
                chosen = matching[:count]
                self._cursors[chat_id] = self._store.sent(chat_id).index(chosen[-1]) + 1
                return chosen
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [m.displayed_text for m in fresh]
                raise TimeoutError(f"expected {count} new message(s) in chat {chat_id}, got {seen}")
            await self._changed.wait(remaining)

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once no bot call (long polls aside) has happened for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            silent_for = now - self._last_activity
            if self._in_flight == 0 and silent_for >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"the bot was still busy after {timeout} s")
            await self._changed.wait(min(max(quiet - silent_for, 0.01), deadline - now))

    def subscribe(self, listener: ChatListener) -> Callable[[], None]:
        """Call `listener` with a `ChatEvent` for every message sent, edited or deleted and every
        answered callback query, as it happens. Returns a function that unsubscribes."""
        return self._store.subscribe(listener)

    # --- faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with this error (429 + retry_after →
        RetryAfter)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.append(_Fault(method.lower(), ApiError(status, description, parameters), times, chat_id))

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        """Make sends to `chat_id` fail with 403 as when the user blocked the bot (or unblock)."""
        if blocked:
            self._blocked.add(chat_id)
        else:
            self._blocked.discard(chat_id)

    def set_conflict(self, conflict: bool) -> None:
        """Make getUpdates answer 409 Conflict, as when another process polls the same token."""
        self._updates.conflict = conflict
        self._changed.notify()

    # --- wiring the real client --------------------------------------------------------------

    def request(self, **kwargs: Any) -> HTTPXRequest:
        """A new PTB `HTTPXRequest` whose httpx client calls this app in-process."""
        transport = httpx.ASGITransport(app=self.app)
        return HTTPXRequest(**kwargs, httpx_kwargs={"transport": transport})

    def configure(self, builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any]) -> Any:
        """Point an `ApplicationBuilder` at this stand-in in-process; returns the builder."""
        return (
            builder.token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
            .request(self.request())
            .get_updates_request(self.request())
        )

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve this app with uvicorn on a loopback socket; yields the base URL ("http://…/bot").

        Downloads are served under the same origin at "/file/bot" (PTB's base_file_url).
        """
        async with serve_asgi(self.app, host, port, on_shutdown=self._updates.release_polls) as origin:
            yield f"{origin}/bot"

    # --- HTTP --------------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        method = request.path_params["method"]
        params, files = await _read_params(request)
        call = RecordedCall(method, params, files)
        self.calls.append(call)
        is_poll = method.lower() == "getupdates"
        self._begin(is_poll)
        try:
            result = await self._answer(method, params, files)
            response: Response = JSONResponse({"ok": True, "result": result})
        except ApiError as error:
            response = _error_response(error)
            result = None
        finally:
            self._end(is_poll)
        call.status = response.status_code
        if is_poll and result:
            self._touch()
        return response

    async def _answer(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        fault = next((fault for fault in self._faults if fault.applies(method, params)), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            raise fault.error
        handler = self._methods.handler(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params, files)

    async def _download(self, request: Request) -> Response:
        upload = self._store.file(request.path_params["file_path"].rsplit("/", 1)[-1])
        if request.path_params["token"] != self.token or upload is None:
            return _error_response(ApiError(404, "Not Found"))
        return Response(upload.content, media_type=upload.content_type)

    def _begin(self, is_poll: bool) -> None:
        if not is_poll:
            self._in_flight += 1
            self._touch()

    def _end(self, is_poll: bool) -> None:
        if not is_poll:
            self._in_flight -= 1
            self._touch()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._changed.notify()

    def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = self._updates.push(kind, payload)
        self._touch()
        return update

    def _chat_of(self, user: ChatUser, chat: int | None) -> dict[str, Any]:
        if chat is not None and chat != user.id:
            return self._store.chat(chat)
        private = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.username:
            private["username"] = user.username
        self._store.remember_chat(private)
        return private


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    raw: dict[str, Any] = dict(request.query_params)
    files: dict[str, UploadedFile] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        raw.update(await request.json())
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    kind = value.content_type or "application/octet-stream"
                    files[key] = UploadedFile(value.filename or key, await value.read(), kind)
                else:
                    raw[key] = value
    return {key: _decode_field(key, value) for key, value in raw.items()}, files


def _decode_field(key: str, value: Any) -> Any:
    """PTB sends strings as-is and JSON-encodes everything else; decode only non-string fields."""
    if key not in _TYPED_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.payload(), status_code=error.status)
