"""Which venue serves an account: the paper venue or an exchange, chosen by the account, never by `if paper:`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from engine.domain.accounts import Account
from engine.domain.venue import OrderRequest, VenueOrder
from engine.errors import ConfigurationError
from engine.ports import ExchangeGateway

T = TypeVar("T")


async def each(calls: Sequence[Awaitable[T]]) -> list[T | Exception]:
    """Run the calls concurrently; each gives its result or its error (a cancellation still cancels them all)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
    return results  # type: ignore[return-value]


async def place_one(gateway: ExchangeGateway, request: OrderRequest) -> VenueOrder:
    """`place_orders` for one order: its order, or its error raised."""
    (result,) = await gateway.place_orders([request])
    if isinstance(result, Exception):
        raise result
    return result


class GatewayRegistry:
    def __init__(self, gateways: Sequence[ExchangeGateway]) -> None:
        self._gateways = {g.name: g for g in gateways}

    def for_venue(self, venue: str) -> ExchangeGateway:
        try:
            return self._gateways[venue]
        except KeyError:
            raise ConfigurationError(f"no gateway configured for venue {venue!r}") from None

    def for_account(self, account: Account) -> ExchangeGateway:
        return self.for_venue(account.venue)

    @property
    def venues(self) -> list[str]:
        return list(self._gateways)

    def all(self) -> list[ExchangeGateway]:
        return list(self._gateways.values())

    async def aclose(self) -> None:
        for gateway in self._gateways.values():
            await gateway.aclose()
