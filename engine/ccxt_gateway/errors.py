"""Every ccxt error becomes one of ours here, once, ordered by how the caller must react.

Creating an order is special: an error that may have come after the exchange acted (a timeout, a reset
connection, a 5xx) means the outcome is unknown, never "try again"; only errors that prove the request
was refused before it was processed (rate limits, clock skew, bad keys) say the order was not placed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Final

import ccxt.async_support as ccxt

from engine.errors import (
    BotError,
    DuplicateOrder,
    OperationalError,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)

Translation = Callable[[ccxt.BaseError, str, bool], BotError]

_REFUSALS: Final = (  # what Binance's filters say, in words a user understands
    ("Duplicate order sent", ""),  # handled before: the order exists
    ("NOTIONAL", "the order is worth less than the exchange's minimum order value"),
    ("MIN_NOTIONAL", "the order is worth less than the exchange's minimum order value"),
    ("LOT_SIZE", "the quantity does not fit the exchange's quantity step or limits"),
    ("PRICE_FILTER", "the price does not fit the exchange's price step or limits"),
    ("would trigger immediately", "the market is already past the stop price"),
    ("would immediately match", "the limit price would trade at once"),
    ("not supported for this symbol", "the exchange does not offer this order type for the market"),
)


@contextmanager
def translated(action: str, *, creates: bool = False) -> Iterator[None]:
    """Turn a ccxt error raised inside into the engine's error tree (`raise ... from` the original)."""
    try:
        yield
    except ccxt.BaseError as error:
        raise translate(error, action, creates) from error


def translate(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    for kind, translation in _TABLE:
        if isinstance(error, kind):
            return translation(error, action, creates)
    return _unclear(error, action, creates)


def _duplicate(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    return DuplicateOrder(f"{action}: the exchange already has an order with this client id")


def _invalid(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    text = str(error)
    if "Duplicate order sent" in text:
        return _duplicate(error, action, creates)
    if isinstance(error, ccxt.OrderNotFound):
        return OrderNotFound(f"{action}: the exchange has no such order")
    for marker, sentence in _REFUSALS:
        if marker in text and sentence:
            return OrderRejected(f"The exchange refused the order: {sentence}.")
    return OrderRejected(f"The exchange refused the order: {_exchange_words(text)}")


def _funds(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    return OrderRejected("The exchange refused the order: your account does not have enough free funds for it.")


def _auth(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    return OperationalError(f"the exchange refused the API key or its permissions ({type(error).__name__})")


def _rate(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    if " 418 " in str(error):
        return OperationalError("the exchange banned this IP address for too many requests (HTTP 418)")
    return RateLimited(f"{action}: the exchange asked us to slow down")


def _refused_before_processing(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    return TemporaryError(f"{action}: the exchange refused the request ({type(error).__name__})")


def _unclear(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    if creates:
        return OutcomeUnknown(f"{action}: no clear answer ({type(error).__name__})")
    return TemporaryError(f"{action}: {type(error).__name__}")


def _operational(error: ccxt.BaseError, action: str, creates: bool) -> BotError:
    return OperationalError(f"{action}: {type(error).__name__}: {_exchange_words(str(error))}")


def _exchange_words(text: str) -> str:
    """The exchange's own message (Binance: the `msg` of its JSON error), without the exchange's name."""
    start = text.find("{")
    if start >= 0:
        with suppress(ValueError, AttributeError):
            message = json.loads(text[start:]).get("msg")
            if message:
                return str(message)[:200]
    return text.split(" ", 1)[-1][:200]


_TABLE: Final[tuple[tuple[type[ccxt.BaseError], Translation], ...]] = (  # most specific first
    (ccxt.DuplicateOrderId, _duplicate),
    (ccxt.InsufficientFunds, _funds),
    (ccxt.InvalidOrder, _invalid),
    (ccxt.BadRequest, _invalid),
    (ccxt.AuthenticationError, _auth),  # PermissionDenied, AccountSuspended, AccountNotEnabled too
    (ccxt.DDoSProtection, _rate),
    (ccxt.RateLimitExceeded, _rate),
    (ccxt.InvalidNonce, _refused_before_processing),
    (ccxt.NotSupported, _operational),
    (ccxt.ArgumentsRequired, _operational),
    (ccxt.OperationRejected, _invalid),
)
