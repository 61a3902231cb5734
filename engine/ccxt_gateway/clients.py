"""ccxt clients for one exchange: a public one that loads the markets once, and one per API key sharing them.

Every client has ccxt's rate limiter on and shares one aiohttp session (one connection pool per exchange,
not one per user). Keys come from a provider callable (decrypted from the database when a client is
first needed), live only inside the ccxt client, and never reach a log: ccxt's request logging is silenced.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt

from engine.domain.ids import AccountId
from engine.errors import ConfigurationError, OperationalError
from engine.gateway_timing import GatewayTimings
from engine.ports import Credentials

CredentialsProvider = Callable[[AccountId], Awaitable[Credentials | None]]

logging.getLogger("ccxt").setLevel(logging.WARNING)  # its DEBUG lines carry request headers (the API key)

SPOT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},  # Binance: one exchangeInfo call, not three
    "fetchCurrencies": False,  # Binance: no SAPI capital call with keys on every market load
    "fetchMargins": False,
    "warnOnFetchOpenOrdersWithoutSymbol": False,  # reconciliation lists an account's open orders in one call
    "fetchOpenOrders": {"warnWithoutSymbol": False},
}


@dataclass(frozen=True, slots=True)
class ExchangeSettings:
    exchange_id: str  # a ccxt id, e.g. "binance"
    base_url: str | None = None  # replaces the scheme and host of every REST URL (stand-ins); None = the real ones
    timeout_ms: int = 10_000
    rate_limit: bool = True  # ccxt's throttler, per API key (tests that loop many times may turn it off)


class ClientPool:
    def __init__(
        self, settings: ExchangeSettings, credentials: CredentialsProvider, timings: GatewayTimings | None = None
    ) -> None:
        if not hasattr(ccxt, settings.exchange_id):
            raise ConfigurationError(f"ccxt has no exchange called {settings.exchange_id!r}")
        self.settings = settings
        self._credentials = credentials
        self._timings = timings  # every HTTP request of every client timed, by endpoint
        self._session: aiohttp.ClientSession | None = None
        self._public: ccxt.Exchange | None = None
        self._by_account: dict[AccountId, ccxt.Exchange] = {}
        self._by_key: dict[str, ccxt.Exchange] = {}
        self._markets = asyncio.Lock()
        self._keys = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def exchange_id(self) -> str:
        return self.settings.exchange_id

    async def public(self) -> ccxt.Exchange:
        """The client without keys, its markets loaded (once: later calls reuse them)."""
        async with self._markets:
            if self._public is None:
                self._public = self._new(None)
            if not self._public.markets:
                await self._public.load_markets()
        return self._public

    def loaded(self) -> ccxt.Exchange | None:
        """The public client if its markets are loaded, else None (never does I/O)."""
        return self._public if self._public is not None and self._public.markets else None

    async def for_account(self, account_id: AccountId) -> ccxt.Exchange:
        """The client for the account's API key, sharing the exchange's markets."""
        client = self._by_account.get(account_id)
        if client is not None:
            return client
        public = await self.public()
        async with self._keys:
            credentials = await self._credentials(account_id)
            if credentials is None:
                raise OperationalError(f"account {account_id} has no exchange keys")
            fingerprint = hashlib.sha256(credentials.api_key.encode()).hexdigest()
            client = self._by_key.get(fingerprint)
            if client is None:
                client = self._by_key[fingerprint] = self._keyed(public, credentials)
            self._by_account[account_id] = client
            return client

    def forget(self, account_id: AccountId) -> None:
        """Drop the account's client (its keys were refused or replaced); the next call fetches the keys again."""
        client = self._by_account.pop(account_id, None)
        if client is not None and client not in self._by_account.values():
            self._by_key = {k: c for k, c in self._by_key.items() if c is not client}
            task = asyncio.get_running_loop().create_task(client.close(), name="ccxt-client-close")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @asynccontextmanager
    async def temporary(self, credentials: Credentials) -> AsyncIterator[ccxt.Exchange]:
        """A client for keys that are not stored yet (checking them for /connect)."""
        client = self._keyed(await self.public(), credentials)
        try:
            yield client
        finally:
            await client.close()

    async def aclose(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        clients = {id(c): c for c in (*self._by_key.values(), *([self._public] if self._public else []))}
        for client in clients.values():
            await client.close()
        self._by_account.clear()
        self._by_key.clear()
        self._public = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _keyed(self, public: ccxt.Exchange, credentials: Credentials) -> ccxt.Exchange:
        client = self._new(credentials)
        client.set_markets_from_exchange(public)
        return client

    def _new(self, credentials: Credentials | None) -> ccxt.Exchange:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        config: dict[str, Any] = {
            "enableRateLimit": self.settings.rate_limit,
            "timeout": self.settings.timeout_ms,
            "options": dict(SPOT_OPTIONS),
            "session": self._session,
        }
        if credentials is not None:
            config |= {"apiKey": credentials.api_key, "secret": credentials.secret}
        client = getattr(ccxt, self.settings.exchange_id)(config)
        client.timeout_on_exit = 0  # the shared session is closed once, by the pool
        if self.settings.base_url:
            client.urls["api"] = point_at(client.urls["api"], self.settings.base_url)
        if self._timings is not None:
            self._timings.instrument(client, self.settings.exchange_id)
        return client


def point_at(api_urls: Mapping[str, object], base_url: str) -> dict[str, object]:
    """Every REST URL of the exchange on `base_url`, keeping its path (…/api/v3, …/sapi/v1)."""
    base = base_url.rstrip("/")
    return {
        section: f"{base}{urlsplit(url).path}" if isinstance(url, str) else url for section, url in api_urls.items()
    }
