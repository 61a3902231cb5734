"""An in-process event bus: the engine publishes, the bot and jobs subscribe. A failing subscriber never
stops the publisher or the other subscribers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._any: list[Handler] = []

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def subscribe_all(self, handler: Handler) -> None:
        self._any.append(handler)

    async def publish(self, event: object) -> None:
        for handler in (*self._handlers.get(type(event), ()), *self._any):
            try:
                await handler(event)
            except Exception:
                log.exception("bus.handler_failed", event=type(event).__name__, handler=_name(handler))

    async def publish_all(self, events: list[object]) -> None:
        for event in events:
            await self.publish(event)


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", repr(handler))
