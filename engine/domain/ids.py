"""Typed identifiers: never a bare `str` or `int` in a signature."""

from __future__ import annotations

import base64
import hashlib
from typing import NewType

UserId = NewType("UserId", int)
TelegramId = NewType("TelegramId", int)
AccountId = NewType("AccountId", int)
Symbol = NewType("Symbol", str)
StrategyId = NewType("StrategyId", str)
ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
SignalId = NewType("SignalId", int)
DecisionId = NewType("DecisionId", int)

CLIENT_ORDER_ID_PREFIX = "tb"
_CLIENT_ORDER_ID_LENGTH = 32  # Binance allows up to 36 characters of [.A-Za-z0-9:/_-]


def make_client_order_id(account_id: AccountId, origin: str) -> ClientOrderId:
    """Derive the client order id from what caused the order, so a replay of that cause yields the same id.

    `origin` names the cause uniquely (e.g. "signal:42:entry" or "exit:pos:17:stop"); the exchange then
    refuses a second order with the same id instead of executing it twice.
    """
    digest = hashlib.sha256(f"{account_id}|{origin}".encode()).digest()
    token = base64.b32encode(digest).decode().rstrip("=").lower()
    return ClientOrderId(f"{CLIENT_ORDER_ID_PREFIX}{token}"[:_CLIENT_ORDER_ID_LENGTH])


def split_symbol(symbol: Symbol) -> tuple[str, str]:
    """Return (base, quote) of a ccxt-style unified symbol like 'ETH/USDT'."""
    base, _, quote = symbol.partition("/")
    if not base or not quote:
        raise ValueError(f"not a unified symbol: {symbol!r}")
    return base, quote.split(":")[0]
