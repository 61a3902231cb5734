"""A local Telegram Bot API stand-in for driving the real python-telegram-bot client offline."""

from bot.telegram_standin.app import DEFAULT_TOKEN, TelegramStandIn
from bot.telegram_standin.limits import ApiError, html_to_text
from bot.telegram_standin.state import (
    ChatEvent,
    ChatEventKind,
    ChatUser,
    MessageVersion,
    RecordedCall,
    SentMessage,
    UploadedFile,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "ChatEvent",
    "ChatEventKind",
    "ChatUser",
    "MessageVersion",
    "RecordedCall",
    "SentMessage",
    "TelegramStandIn",
    "UploadedFile",
    "html_to_text",
]
