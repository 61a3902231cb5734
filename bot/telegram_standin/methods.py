"""The Bot API methods the stand-in answers, shaped as Telegram documents them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from bot.telegram_standin.limits import (
    BLOCKED_DESCRIPTIONS,
    CHAT_ACTIONS,
    NOT_MODIFIED,
    ApiError,
    FormattedText,
    bad_request,
    check_caption,
    check_message_text,
    read_reply_markup,
)
from bot.telegram_standin.media import image_size
from bot.telegram_standin.state import (
    ChatEvent,
    ChatEventKind,
    MessageStore,
    SentMessage,
    UpdateQueue,
    UploadedFile,
)

Params = dict[str, Any]
Files = dict[str, UploadedFile]
Handler = Callable[[Params, Files], Awaitable[Any]]

_METHOD_NAMES: Final = (
    "getMe",
    "logOut",
    "close",
    "deleteWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChat",
    "getFile",
)
_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z])([A-Z])")
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_NO_GIFTS: Final = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


class BotApiMethods:
    """Bot API methods; `sendMessage` is answered by `send_message`, and so on.

    Names are matched case-insensitively, as Telegram does.
    """

    def __init__(self, bot_user: dict[str, Any], updates: UpdateQueue, store: MessageStore, blocked: set[int]) -> None:
        self._bot_user = bot_user
        self._updates = updates
        self._store = store
        self._blocked = blocked
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._table: dict[str, Handler] = {
            name.lower(): getattr(self, _CAMEL_HUMP.sub(r"_\1", name).lower()) for name in _METHOD_NAMES
        }

    def handler(self, method: str) -> Handler | None:
        """Return the handler for a method name, or None when the stand-in does not know it."""
        return self._table.get(method.lower())

    # --- bot and updates ---------------------------------------------------------------------

    async def get_me(self, params: Params, files: Files) -> Any:
        return self._bot_user

    async def log_out(self, params: Params, files: Files) -> Any:
        return True

    async def close(self, params: Params, files: Files) -> Any:
        return True

    async def delete_webhook(self, params: Params, files: Files) -> Any:
        if params.get("drop_pending_updates") is True:
            self._updates.drop_pending()
        return True

    async def get_webhook_info(self, params: Params, files: Files) -> Any:
        pending = len(self._updates.pending)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    async def get_updates(self, params: Params, files: Files) -> Any:
        allowed = params.get("allowed_updates")
        return await self._updates.fetch(
            offset=_int(params, "offset", 0),
            limit=min(max(_int(params, "limit", 100), 1), 100),
            poll_seconds=max(float(params.get("timeout") or 0), 0.0),
            allowed=allowed if isinstance(allowed, list) else None,
        )

    # --- sending -----------------------------------------------------------------------------

    async def send_message(self, params: Params, files: Files) -> Any:
        chat = self._target_chat(params)
        text = str(params.get("text", ""))
        formatted = check_message_text(text, params.get("parse_mode"), params.get("entities"))
        markup = read_reply_markup(params.get("reply_markup"))
        wire = self._new_message(chat, params)
        wire["text"] = formatted.text
        _set_entities(wire, "entities", formatted)
        _set_markup(wire, markup)
        sent = SentMessage(
            message_id=wire["message_id"],
            chat_id=chat["id"],
            text=text,
            caption=None,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            displayed_text=formatted.text,
            reply_to_message_id=wire.get("reply_to_message", {}).get("message_id"),
        )
        self._store.add_sent(sent, wire)
        return wire

    async def send_photo(self, params: Params, files: Files) -> Any:
        chat = self._target_chat(params)
        upload = self._input_file(params, files, "photo")
        if image_size(upload.content) is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._send_media(chat, params, upload, "photo")

    async def send_document(self, params: Params, files: Files) -> Any:
        chat = self._target_chat(params)
        upload = self._input_file(params, files, "document")
        return self._send_media(chat, params, upload, "document")

    async def send_chat_action(self, params: Params, files: Files) -> Any:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- editing -----------------------------------------------------------------------------

    async def edit_message_text(self, params: Params, files: Files) -> Any:
        sent, wire = self._editable(params)
        if sent.text is None:
            raise bad_request("there is no text in the message to edit")
        text = str(params.get("text", ""))
        formatted = check_message_text(text, params.get("parse_mode"), params.get("entities"))
        markup = read_reply_markup(params.get("reply_markup"))
        if _same(wire, "text", "entities", formatted) and wire.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        sent.history.append(sent.snapshot())
        sent.text, sent.parse_mode, sent.reply_markup = text, params.get("parse_mode"), markup
        sent.displayed_text = formatted.text
        wire["text"] = formatted.text
        _set_entities(wire, "entities", formatted)
        return self._finish_edit(sent, wire, markup)

    async def edit_message_caption(self, params: Params, files: Files) -> Any:
        sent, wire = self._editable(params)
        if sent.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption = str(params.get("caption") or "")
        formatted = check_caption(caption, params.get("parse_mode"), params.get("caption_entities"))
        markup = read_reply_markup(params.get("reply_markup"))
        if _same(wire, "caption", "caption_entities", formatted) and wire.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        sent.history.append(sent.snapshot())
        sent.caption, sent.parse_mode, sent.reply_markup = caption or None, params.get("parse_mode"), markup
        sent.displayed_text = formatted.text
        wire.pop("caption", None)
        if formatted.text:
            wire["caption"] = formatted.text
        _set_entities(wire, "caption_entities", formatted)
        return self._finish_edit(sent, wire, markup)

    async def edit_message_reply_markup(self, params: Params, files: Files) -> Any:
        sent, wire = self._editable(params)
        markup = read_reply_markup(params.get("reply_markup"))
        if wire.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        sent.history.append(sent.snapshot())
        sent.reply_markup = markup
        return self._finish_edit(sent, wire, markup)

    async def delete_message(self, params: Params, files: Files) -> Any:
        chat_id, message_id = _int(params, "chat_id", 0), _int(params, "message_id", 0)
        if self._store.wire(chat_id, message_id) is None:
            raise bad_request("message to delete not found")
        self._store.forget_wire(chat_id, message_id)
        sent = self._store.find_sent(chat_id, message_id)
        if sent is not None:
            sent.deleted = True
            self._store.emit(ChatEvent(ChatEventKind.DELETED, chat_id, sent))
        return True

    async def answer_callback_query(self, params: Params, files: Files) -> Any:
        chat_id = self._store.callback_queries.pop(str(params.get("callback_query_id", "")), None)
        if chat_id is None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text") or None
        self._store.emit(ChatEvent(ChatEventKind.CALLBACK_ANSWERED, chat_id, text=text))
        return True

    # --- commands, chats, files --------------------------------------------------------------

    async def set_my_commands(self, params: Params, files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('can\'t parse commands JSON object: field "commands" must be an Array')
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
        self._commands[_commands_key(params)] = [
            {"command": command["command"], "description": command.get("description", "")} for command in commands
        ]
        return True

    async def get_my_commands(self, params: Params, files: Files) -> Any:
        return self._commands.get(_commands_key(params), [])

    async def delete_my_commands(self, params: Params, files: Files) -> Any:
        self._commands.pop(_commands_key(params), None)
        return True

    async def get_chat(self, params: Params, files: Files) -> Any:
        chat = self._store.chat(_int(params, "chat_id", 0))
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": _NO_GIFTS}

    async def get_file(self, params: Params, files: Files) -> Any:
        file_id = str(params.get("file_id", ""))
        upload = self._store.file(file_id)
        if upload is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        size = len(upload.content)
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": file_id}

    # --- helpers -----------------------------------------------------------------------------

    def _target_chat(self, params: Params) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id == 0:
            raise bad_request("chat not found")
        chat = self._store.chat(chat_id)
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED_DESCRIPTIONS[chat["type"]])
        return chat

    def _new_message(self, chat: dict[str, Any], params: Params) -> dict[str, Any]:
        reply = self._reply_target(chat, params)
        message = {
            "message_id": self._store.next_message_id(chat["id"]),
            "from": self._bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        return message

    def _reply_target(self, chat: dict[str, Any], params: Params) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if not isinstance(reply, dict):
            return None
        target = self._store.wire(reply.get("chat_id", chat["id"]), reply.get("message_id", 0))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    def _editable(self, params: Params) -> tuple[SentMessage, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(params)
        message_id = _int(params, "message_id", 0)
        wire = self._store.wire(chat["id"], message_id)
        sent = self._store.find_sent(chat["id"], message_id)
        if wire is not None and sent is None:
            raise bad_request("message can't be edited")
        if wire is None or sent is None:
            raise bad_request("message to edit not found")
        return sent, wire

    def _finish_edit(self, sent: SentMessage, wire: dict[str, Any], markup: dict[str, Any] | None) -> Any:
        _set_markup(wire, markup)
        wire["edit_date"] = int(time.time())
        self._store.emit(ChatEvent(ChatEventKind.EDITED, sent.chat_id, sent))
        return wire

    def _input_file(self, params: Params, files: Files, field: str) -> UploadedFile:
        value = params.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif field in files:
            upload = files[field]
        elif isinstance(value, str) and value:
            upload = self._store.file(value)  # a file_id the stand-in issued earlier
        else:
            raise bad_request(f"there is no {field} in the request")
        if upload is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if not upload.content:
            raise bad_request("file must be non-empty")
        return upload

    def _send_media(self, chat: dict[str, Any], params: Params, upload: UploadedFile, kind: str) -> Any:
        raw_caption = str(params.get("caption") or "")
        caption = check_caption(raw_caption, params.get("parse_mode"), params.get("caption_entities"))
        markup = read_reply_markup(params.get("reply_markup"))
        wire = self._new_message(chat, params)
        wire[kind] = self._file_json(upload, kind)
        if caption.text:
            wire["caption"] = caption.text
        _set_entities(wire, "caption_entities", caption)
        _set_markup(wire, markup)
        sent = SentMessage(
            message_id=wire["message_id"],
            chat_id=chat["id"],
            text=None,
            caption=raw_caption or None,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            displayed_text=caption.text,
            photo=upload.content if kind == "photo" else None,
            document=upload.content if kind == "document" else None,
            filename=upload.filename,
            reply_to_message_id=wire.get("reply_to_message", {}).get("message_id"),
        )
        self._store.add_sent(sent, wire)
        return wire

    def _file_json(self, upload: UploadedFile, kind: str) -> Any:
        file_id = self._store.store_file(upload)
        described = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(upload.content)}
        if kind == "photo":
            width, height = image_size(upload.content) or (0, 0)
            return [{**described, "width": width, "height": height}]
        return {**described, "file_name": upload.filename, "mime_type": upload.content_type}


def _int(params: Params, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _set_entities(wire: dict[str, Any], key: str, formatted: FormattedText) -> None:
    wire.pop(key, None)
    if formatted.entities:
        wire[key] = formatted.entities


def _set_markup(wire: dict[str, Any], markup: dict[str, Any] | None) -> None:
    wire.pop("reply_markup", None)
    if markup is not None:
        wire["reply_markup"] = markup


def _same(wire: dict[str, Any], text_key: str, entities_key: str, formatted: FormattedText) -> bool:
    return wire.get(text_key, "") == formatted.text and wire.get(entities_key, []) == formatted.entities


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
