"""An exchange reached through ccxt (async): the `ExchangeGateway` for live accounts, and market data.

Every account-scoped call names the account and runs on that account's client. Reads and cancels are
retried with backoff on temporary errors; creating an order is never retried: an unclear answer makes
the order `unknown`, resolved later by its client order id (sent as ccxt's `clientOrderId`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import ccxt.async_support as ccxt
import structlog

from engine.ccxt_gateway.clients import ClientPool
from engine.ccxt_gateway.credentials import KeyCheck, check_credentials
from engine.ccxt_gateway.errors import translated
from engine.ccxt_gateway.mapping import (
    balances_from,
    candle_from,
    market_from,
    ticker_from,
    trade_from,
    venue_order_from,
)
from engine.ccxt_gateway.orders import order_arguments
from engine.ccxt_gateway.retry import Backoff, with_retries
from engine.clock import Clock
from engine.domain.accounts import Market
from engine.domain.enums import Side
from engine.domain.ids import AccountId, ClientOrderId, Symbol
from engine.domain.money import ZERO
from engine.domain.venue import Balance, OrderRequest, Ticker, VenueOrder, VenueTrade
from engine.errors import (
    BotError,
    OperationalError,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from engine.gateways import each, place_one
from engine.ports import Candle, Credentials, OrderKey

log = structlog.get_logger(__name__)

T = TypeVar("T")
OperationalHook = Callable[[AccountId, OperationalError], Awaitable[None]]


class CcxtGateway:
    def __init__(
        self,
        pool: ClientPool,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        on_operational: OperationalHook | None = None,
        concurrency: int = 16,
    ) -> None:
        self.name = pool.exchange_id
        self._pool = pool
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._on_operational = on_operational
        self._in_flight = asyncio.Semaphore(concurrency)  # one IP's share of the exchange, whatever the users
        self._markets: dict[Symbol, Market] = {}

    @property
    def pool(self) -> ClientPool:
        return self._pool

    # --- markets -------------------------------------------------------------------------------

    async def load_markets(self) -> Mapping[Symbol, Market]:
        symbols = await self._public("load markets", _symbols)
        return {symbol: self.market(symbol) for symbol in symbols}

    def market(self, symbol: Symbol) -> Market:
        known = self._markets.get(symbol)
        if known is not None:
            return known
        public = self._pool.loaded()
        if public is None:
            raise TemporaryError(f"the {self.name} markets are not loaded yet")
        raw = public.markets.get(symbol)
        if raw is None:
            raise OrderRejected(f"{symbol} is not traded on {self.name}")
        market = self._markets[symbol] = market_from(raw, public.precisionMode)
        return market

    # --- orders --------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> VenueOrder:
        return await place_one(self, request)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[VenueOrder | Exception]:
        """Place each order once (concurrently, within the exchange's share); each gets its order or its error."""
        return list(await asyncio.gather(*(self._place_one(r) for r in requests)))

    async def fetch_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        """The exchange's view of one of our orders, with its trades; None if the exchange never had it."""

        async def fetch(client: ccxt.Exchange) -> VenueOrder:
            raw = await client.fetch_order(None, symbol, {"clientOrderId": client_order_id})
            return await self._with_trades(client, raw, client_order_id, symbol)

        try:
            return await self._account_call(account_id, f"fetch order {client_order_id}", fetch)
        except OrderNotFound:
            return None

    async def cancel_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        """Cancel by client order id; an order already ended is returned as the exchange reports it."""

        async def cancel(client: ccxt.Exchange) -> VenueOrder:
            raw = await client.cancel_order(None, symbol, {"clientOrderId": client_order_id})
            return await self._with_trades(client, raw, client_order_id, symbol)

        try:
            return await self._account_call(account_id, f"cancel order {client_order_id}", cancel)
        except OrderNotFound:  # already filled, cancelled, or never there: ask what it is
            return await self.fetch_order(account_id, symbol, client_order_id)

    async def fetch_open_orders(self, account_id: AccountId, symbol: Symbol | None = None) -> list[VenueOrder]:
        now = self._clock.now()

        async def fetch(client: ccxt.Exchange) -> list[VenueOrder]:
            raws = await client.fetch_open_orders(symbol)
            return [_view(raw, now) for raw in raws if raw.get("clientOrderId")]

        return await self._account_call(account_id, "fetch open orders", fetch)

    async def fetch_trades(self, account_id: AccountId, symbol: Symbol, since: datetime | None) -> list[VenueTrade]:
        now = self._clock.now()
        since_ms = None if since is None else int(since.timestamp() * 1000)

        async def fetch(client: ccxt.Exchange) -> list[VenueTrade]:
            return [trade_from(t, now) for t in await client.fetch_my_trades(symbol, since_ms)]

        return await self._account_call(account_id, "fetch trades", fetch)

    async def fetch_balances(self, account_id: AccountId) -> dict[str, Balance]:
        async def fetch(client: ccxt.Exchange) -> dict[str, Balance]:
            return balances_from(await client.fetch_balance())

        return await self._account_call(account_id, "fetch balances", fetch)

    async def fetch_orders(self, keys: Sequence[OrderKey]) -> list[VenueOrder | Exception | None]:
        return await each([self.fetch_order(account_id, symbol, cid) for account_id, symbol, cid in keys])

    async def fetch_open_orders_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, list[VenueOrder] | Exception]:
        return dict(zip(account_ids, await each([self.fetch_open_orders(a) for a in account_ids]), strict=True))

    async def fetch_balances_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, dict[str, Balance] | Exception]:
        return dict(zip(account_ids, await each([self.fetch_balances(a) for a in account_ids]), strict=True))

    # --- market data (shared by every user) ----------------------------------------------------

    async def fetch_tickers(self, symbols: Sequence[Symbol]) -> dict[Symbol, Ticker]:
        """The latest prices of `symbols`, in one request."""
        now = self._clock.now()

        async def fetch(client: ccxt.Exchange) -> dict[Symbol, Ticker]:
            raws = await client.fetch_tickers(list(symbols))
            tickers = (ticker_from(raw, now) for raw in raws.values())
            return {t.symbol: t for t in tickers if t is not None}

        return await self._public("fetch tickers", fetch)

    async def fetch_ohlcv(self, symbol: Symbol, timeframe: str, since_ms: int | None, limit: int) -> list[Candle]:
        async def fetch(client: ccxt.Exchange) -> list[Candle]:
            return [candle_from(row) for row in await client.fetch_ohlcv(symbol, timeframe, since_ms, limit)]

        return await self._public(f"fetch {timeframe} candles of {symbol}", fetch)

    async def check_credentials(self, credentials: Credentials) -> KeyCheck:
        """For /connect: do these keys work, and do they refuse withdrawals? Reads a balance with them."""
        return await check_credentials(self._pool, credentials, self._backoff)

    async def aclose(self) -> None:
        await self._pool.aclose()

    # --- calls ---------------------------------------------------------------------------------

    async def _place_one(self, request: OrderRequest) -> VenueOrder | Exception:
        action = f"place order {request.client_order_id}"
        try:
            return await self._account_call(
                request.account_id, action, lambda c: self._create(c, request), creates=True
            )
        except BotError as error:
            return error
        except Exception as error:  # a bug after sending: the order may exist, so its outcome is unknown
            log.exception("exchange.place_failed", **request.log_fields(), account=request.account_id)
            return OutcomeUnknown(f"{action}: {type(error).__name__}")

    async def _create(self, client: ccxt.Exchange, request: OrderRequest) -> VenueOrder:
        kind, amount, price, params = order_arguments(client, self.market(request.symbol), request)
        raw = await client.create_order(request.symbol, kind, request.side.value, amount, price, params)
        try:
            return await self._with_trades(client, raw, request.client_order_id, request.symbol)
        except BotError as error:  # placed, but its fills could not be read: reconciliation will
            raise OutcomeUnknown(f"placed, fills not read: {error}") from error

    async def _with_trades(
        self, client: ccxt.Exchange, raw: dict[str, Any], client_order_id: ClientOrderId, symbol: Symbol
    ) -> VenueOrder:
        """The order with every trade it made: fetched when the answer reports fills without listing them."""
        order = venue_order_from(raw, client_order_id, symbol, _side(raw), self._clock.now())
        listed = sum((t.qty for t in order.trades), start=ZERO)
        if order.filled_qty > listed and order.venue_order_id:
            trades = await client.fetch_order_trades(order.venue_order_id, symbol)
            order = venue_order_from({**raw, "trades": trades}, client_order_id, symbol, _side(raw), order.ts)
        return order

    async def _account_call(
        self,
        account_id: AccountId,
        action: str,
        call: Callable[[ccxt.Exchange], Awaitable[T]],
        *,
        creates: bool = False,
    ) -> T:
        async def attempt() -> T:
            with translated(action):  # loading markets or keys: nothing was sent yet
                client = await self._pool.for_account(account_id)
            return await self._run(client, action, call, creates)

        try:
            return await (attempt() if creates else with_retries(attempt, self._backoff, action))
        except OperationalError as error:
            self._pool.forget(account_id)
            log.error("exchange.account_refused", account=account_id, action=action, error=str(error))
            if self._on_operational is not None:
                await self._on_operational(account_id, error)
            raise

    async def _public(self, action: str, call: Callable[[ccxt.Exchange], Awaitable[T]]) -> T:
        async def attempt() -> T:
            with translated(action):
                client = await self._pool.public()
            return await self._run(client, action, call, False)

        return await with_retries(attempt, self._backoff, action)

    async def _run(
        self, client: ccxt.Exchange, action: str, call: Callable[[ccxt.Exchange], Awaitable[T]], creates: bool
    ) -> T:
        async with self._in_flight:
            try:
                with translated(action, creates=creates):
                    return await call(client)
            except RateLimited as error:
                error.retry_after = _retry_after(client)
                raise


async def _symbols(client: ccxt.Exchange) -> list[Symbol]:
    return [Symbol(s) for s in client.symbols or ()]


def _side(raw: dict[str, Any]) -> Side:
    return Side(raw["side"])


def _view(raw: dict[str, Any], now: datetime) -> VenueOrder:
    return venue_order_from(raw, ClientOrderId(raw["clientOrderId"]), Symbol(raw["symbol"]), _side(raw), now)


def _retry_after(client: ccxt.Exchange) -> float | None:
    headers = getattr(client, "last_response_headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
