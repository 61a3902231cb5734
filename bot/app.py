"""The python-telegram-bot Application: handlers, the typed context, and one error handler that logs first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, InvalidCallbackData, TypeHandler
from telegram.ext import CallbackQueryHandler as _CallbackQueryHandler

from bot.context import BotContext, Services
from bot.guards import RateLimiter
from bot.handlers.admin_system import admin_system_handlers
from bot.handlers.admin_users import admin_user_handlers
from bot.handlers.backtest import backtest_handlers
from bot.handlers.exchange_keys import exchange_key_handlers
from bot.handlers.help import fallback_handlers, help_handlers
from bot.handlers.onboarding import onboarding_handler
from bot.handlers.portfolio import portfolio_handlers
from bot.handlers.profile import profile_handlers
from bot.handlers.reports import report_handlers
from bot.handlers.strategies import strategy_handlers
from bot.handlers.trading import trading_handlers
from bot.help_text import ADMIN_COMMANDS, USER_COMMANDS
from bot.metrics import count_send_failure

log = structlog.get_logger(__name__)

CALLBACK_CACHE_SIZE = 20_000  # buttons remembered across all users before the oldest expire
FLOOD_RETRIES = 3  # a reply refused with 429 is sent again after Telegram's retry_after, this many times

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
        .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
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
    """Every handler, in the order Telegram updates are tried; the rate limit runs before all of them."""
    settings = application.bot_data["services"].settings.telegram
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.admin_ids)
    application.add_handler(TypeHandler(Update, limiter.check), group=-1)
    application.add_handler(onboarding_handler())
    for group in (
        exchange_key_handlers(),
        portfolio_handlers(),
        trading_handlers(),
        profile_handlers(),
        help_handlers(),
        admin_user_handlers(),
        admin_system_handlers(),
        strategy_handlers(),
        report_handlers(),
        backtest_handlers(),
    ):
        for handler in group:
            application.add_handler(handler)  # type: ignore[arg-type]
    application.add_handler(_CallbackQueryHandler(expired_button, pattern=InvalidCallbackData))
    for handler in fallback_handlers():
        application.add_handler(handler)  # type: ignore[arg-type]
    application.add_error_handler(on_error)


async def publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu Telegram shows next to the input field; admins also see theirs in their own chats."""
    users = [BotCommand(c.name, c.summary) for c in USER_COMMANDS]
    await application.bot.set_my_commands(users)
    admins = users + [BotCommand(c.name, c.summary) for c in ADMIN_COMMANDS]
    for admin_id in application.bot_data["services"].settings.telegram.admin_ids:
        try:
            await application.bot.set_my_commands(admins, scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:  # an admin who never opened the bot has no chat yet
            log.info("telegram.admin_menu_not_set", admin=admin_id, error=str(error))


async def expired_button(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer("This button has expired. Run the command again.", show_alert=True)


async def on_error(update: object, context: BotContext) -> None:
    """Log first, record it, and tell the person something went wrong (never their data or a traceback)."""
    error = context.error
    if isinstance(error, Conflict):
        log.error("telegram.conflict", error=str(error))
        return
    if isinstance(error, Forbidden) or (isinstance(error, NetworkError) and not isinstance(error, BadRequest)):
        log.warning("telegram.send_failed", error=str(error))  # blocked, or Telegram unreachable: nobody to tell
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
