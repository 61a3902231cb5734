"""BinanceSpotStandin: the stand-in's public face for tests (in-process) and for the CLI (subprocess)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from aiohttp import web

from .app import BinanceSpotApi
from .control import control_routes
from .faults import FaultPlan, RecordedRequest, RequestLog
from .ledger import Account, Balance
from .matching import SpotVenue
from .orders import Order, Trade
from .symbols import DecimalLike, SymbolSpec


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def rewrite_api_urls(api_urls: Mapping[str, object], base_url: str) -> dict[str, object]:
    """Point every ccxt `urls["api"]` entry at `base_url`, keeping its path (…/api/v3, …/sapi/v1)."""
    return {
        section: f"{base_url}{urlsplit(url).path}" if isinstance(url, str) else url for section, url in api_urls.items()
    }


class BinanceSpotStandin:
    """A Binance-spot-compatible HTTP server on loopback with a scriptable market and fault injection.

    ``async with BinanceSpotStandin(symbols=["BTC/USDT"], prices={"BTC/USDT": 30000}) as standin:``
    then point ccxt at it with ``exchange.urls["api"] = standin.ccxt_urls(exchange.urls["api"])``.
    """

    def __init__(
        self,
        *,
        symbols: Iterable[str | SymbolSpec] = ("BTC/USDT",),
        prices: Mapping[str, DecimalLike] | None = None,
        taker_fee: DecimalLike = "0.001",
        maker_fee: DecimalLike = "0.001",
        duplicate_window_s: float = 0.0,
        clock: Callable[[], int] = wall_clock_ms,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        specs = [spec if isinstance(spec, SymbolSpec) else SymbolSpec(symbol=spec) for spec in symbols]
        self.venue = SpotVenue(
            specs,
            clock=clock,
            taker_fee=taker_fee,
            maker_fee=maker_fee,
            duplicate_window_ms=int(duplicate_window_s * 1000),
        )
        self.faults = FaultPlan(self.venue.partial_fill_ratios)
        self.log = RequestLog()
        self.api = BinanceSpotApi(self.venue, self.faults, self.log)
        self.host, self.port = host, port
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        for symbol, price in (prices or {}).items():
            self.set_price(symbol, price)

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Serve on host:port (0 = a free port) and return the base URL, e.g. http://127.0.0.1:40123."""
        app = web.Application(middlewares=[self.api.middleware])
        app.add_routes(self.api.routes())
        app.add_routes(control_routes(self))
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.port = port
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        self.api.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def ccxt_urls(self, api_urls: Mapping[str, object]) -> dict[str, object]:
        """Rewrite every ccxt `urls["api"]` entry to this server, keeping its path (…/api/v3, …/sapi/v1)."""
        return rewrite_api_urls(api_urls, self.base_url)

    # --------------------------------------------------------------- accounts

    def add_account(
        self,
        api_key: str,
        secret: str,
        balances: Mapping[str, DecimalLike] | None = None,
        **restrictions: bool,
    ) -> Account:
        """Register an API key with its own balances; `restrictions` are ApiRestrictions fields."""
        account = Account(api_key=api_key, secret=secret, created_ms=self.venue.clock())
        account.restrictions.update(**restrictions)
        for asset, free in (balances or {}).items():
            account.set_balance(asset, free)
        self.venue.accounts[api_key] = account
        return account

    def set_balance(self, api_key: str, asset: str, free: DecimalLike, locked: DecimalLike = 0) -> None:
        self.venue.accounts[api_key].set_balance(asset, free, locked)

    def set_api_restrictions(self, api_key: str, **flags: bool) -> None:
        self.venue.accounts[api_key].restrictions.update(**flags)

    def balance(self, api_key: str, asset: str) -> Balance:
        return self.venue.accounts[api_key].balance(asset)

    # ------------------------------------------------------------------ market

    def set_price(self, symbol: str, price: DecimalLike) -> list[Trade]:
        """Move the market; stops trigger and crossed resting orders fill. Returns the trades it caused."""
        return self.venue.set_price(symbol, price)

    def run_path(self, symbol: str, prices: Sequence[DecimalLike]) -> list[Trade]:
        return self.venue.run_path(symbol, prices)

    def set_candles(self, symbol: str, rows: Iterable[Sequence[DecimalLike]], interval: str = "1m") -> None:
        """Script GET /api/v3/klines: rows are [open_time_ms, open, high, low, close, volume]."""
        self.venue.candles.set(self.venue.spec(symbol).market_id, rows, interval)

    # ------------------------------------------------------------- inspection

    def orders(self, api_key: str | None = None, symbol: str | None = None) -> list[Order]:
        market_id = None if symbol is None else self.venue.spec(symbol).market_id
        return [
            order
            for order in self.venue.orders
            if (api_key is None or order.api_key == api_key)
            and (market_id is None or order.spec.market_id == market_id)
        ]

    def trades(self, api_key: str | None = None, symbol: str | None = None) -> list[Trade]:
        market_id = None if symbol is None else self.venue.spec(symbol).market_id
        return [
            trade
            for trade in self.venue.trades
            if (api_key is None or trade.api_key == api_key) and (market_id is None or trade.market_id == market_id)
        ]

    def requests(
        self, method: str | None = None, path: str | None = None, api_key: str | None = None
    ) -> list[RecordedRequest]:
        """Every recorded request (method, path, params, api key, fault, status) matching the filters."""
        return self.log.select(method, path, api_key)

    def count_requests(self, method: str | None = None, path: str | None = None, api_key: str | None = None) -> int:
        return self.log.count(method, path, api_key)
