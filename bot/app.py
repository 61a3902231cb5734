"""The python-telegram-bot Application: handlers, the typed context, and one error handler that logs first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from telegram import BotCommand, Update
from telegram.error import Conflict, Forbidden, NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, InvalidCallbackData
from telegram.ext import CallbackQueryHandler as _CallbackQueryHandler

from bot.context import BotContext, Services
from bot.handlers.account import account_handlers, fallback_handlers
from bot.handlers.onboarding import onboarding_handler
from bot.handlers.strategies import strategy_handlers
from bot.help_text import USER_COMMANDS
from bot.metrics import count_send_failure

log = structlog.get_logger(__name__)

CALLBACK_CACHE_SIZE = 20_000  # buttons remembered across all users before the oldest expire

BuilderHook = Callable[[ApplicationBuilder], ApplicationBuilder]


def build_application(
    services: Services, configure: BuilderHook | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the bot; `configure` may point it at a stand-in (tests, the demo)."""
    settings = services.settings.telegram
    builder = (
        ApplicationBuilder()
        .context_types(ContextTypes(context=BotContext))
        .arbitrary_callback_data(CALLBACK_CACHE_SIZE)
    )
    if configure is not None:
        builder = configure(builder)
    else:
        assert settings.bot_token is not None
        builder = (
            builder.token(settings.bot_token.get_secret_value())
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
        )
    application = builder.build()
    application.bot_data["services"] = services
    register_handlers(application)
    return application


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(onboarding_handler())
    for handler in account_handlers():
        application.add_handler(handler)  # type: ignore[arg-type]
    for handler in strategy_handlers():
        application.add_handler(handler)  # type: ignore[arg-type]
    application.add_handler(_CallbackQueryHandler(expired_button, pattern=InvalidCallbackData))
    for handler in fallback_handlers():
        application.add_handler(handler)  # type: ignore[arg-type]
    application.add_error_handler(on_error)


async def publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu Telegram shows next to the input field."""
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in USER_COMMANDS])


async def expired_button(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer("This button has expired. Run the command again.", show_alert=True)


async def on_error(update: object, context: BotContext) -> None:
    """Log first, record it, and tell the person something went wrong (never their data or a traceback)."""
    error = context.error
    if isinstance(error, Conflict):
        log.error("telegram.conflict", error=str(error))
        return
    if isinstance(error, NetworkError | Forbidden):
        log.warning("telegram.send_failed", error=str(error))
        count_send_failure("reply")
        return
    log.error("telegram.handler_failed", error=repr(error), exc_info=error)
    services: Services | None = context.bot_data.get("services") if context.bot_data else None
    if services is not None:
        await services.engine.record_error("telegram", repr(error), {"update": _describe(update)})
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text("Something went wrong on our side; the operators have been told.")
        except Exception:
            log.warning("telegram.error_reply_failed")


def _describe(update: object) -> str:
    if isinstance(update, Update):
        message = update.effective_message
        text = message.text if message is not None and message.text else ""
        command = text.split()[0] if text.startswith("/") else ("callback" if update.callback_query else "message")
        return f"update {update.update_id}: {command}"
    return type(update).__name__
