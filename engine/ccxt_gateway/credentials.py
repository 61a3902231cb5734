"""Checking exchange keys before they are stored (/connect): they must work, and must not allow withdrawals.

The keys are read with a balance request; where the exchange reports a key's permissions (Binance:
GET /sapi/v1/account/apiRestrictions), keys that may withdraw or cannot trade spot are refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import ccxt.async_support as ccxt

from engine.ccxt_gateway.clients import ClientPool
from engine.ccxt_gateway.errors import translated
from engine.ccxt_gateway.mapping import balances_from
from engine.ccxt_gateway.retry import Backoff, with_retries
from engine.domain.venue import Balance
from engine.errors import BotError, OperationalError, TemporaryError
from engine.ports import Credentials


class KeyStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # refused by the exchange, or without the permissions trading needs
    WITHDRAWALS_ENABLED = "withdrawals_enabled"
    UNREACHABLE = "unreachable"  # the exchange did not answer; try again later


@dataclass(frozen=True, slots=True)
class KeyCheck:
    status: KeyStatus
    message: str  # a sentence for the user
    balances: dict[str, Balance] = field(default_factory=dict)

    @property
    def is_ok(self) -> bool:
        return self.status is KeyStatus.OK


Restrictions = Callable[[ccxt.Exchange], Awaitable[dict[str, Any]]]


async def _binance_restrictions(client: ccxt.Exchange) -> dict[str, Any]:
    answer = await client.sapi_get_account_apirestrictions()
    return {
        "withdrawals": bool(answer.get("enableWithdrawals")),
        "trading": bool(answer.get("enableSpotAndMarginTrading")),
    }


RESTRICTIONS: Final[dict[str, Restrictions]] = {"binance": _binance_restrictions}


async def check_credentials(pool: ClientPool, credentials: Credentials, backoff: Backoff | None = None) -> KeyCheck:
    """Read the balance with these keys, then the keys' permissions where the exchange reports them."""
    async with pool.temporary(credentials) as client:
        try:
            balances = await with_retries(
                lambda: _read(client, "read the balance", _balance), backoff or Backoff(), "key check"
            )
            restrictions = RESTRICTIONS.get(pool.exchange_id)
            flags = None if restrictions is None else await _read(client, "read the key's permissions", restrictions)
        except OperationalError:
            return KeyCheck(
                KeyStatus.INVALID, "The exchange refused these keys. Check them, and that they may read and trade spot."
            )
        except TemporaryError:
            return KeyCheck(KeyStatus.UNREACHABLE, "The exchange did not answer. Please try again in a few minutes.")
        except BotError as error:
            return KeyCheck(KeyStatus.INVALID, f"The exchange refused the check: {error}")
    return _verdict(flags, balances)


def _verdict(flags: dict[str, Any] | None, balances: dict[str, Balance]) -> KeyCheck:
    if flags is not None and flags["withdrawals"]:
        return KeyCheck(
            KeyStatus.WITHDRAWALS_ENABLED,
            "These keys allow withdrawals. Create keys with withdrawals disabled: the bot never needs them.",
            balances,
        )
    if flags is not None and not flags["trading"]:
        return KeyCheck(KeyStatus.INVALID, "These keys cannot trade spot. Enable spot trading for them.", balances)
    return KeyCheck(KeyStatus.OK, "The keys work.", balances)


async def _balance(client: ccxt.Exchange) -> dict[str, Balance]:
    return balances_from(await client.fetch_balance())


async def _read(client: ccxt.Exchange, action: str, call: Callable[[ccxt.Exchange], Awaitable[Any]]) -> Any:
    with translated(action):
        return await call(client)
