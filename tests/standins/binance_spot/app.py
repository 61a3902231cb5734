"""The aiohttp application speaking Binance's spot REST API (v3) plus the SAPI calls a bot needs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from . import errors, render
from .auth import RawRequest, authenticate, is_signed
from .faults import FaultPlan, FaultRule, RecordedRequest, RequestLog
from .ledger import Account
from .matching import SpotVenue
from .orders import Order, OrderRequest, generate_client_order_id
from .params import Params
from .symbols import SymbolSpec

CONTROL_PREFIX: Final = "/__control/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RESPONSES: Final = {"ACK": render.order_ack, "RESULT": render.order_result, "FULL": render.order_full}


PARAMS: Final = web.RequestKey("params", Params)
ACCOUNT: Final = web.RequestKey("account", Account)


def _params(request: web.Request) -> Params:
    return request[PARAMS]


def _account(request: web.Request) -> Account:
    return request[ACCOUNT]


def _json(payload: object, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


class BinanceSpotApi:
    """Routes, authentication, fault injection and request recording around a SpotVenue."""

    def __init__(self, venue: SpotVenue, faults: FaultPlan, log: RequestLog) -> None:
        self.venue = venue
        self.faults = faults
        self.log = log
        self.closing = asyncio.Event()
        self._update_ids = itertools.count(1)

    def now(self) -> int:
        """Server time in ms, including any injected clock skew."""
        return self.venue.clock() + self.faults.clock_skew_ms

    def routes(self) -> list[web.RouteDef]:
        get, post, delete = web.get, web.post, web.delete
        return [
            get("/api/v3/ping", self.ping),
            get("/api/v3/time", self.time),
            get("/api/v3/exchangeInfo", self.exchange_info),
            get("/api/v3/ticker/24hr", self.ticker_24hr),
            get("/api/v3/ticker/price", self.ticker_price),
            get("/api/v3/ticker/bookTicker", self.book_ticker),
            get("/api/v3/avgPrice", self.avg_price),
            get("/api/v3/klines", self.klines),
            get("/api/v3/depth", self.depth),
            post("/api/v3/order", self.create_order),
            post("/api/v3/order/test", self.test_order),
            get("/api/v3/order", self.query_order),
            delete("/api/v3/order", self.cancel_order),
            get("/api/v3/openOrders", self.open_orders),
            delete("/api/v3/openOrders", self.cancel_open_orders),
            get("/api/v3/allOrders", self.all_orders),
            get("/api/v3/account", self.account),
            get("/api/v3/myTrades", self.my_trades),
            get("/sapi/v1/account/apiRestrictions", self.api_restrictions),
            get("/sapi/v1/account/status", self.account_status),
            get("/sapi/v1/asset/tradeFee", self.trade_fee),
            get("/sapi/v1/system/status", self.system_status),
        ]

    # ------------------------------------------------------------ middleware

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        raw = RawRequest(request.method, request.path, request.rel_url.raw_query_string, await request.text())
        entry = self.log.add(
            RecordedRequest(
                method=raw.method,
                path=raw.path,
                params={},
                api_key=request.headers.get("X-MBX-APIKEY"),
                time_ms=self.now(),
            )
        )
        rule = self.faults.take(raw.method, raw.path)
        entry.fault = rule.kind if rule else None
        try:
            response = await self._handle(request, handler, raw, entry, rule)
        except errors.BinanceError as error:
            response = _json(error.payload(), error.status)
        except web.HTTPException as error:  # e.g. 404 for an endpoint the stand-in does not speak
            entry.status = error.status
            raise
        if entry.status is None:
            entry.status = response.status
        return response

    async def _handle(
        self,
        request: web.Request,
        handler: Handler,
        raw: RawRequest,
        entry: RecordedRequest,
        rule: FaultRule | None,
    ) -> web.StreamResponse:
        params, signature = raw.params()
        entry.params = dict(params.values)
        if rule is not None and rule.kind == "respond":
            return web.Response(
                status=rule.status, text=rule.body, headers=rule.headers, content_type="application/json"
            )
        if rule is not None and rule.kind == "delay":
            await self.sleep(rule.seconds)
            if request.transport is None or request.transport.is_closing():
                entry.status = 0
                return web.Response(status=504)
        request[PARAMS] = params
        if is_signed(raw.path):
            request[ACCOUNT] = authenticate(raw, params, signature, request.headers, self.venue.accounts, self.now())
        if rule is not None and rule.kind == "reject":
            return web.Response(status=rule.status, text=rule.body, content_type="application/json")
        response = await handler(request)
        if rule is not None and rule.kind == "drop":
            entry.status = 0
            await self._lose(request, rule)
        return response

    async def _lose(self, request: web.Request, rule: FaultRule) -> None:
        if rule.drop_mode == "close":
            if request.transport is not None:
                request.transport.abort()
            return
        await self.sleep(rule.seconds)

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the stand-in shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), timeout=seconds)

    # ---------------------------------------------------------- market data

    async def ping(self, request: web.Request) -> web.Response:
        return _json({})

    async def time(self, request: web.Request) -> web.Response:
        return _json({"serverTime": self.now()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        specs = self._requested_specs(_params(request)) or list(self.venue.specs.values())
        return _json(
            {
                "timezone": "UTC",
                "serverTime": self.now(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
                ],
                "exchangeFilters": [],
                "symbols": [spec.exchange_info() for spec in specs],
            }
        )

    def _requested_specs(self, params: Params) -> list[SymbolSpec] | None:
        """symbol=X or symbols=["X","Y"]; None when neither is sent."""
        symbol = params.text("symbol")
        if symbol is not None:
            return [self.venue.spec(symbol)]
        symbols = params.symbol_list()
        return None if symbols is None else [self.venue.spec(symbol) for symbol in symbols]

    def _priced_specs(self, params: Params) -> tuple[list[SymbolSpec], bool]:
        requested = self._requested_specs(params)
        if requested is not None:
            return requested, "symbol" in params
        return [spec for spec in self.venue.specs.values() if spec.market_id in self.venue.prices], False

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        specs, single = self._priced_specs(_params(request))
        tickers = [render.ticker_24h(self.venue, spec, self.now()) for spec in specs]
        return _json(tickers[0] if single else tickers)

    async def ticker_price(self, request: web.Request) -> web.Response:
        specs, single = self._priced_specs(_params(request))
        tickers = [render.price_ticker(self.venue, spec) for spec in specs]
        return _json(tickers[0] if single else tickers)

    async def book_ticker(self, request: web.Request) -> web.Response:
        specs, single = self._priced_specs(_params(request))
        tickers = [render.book_ticker(self.venue, spec) for spec in specs]
        return _json(tickers[0] if single else tickers)

    async def avg_price(self, request: web.Request) -> web.Response:
        spec = self.venue.spec(_params(request).text("symbol", required=True) or "")
        price = render.price_ticker(self.venue, spec)["price"]
        return _json({"mins": 5, "price": price, "closeTime": self.now()})

    async def klines(self, request: web.Request) -> web.Response:
        params = _params(request)
        spec = self.venue.spec(params.text("symbol", required=True) or "")
        interval = params.text("interval", required=True) or ""
        rows = self.venue.candles.klines(
            spec.market_id,
            interval,
            start=params.integer("startTime"),
            end=params.integer("endTime"),
            limit=params.limit(500, 1000),
        )
        return _json(rows)

    async def depth(self, request: web.Request) -> web.Response:
        spec = self.venue.spec(_params(request).text("symbol", required=True) or "")
        return _json(render.depth(self.venue, spec, next(self._update_ids)))

    # --------------------------------------------------------------- trading

    async def create_order(self, request: web.Request) -> web.Response:
        params = _params(request)
        spec = self.venue.spec(params.text("symbol", required=True) or "")
        order_request = OrderRequest.parse(params, spec)
        order = self.venue.place(_account(request), order_request)
        return _json(_RESPONSES[order_request.response_type](order))

    async def test_order(self, request: web.Request) -> web.Response:
        params = _params(request)
        OrderRequest.parse(params, self.venue.spec(params.text("symbol", required=True) or ""))
        return _json({})

    def _lookup(self, request: web.Request) -> tuple[SymbolSpec, Order | None]:
        params = _params(request)
        spec = self.venue.spec(params.text("symbol", required=True) or "")
        order_id, client_id = params.integer("orderId"), params.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise errors.one_of_mandatory("orderId", "origClientOrderId")
        return spec, self.venue.find(_account(request), spec, order_id, client_id)

    async def query_order(self, request: web.Request) -> web.Response:
        _, order = self._lookup(request)
        if order is None:
            raise errors.order_does_not_exist()
        return _json(render.order_query(order))

    async def cancel_order(self, request: web.Request) -> web.Response:
        _, order = self._lookup(request)
        if order is None:
            raise errors.unknown_order()
        cancel_id = _params(request).text("newClientOrderId") or generate_client_order_id()
        return _json(render.order_canceled(self.venue.cancel(order), cancel_id))

    async def open_orders(self, request: web.Request) -> web.Response:
        symbol = _params(request).text("symbol")
        spec = None if symbol is None else self.venue.spec(symbol)
        orders = [order for order in self.venue.account_orders(_account(request), spec) if order.is_open]
        return _json([render.order_query(order) for order in orders])

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        spec = self.venue.spec(_params(request).text("symbol", required=True) or "")
        orders = [order for order in self.venue.account_orders(_account(request), spec) if order.is_open]
        if not orders:
            raise errors.unknown_order()
        return _json([render.order_canceled(self.venue.cancel(order), generate_client_order_id()) for order in orders])

    async def all_orders(self, request: web.Request) -> web.Response:
        params = _params(request)
        spec = self.venue.spec(params.text("symbol", required=True) or "")
        from_id, start, end = (
            params.integer("orderId"),
            params.integer("startTime"),
            params.integer("endTime"),
        )
        orders = [
            order
            for order in self.venue.account_orders(_account(request), spec)
            if (from_id is None or order.order_id >= from_id)
            and (start is None or order.time_ms >= start)
            and (end is None or order.time_ms <= end)
        ]
        limit = params.limit(500, 1000)
        selected = orders[:limit] if from_id is not None or start is not None else orders[-limit:]
        return _json([render.order_query(order) for order in selected])

    async def account(self, request: web.Request) -> web.Response:
        return _json(render.account(self.venue, _account(request), self.now()))

    async def my_trades(self, request: web.Request) -> web.Response:
        params = _params(request)
        spec = self.venue.spec(params.text("symbol", required=True) or "")
        order_id, from_id = params.integer("orderId"), params.integer("fromId")
        start, end = params.integer("startTime"), params.integer("endTime")
        api_key = _account(request).api_key
        trades = [
            trade
            for trade in self.venue.trades
            if trade.api_key == api_key
            and trade.market_id == spec.market_id
            and (order_id is None or trade.order_id == order_id)
            and (from_id is None or trade.trade_id >= from_id)
            and (start is None or trade.time_ms >= start)
            and (end is None or trade.time_ms <= end)
        ]
        limit = params.limit(500, 1000)
        selected = trades[:limit] if from_id is not None or start is not None else trades[-limit:]
        return _json([render.my_trade(trade) for trade in selected])

    # ------------------------------------------------------------------ SAPI

    async def api_restrictions(self, request: web.Request) -> web.Response:
        holder = _account(request)
        return _json(holder.restrictions.payload(holder.created_ms))

    async def account_status(self, request: web.Request) -> web.Response:
        return _json({"data": "Normal"})

    async def trade_fee(self, request: web.Request) -> web.Response:
        specs = self._requested_specs(_params(request)) or list(self.venue.specs.values())
        maker, taker = str(self.venue.maker_fee), str(self.venue.taker_fee)
        return _json([{"symbol": s.market_id, "makerCommission": maker, "takerCommission": taker} for s in specs])

    async def system_status(self, request: web.Request) -> web.Response:
        return _json({"status": 0, "msg": "normal"})
