"""Polling Telegram for updates, and stepping aside when another process polls the same token.

Telegram answers getUpdates with 409 Conflict while a second process polls the same token; two pollers
would steal each other's updates. The first conflict stops this process's polling (trading and queued
notifications go on: sending does not need polling) and raises one P1 alert to the admin channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from telegram.error import Conflict, TelegramError
from telegram.ext import Updater

from engine.domain.events import Severity

log = structlog.get_logger(__name__)

RaiseAlert = Callable[[Severity, str, str, str], Awaitable[bool]]
CONFLICT_KEY = "telegram:conflict"
CONFLICT_TITLE = "Telegram polling conflict"
CONFLICT_DETAIL = (
    "Another process is polling this bot token; this process stopped polling so the two do not fight over "
    "updates (trading and notifications go on). Stop the other process, then restart this one."
)


class PollingGuard:
    def __init__(self, updater: Updater[Any, Any], raise_alert: RaiseAlert) -> None:
        self._updater = updater
        self._raise_alert = raise_alert
        self._tasks: set[asyncio.Task[Any]] = set()
        self.conflicted = False

    async def start(self) -> None:
        await self._updater.start_polling(
            timeout=10, poll_interval=0.0, drop_pending_updates=False, error_callback=self.on_error
        )

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._updater.running:
            await self._updater.stop()

    def on_error(self, error: TelegramError) -> None:
        """PTB's polling error callback (synchronous, called from the polling loop)."""
        if not isinstance(error, Conflict):
            log.warning("telegram.polling_error", error=str(error))
            return
        log.error("telegram.conflict", error=str(error))
        if self.conflicted:
            return
        self.conflicted = True
        self._spawn(self._updater.stop(), "stop-polling")
        self._spawn(self._raise_alert(Severity.P1, CONFLICT_KEY, CONFLICT_TITLE, CONFLICT_DETAIL), "conflict-alert")

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
