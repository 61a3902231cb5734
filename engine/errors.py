"""The error tree, ordered by how the caller must react. Third-party errors are translated once, at the boundary."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the engine raises on purpose."""


class TemporaryError(BotError):
    """Try again later (network blip, rate limit, exchange busy); safe only for reads and cancels."""


class RateLimited(TemporaryError):
    """The venue asked us to slow down; `retry_after` seconds when it said how long."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OrderNotFound(BotError):
    """The venue has no order with this id (never placed, or too old to be kept)."""


class OrderRejected(BotError):
    """The venue said no for a business reason: tell the user why, do not retry."""


class OutcomeUnknown(BotError):
    """We do not know whether the venue acted (timeout after sending): reconcile by client order id, never resend."""


class DuplicateOrder(OutcomeUnknown):
    """The venue already has an order with this client order id: it was placed before; reconcile, never resend."""


class OperationalError(BotError):
    """Something is wrong with the account or the system (bad keys, banned, misconfigured): halt and alert."""


class ConfigurationError(BotError):
    """The configuration cannot work; raised at startup or by `tradebot check`."""
