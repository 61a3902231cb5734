"""Retries with exponential backoff, for calls that are safe to repeat: reads and cancels, never creation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from engine.errors import RateLimited, TemporaryError

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    attempts: int = 4  # the first try and three retries
    first_delay: float = 0.5  # seconds; doubles each time
    max_delay: float = 8.0

    def delay(self, attempt: int, error: TemporaryError) -> float:
        """Seconds to wait before try `attempt + 1`; a rate limit that says how long is obeyed (up to the cap)."""
        wait = self.first_delay * 2 ** (attempt - 1)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return min(wait, self.max_delay)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    backoff: Backoff,
    action: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call`; on a temporary error wait and try again, up to `backoff.attempts` times in all."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return await call()
        except TemporaryError as error:
            if attempt == backoff.attempts:
                raise
            wait = backoff.delay(attempt, error)
            log.warning("exchange.retry", action=action, attempt=attempt, wait=wait, error=str(error))
            await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
