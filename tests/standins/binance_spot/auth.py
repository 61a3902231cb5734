"""Binance request authentication: API key header, timestamp within recvWindow, HMAC-SHA256 signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from . import errors
from .ledger import Account
from .params import Params

_TRADE_ENDPOINTS: Final = frozenset(
    {("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"), ("DELETE", "/api/v3/openOrders")}
)
_SIGNED_API_PATHS: Final = frozenset(
    {
        "/api/v3/order",
        "/api/v3/order/test",
        "/api/v3/openOrders",
        "/api/v3/allOrders",
        "/api/v3/account",
        "/api/v3/myTrades",
    }
)
_UNSIGNED_SAPI_PATHS: Final = frozenset({"/sapi/v1/system/status"})
DEFAULT_RECV_WINDOW_MS: Final = 5_000
MAX_RECV_WINDOW_MS: Final = 60_000


def is_signed(path: str) -> bool:
    return path in _SIGNED_API_PATHS or (path.startswith("/sapi/") and path not in _UNSIGNED_SAPI_PATHS)


@dataclass(frozen=True, slots=True)
class RawRequest:
    """The parts of an HTTP request that Binance signs: raw query string and raw form body."""

    method: str
    path: str
    query: str
    body: str

    def params(self) -> tuple[Params, str | None]:
        """Merged parameters without the signature, and the signature; -1101 on a repeated name."""
        pairs = parse_qsl(self.query, keep_blank_values=True) + parse_qsl(self.body, keep_blank_values=True)
        names = [name for name, _ in pairs]
        if len(names) != len(set(names)):
            raise errors.duplicate_parameter()
        values = dict(pairs)
        signature = values.pop("signature", None)
        return Params(values), signature

    def signed_payload(self) -> str:
        """Binance's totalParams: the query string concatenated with the body, signature removed."""
        return _without_signature(self.query) + _without_signature(self.body)


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))


def authenticate(
    raw: RawRequest,
    params: Params,
    signature: str | None,
    headers: Mapping[str, str],
    accounts: Mapping[str, Account],
    now_ms: int,
) -> Account:
    """Return the account behind a signed request or raise the error Binance would answer."""
    api_key = headers.get("X-MBX-APIKEY")
    if not api_key:
        raise errors.bad_api_key_format()
    account = accounts.get(api_key)
    if account is None:
        raise errors.rejected_api_key()
    _check_timestamp(params, now_ms)
    if not signature:
        raise errors.mandatory("signature")
    expected = hmac.new(account.secret.encode(), raw.signed_payload().encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise errors.bad_signature()
    _check_permissions(account, raw)
    return account


def _check_timestamp(params: Params, now_ms: int) -> None:
    timestamp = params.integer("timestamp", required=True)
    recv_window = params.integer("recvWindow") or DEFAULT_RECV_WINDOW_MS
    if recv_window > MAX_RECV_WINDOW_MS:
        raise errors.recv_window_too_large()
    assert timestamp is not None
    if timestamp >= now_ms + 1_000:
        raise errors.timestamp_ahead()
    if now_ms - timestamp > recv_window:
        raise errors.timestamp_outside_window()


def _check_permissions(account: Account, raw: RawRequest) -> None:
    restrictions = account.restrictions
    may_trade = restrictions.enable_spot_and_margin_trading
    if not restrictions.enable_reading or ((raw.method, raw.path) in _TRADE_ENDPOINTS and not may_trade):
        raise errors.rejected_api_key()
