"""What handlers reach: the services, through a typed context (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.health import HealthChecker
    from bot.notifier import Notifier
    from bot.operations import Operations
    from bot.settings import Settings
    from engine.runtime import TradingEngine


@dataclass
class Services:
    settings: Settings
    engine: TradingEngine
    notifier: Notifier
    health: HealthChecker
    operations: Operations
    extras: dict[str, Any] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return cast("Services", self.bot_data["services"])
