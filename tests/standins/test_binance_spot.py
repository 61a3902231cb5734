"""The Binance spot stand-in driven by the real ccxt.async_support.binance client over loopback HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt
import pytest

from tests.standins.binance_spot import BinanceSpotStandin, SymbolSpec, rewrite_api_urls

KEY, SECRET = "key-alice", "secret-alice"
OTHER_KEY, OTHER_SECRET = "key-bob", "secret-bob"
BTC, ETH = "BTC/USDT", "ETH/USDT"
ORDER = "/api/v3/order"
REPO_ROOT = Path(__file__).resolve().parents[2]

ExchangeFactory = Callable[..., ccxt.binance]


@pytest.fixture
async def standin() -> AsyncIterator[BinanceSpotStandin]:
    eth = SymbolSpec(symbol=ETH, step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"))
    async with BinanceSpotStandin(symbols=[BTC, eth], prices={BTC: 30000, ETH: 2000}) as server:
        server.add_account(KEY, SECRET, {"USDT": 10_000, "BTC": 1})
        yield server


@pytest.fixture
async def make_exchange(standin: BinanceSpotStandin) -> AsyncIterator[ExchangeFactory]:
    """Build real ccxt binance clients pointed at the stand-in; all are closed at teardown."""
    created: list[ccxt.binance] = []

    def factory(
        api_key: str = KEY, secret: str = SECRET, timeout_ms: int = 3000, base_url: str | None = None
    ) -> ccxt.binance:
        exchange = ccxt.binance(
            {
                "apiKey": api_key,
                "secret": secret,
                "enableRateLimit": False,  # the throttler only spaces requests; it would slow the suite
                "timeout": timeout_ms,
                "options": {
                    "fetchMarkets": {"types": ["spot"]},
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                },
            }
        )
        exchange.urls["api"] = rewrite_api_urls(exchange.urls["api"], base_url or standin.base_url)
        exchange.timeout_on_exit = 0  # exists in ccxt 4.5.90 (default 250 ms sleep in close())
        created.append(exchange)
        return exchange

    yield factory
    for exchange in created:
        await exchange.close()


@pytest.fixture
async def exchange(make_exchange: ExchangeFactory) -> ccxt.binance:
    client = make_exchange()
    await client.load_markets()
    return client


def _balance(standin: BinanceSpotStandin, asset: str) -> tuple[Decimal, Decimal]:
    balance = standin.balance(KEY, asset)
    return balance.free, balance.locked


# ---------------------------------------------------------------- market data


async def test_load_markets_parses_filters_into_precision_and_limits(
    standin: BinanceSpotStandin, make_exchange: ExchangeFactory
) -> None:
    # Arrange
    client = make_exchange()
    # Act
    markets = await client.load_markets()
    # Assert
    btc = markets[BTC]
    assert btc["id"] == "BTCUSDT" and btc["spot"] is True and btc["active"] is True
    assert btc["precision"] == {"amount": 0.00001, "price": 0.01, "base": 1e-08, "quote": 1e-08}
    assert btc["limits"]["cost"]["min"] == 5.0
    assert btc["limits"]["amount"] == {"min": 0.00001, "max": 9000.0}
    assert client.amount_to_precision(BTC, 0.123456789) == "0.12345"
    assert client.amount_to_precision(ETH, 0.123456789) == "0.1234"
    assert client.price_to_precision(BTC, 30000.129) == "30000.13"  # prices round, amounts truncate
    assert [(r.method, r.path) for r in standin.requests()] == [("GET", "/api/v3/exchangeInfo")]


async def test_fetch_ticker_reflects_the_scripted_price_path(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    standin.run_path(BTC, [31000, 29000, 30500])
    # Act
    ticker = await exchange.fetch_ticker(BTC)
    # Assert
    assert (ticker["last"], ticker["bid"], ticker["ask"]) == (30500.0, 30500.0, 30500.0)
    assert (ticker["open"], ticker["high"], ticker["low"]) == (30000.0, 31000.0, 29000.0)
    assert standin.requests(path="/api/v3/ticker/24hr")[0].params == {"symbol": "BTCUSDT"}


async def test_fetch_tickers_many_and_all(standin: BinanceSpotStandin, exchange: ccxt.binance) -> None:
    # Act
    some = await exchange.fetch_tickers([ETH])
    every = await exchange.fetch_tickers()
    quotes = await exchange.fetch_bids_asks([BTC, ETH])
    last_prices = await exchange.fetch_last_prices()
    book = await exchange.fetch_order_book(BTC)
    # Assert
    assert list(some) == [ETH] and some[ETH]["last"] == 2000.0
    assert sorted(every) == [BTC, ETH]
    assert quotes[BTC]["bid"] == 30000.0 and quotes[ETH]["ask"] == 2000.0
    assert {symbol: entry["price"] for symbol, entry in last_prices.items()} == {BTC: 30000.0, ETH: 2000.0}
    assert book["bids"][0][0] == 30000.0 and book["asks"][0][0] == 30000.0
    sent = [r.params for r in standin.requests(path="/api/v3/ticker/24hr")]
    assert sent == [{"symbols": '["ETHUSDT"]'}, {}]


async def test_fetch_ohlcv_serves_scripted_candles_by_range_and_limit(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    start = 1_700_000_000_000
    rows = [[start + i * 60_000, 100 + i, 110 + i, 90 + i, 105 + i, 7] for i in range(5)]
    standin.set_candles(BTC, rows)
    # Act
    newest = await exchange.fetch_ohlcv(BTC, "1m", limit=2)
    from_second = await exchange.fetch_ohlcv(BTC, "1m", since=start + 60_000, limit=2)
    hourly = await exchange.fetch_ohlcv(BTC, "1h", limit=2)
    # Assert
    assert newest == [
        [start + 180_000, 103.0, 113.0, 93.0, 108.0, 7.0],
        [start + 240_000, 104.0, 114.0, 94.0, 109.0, 7.0],
    ]
    assert [row[0] for row in from_second] == [start + 60_000, start + 120_000]
    assert hourly == []


# ------------------------------------------------------------------- trading


async def test_market_buy_with_client_order_id_fills_at_once_with_fee_in_base(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Act
    order = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "buy-1"})
    # Assert
    assert (order["status"], order["filled"], order["cost"], order["average"]) == (
        "closed",
        0.01,
        300.0,
        30000.0,
    )
    assert order["clientOrderId"] == "buy-1"
    assert order["fee"] == {"currency": "BTC", "cost": 0.00001}
    assert len(order["trades"]) == 1 and order["trades"][0]["id"] is not None
    assert _balance(standin, "BTC") == (Decimal("1.00999"), 0)
    assert _balance(standin, "USDT") == (Decimal("9700"), 0)
    assert standin.requests("POST", ORDER)[0].params["newClientOrderId"] == "buy-1"


async def test_market_sell_charges_the_fee_in_quote_and_cost_orders_use_quote_quantity(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Act
    sold = await exchange.create_order(BTC, "market", "sell", 0.1)
    bought = await exchange.create_market_buy_order_with_cost(BTC, 150)
    # Assert
    assert sold["fee"] == {"currency": "USDT", "cost": 3.0}
    assert standin.requests("POST", ORDER)[1].params["quoteOrderQty"] == "150"
    assert bought["filled"] == 0.005 and bought["cost"] == 150.0
    assert _balance(standin, "USDT") == (Decimal("10000") + 3000 - 3 - 150, 0)


async def test_limit_order_rests_locks_funds_then_fills_as_maker_when_price_crosses(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "dip-1"})
    locked_while_open = _balance(standin, "USDT")
    # Act
    assert standin.set_price(BTC, 29500) == []
    trades = standin.set_price(BTC, 28900)
    fetched = await exchange.fetch_order(placed["id"], BTC)
    # Assert
    assert placed["status"] == "open" and placed["filled"] == 0.0
    assert locked_while_open == (Decimal("9710"), Decimal("290"))
    assert [(t.price, t.qty, t.is_maker) for t in trades] == [(Decimal(29000), Decimal("0.01"), True)]
    assert (fetched["status"], fetched["filled"], fetched["average"]) == ("closed", 0.01, 29000.0)
    assert _balance(standin, "USDT") == (Decimal("9710"), 0)


async def test_marketable_limit_order_fills_at_once_at_the_better_market_price(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Act
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 31000)
    # Assert
    assert (order["status"], order["average"]) == ("closed", 30000.0)
    assert _balance(standin, "USDT") == (Decimal("9700"), 0)


@pytest.mark.parametrize(
    ("response_type", "keys_absent"),
    [("ACK", {"status", "fills", "executedQty"}), ("RESULT", {"fills"}), ("FULL", set())],
)
async def test_new_order_response_types(exchange: ccxt.binance, response_type: str, keys_absent: set[str]) -> None:
    # Act
    order = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"newOrderRespType": response_type})
    # Assert
    assert {"symbol", "orderId", "clientOrderId", "transactTime"} <= order["info"].keys()
    assert not keys_absent & order["info"].keys()
    assert order["status"] == (None if response_type == "ACK" else "closed")


@pytest.mark.parametrize(
    ("time_in_force", "price", "partial", "expected"),
    [
        ("IOC", 29000, False, ("expired", 0.0)),
        ("IOC", 31000, True, ("expired", 0.005)),
        ("FOK", 31000, True, ("expired", 0.0)),
        ("FOK", 31000, False, ("closed", 0.01)),
    ],
)
async def test_immediate_or_cancel_and_fill_or_kill(
    standin: BinanceSpotStandin,
    exchange: ccxt.binance,
    time_in_force: str,
    price: int,
    partial: bool,
    expected: tuple[str, float],
) -> None:
    # Arrange
    if partial:
        standin.faults.partial_fills("0.5")
    # Act
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, price, {"timeInForce": time_in_force})
    # Assert
    assert (order["status"], order["filled"]) == expected
    assert standin.balance(KEY, "USDT").locked == 0


async def test_partial_fill_then_cancel_releases_the_rest(standin: BinanceSpotStandin, exchange: ccxt.binance) -> None:
    # Arrange
    standin.faults.partial_fills("0.4")
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "part-1"})
    standin.set_price(BTC, 28900)
    # Act
    partial = await exchange.fetch_order(placed["id"], BTC)
    canceled = await exchange.cancel_order(placed["id"], BTC)
    # Assert
    assert (partial["status"], partial["filled"], partial["remaining"]) == ("open", 0.004, 0.006)
    assert partial["info"]["status"] == "PARTIALLY_FILLED"
    assert (canceled["status"], canceled["filled"]) == ("canceled", 0.004)
    assert canceled["info"]["origClientOrderId"] == "part-1"
    assert _balance(standin, "USDT") == (Decimal("10000") - Decimal("116"), 0)
    assert standin.set_price(BTC, 28000) == []


async def test_stop_loss_limit_triggers_when_price_crosses_the_stop(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    placed = await exchange.create_order(BTC, "limit", "sell", 0.01, 28900, {"stopLossPrice": 29000})
    locked_while_pending = _balance(standin, "BTC")
    # Act
    untouched = standin.set_price(BTC, 29500)
    triggered = standin.set_price(BTC, 28950)
    # Assert
    sent = standin.requests("POST", ORDER)[0].params
    assert (sent["type"], sent["stopPrice"]) == ("STOP_LOSS_LIMIT", "29000")
    assert (placed["status"], placed["type"], placed["triggerPrice"]) == ("open", "limit", 29000.0)
    assert placed["info"]["workingTime"] == -1  # as Binance: a pending stop is not working yet…
    assert placed["timestamp"] == -1  # …and ccxt 4.5.90 prefers workingTime over transactTime
    assert locked_while_pending == (Decimal("0.99"), Decimal("0.01"))
    assert untouched == []
    assert [(t.price, t.is_maker) for t in triggered] == [(Decimal(28950), False)]
    assert standin.balance(KEY, "BTC").locked == 0


async def test_stop_that_would_trigger_immediately_is_rejected(exchange: ccxt.binance) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="Order would trigger immediately"):
        await exchange.create_order(BTC, "limit", "sell", 0.01, 30900, {"stopLossPrice": 31000})


async def test_fetch_order_by_client_order_id_sends_orig_client_order_id(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "find-me"})
    # Act
    found = await exchange.fetch_order(None, BTC, {"clientOrderId": "find-me"})
    # Assert
    assert found["id"] == placed["id"] and found["clientOrderId"] == "find-me"
    query = standin.requests("GET", ORDER)[0].params
    assert query["origClientOrderId"] == "find-me" and "orderId" not in query
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order(None, BTC, {"clientOrderId": "never-sent"})
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await exchange.cancel_order("999999", BTC)


async def test_duplicate_client_order_id_maps_to_invalid_order_not_duplicate_order_id(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "same"})
    # Act
    with pytest.raises(ccxt.InvalidOrder) as raised:
        await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "same"})
    # Assert
    assert type(raised.value) is ccxt.InvalidOrder
    assert not isinstance(raised.value, ccxt.DuplicateOrderId)
    assert "Duplicate order sent." in str(raised.value)
    assert len(standin.orders(KEY)) == 1


async def test_client_order_id_is_free_again_once_the_order_is_closed_unless_a_window_is_set(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange: Binance documents uniqueness among *open* orders only
    await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "reused"})
    # Act
    again = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "reused"})
    standin.venue.duplicate_window_ms = 60_000
    # Assert
    assert again["status"] == "closed"
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "reused"})


async def test_insufficient_balance_maps_to_insufficient_funds_and_creates_nothing(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Act / Assert: a real shortfall (1 BTC costs 30000 USDT), then the injected fault on a small order
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "limit", "buy", 1, 30000)
    standin.faults.insufficient_balance()
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "market", "buy", 0.001)
    assert standin.orders() == []
    assert _balance(standin, "USDT") == (Decimal(10000), 0)
    assert standin.count_requests("POST", ORDER) == 2


async def test_filter_failures_map_to_the_classes_ccxt_really_raises(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # LOT_SIZE and PRICE_FILTER are caught by message (InvalidOrder); NOTIONAL only by code -1013 (BadRequest)
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.000015",
                "price": "29000",
            }
        )
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        await exchange.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "29000.005",
            }
        )
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order(BTC, "market", "buy", 0.0001)
    standin.faults.invalid_quantity()
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.create_order(BTC, "market", "buy", 0.01)
    assert standin.orders() == []


async def test_missing_mandatory_parameter_is_a_bad_request(exchange: ccxt.binance) -> None:
    with pytest.raises(ccxt.BadRequest, match="-1102"):
        await exchange.private_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01"})


async def test_open_orders_all_orders_cancel_all_balance_and_my_trades(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Arrange
    filled = await exchange.create_order(BTC, "market", "buy", 0.02)
    resting = await exchange.create_order(BTC, "limit", "sell", 0.5, 35000)
    await exchange.create_order(ETH, "limit", "buy", 1, 1500)
    # Act
    open_btc = await exchange.fetch_open_orders(BTC)
    every_btc = await exchange.fetch_orders(BTC)
    balance = await exchange.fetch_balance()
    trades = await exchange.fetch_my_trades(BTC)
    canceled = await exchange.cancel_all_orders(BTC)
    # Assert
    assert [o["id"] for o in open_btc] == [resting["id"]]
    assert [o["id"] for o in every_btc] == [filled["id"], resting["id"]]
    assert (balance["BTC"]["free"], balance["BTC"]["used"]) == (0.51998, 0.5)
    assert (balance["USDT"]["free"], balance["USDT"]["used"]) == (7900.0, 1500.0)
    assert [(t["order"], t["side"], t["amount"], t["takerOrMaker"]) for t in trades] == [
        (filled["id"], "buy", 0.02, "taker")
    ]
    assert [o["status"] for o in canceled] == ["canceled"]
    assert len(await exchange.fetch_open_orders(ETH)) == 1


async def test_accounts_are_isolated_per_api_key(standin: BinanceSpotStandin, make_exchange: ExchangeFactory) -> None:
    # Arrange
    standin.add_account(OTHER_KEY, OTHER_SECRET, {"USDT": 50})
    alice, bob = make_exchange(), make_exchange(OTHER_KEY, OTHER_SECRET)
    await alice.create_order(BTC, "limit", "buy", 0.01, 29000)
    # Act
    bob_orders = await bob.fetch_open_orders(BTC)
    bob_balance = await bob.fetch_balance()
    # Assert
    assert bob_orders == []
    assert bob_balance["USDT"]["free"] == 50.0 and "BTC" not in bob_balance["total"]
    assert standin.count_requests("POST", ORDER, api_key=KEY) == 1
    assert standin.count_requests(api_key=OTHER_KEY) == 2


async def test_api_key_permissions_are_reported_per_key(
    standin: BinanceSpotStandin, make_exchange: ExchangeFactory
) -> None:
    # Arrange
    standin.add_account(OTHER_KEY, OTHER_SECRET, enable_withdrawals=True)
    # Act
    safe = await make_exchange().sapi_get_account_apirestrictions()
    risky = await make_exchange(OTHER_KEY, OTHER_SECRET).sapi_get_account_apirestrictions()
    # Assert
    assert (safe["enableWithdrawals"], safe["enableSpotAndMarginTrading"], safe["enableReading"]) == (
        False,
        True,
        True,
    )
    assert risky["enableWithdrawals"] is True


# ---------------------------------------------------------------- auth errors


async def test_bad_signature_and_unknown_key_are_authentication_errors(
    standin: BinanceSpotStandin, make_exchange: ExchangeFactory
) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await make_exchange(KEY, "wrong-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await make_exchange("no-such-key", SECRET).fetch_balance()
    assert [r.status for r in standin.requests(path="/api/v3/account")] == [400, 401]


async def test_rejected_key_after_a_successful_private_call_surfaces_as_ddos_protection(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # ccxt treats -2015 after an earlier success as Binance's temporary ban
    await exchange.fetch_balance()
    standin.set_api_restrictions(KEY, enable_spot_and_margin_trading=False)
    with pytest.raises(ccxt.DDoSProtection, match="-2015"):
        await exchange.create_order(BTC, "market", "buy", 0.01)
    assert standin.orders() == []


async def test_clock_skew_beyond_recv_window_is_invalid_nonce(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    standin.faults.skew_clock(-20_000)  # server 20 s behind: ccxt's timestamp is "ahead"
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await exchange.fetch_balance()
    standin.faults.skew_clock(20_000)  # server 20 s ahead: outside ccxt's recvWindow of 10 s
    with pytest.raises(ccxt.InvalidNonce, match="outside of the recvWindow"):
        await exchange.fetch_balance()


async def test_signature_covers_every_parameter(standin: BinanceSpotStandin) -> None:
    # Arrange: sign one query, then send a tampered one
    query = urlencode({"symbol": "BTCUSDT", "timestamp": int(time.time() * 1000)})
    signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    tampered = query.replace("BTCUSDT", "ETHUSDT")
    async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY}) as session:
        # Act
        good = await session.get(f"{standin.base_url}/api/v3/openOrders?{query}&signature={signature}")
        bad = await session.get(f"{standin.base_url}/api/v3/openOrders?{tampered}&signature={signature}")
        # Assert
        assert (good.status, await good.json()) == (200, [])
        assert bad.status == 400
        assert await bad.json() == {"code": -1022, "msg": "Signature for this request is not valid."}


# ---------------------------------------------------------- injected faults


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, ccxt.DDoSProtection), (418, ccxt.DDoSProtection)],
)
async def test_rate_limit_status_maps_to_ddos_protection(
    standin: BinanceSpotStandin, exchange: ccxt.binance, status: int, expected: type[Exception]
) -> None:
    # Arrange
    standin.faults.rate_limit(path=ORDER, status=status, retry_after=7)
    # Act
    with pytest.raises(expected) as raised:
        await exchange.create_order(BTC, "market", "buy", 0.01)
    # Assert
    assert type(raised.value) is expected and not isinstance(raised.value, ccxt.RateLimitExceeded)
    assert exchange.last_response_headers["Retry-After"] == "7"
    assert standin.orders() == []
    assert (await exchange.create_order(BTC, "market", "buy", 0.01))["status"] == "closed"


async def test_code_1003_with_status_400_maps_to_rate_limit_exceeded(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    standin.faults.respond(400, {"code": -1003, "msg": "Too many requests queued."}, path="/api/v3/account")
    with pytest.raises(ccxt.RateLimitExceeded):
        await exchange.fetch_balance()


@pytest.mark.parametrize(
    ("status", "with_code", "expected"),
    [
        (503, False, ccxt.ExchangeNotAvailable),
        (502, False, ccxt.ExchangeNotAvailable),
        (500, False, ccxt.ExchangeNotAvailable),
        (503, True, ccxt.OperationFailed),
        (504, False, ccxt.RequestTimeout),
    ],
)
async def test_server_errors_map_to_the_classes_ccxt_raises(
    standin: BinanceSpotStandin,
    exchange: ccxt.binance,
    status: int,
    with_code: bool,
    expected: type[Exception],
) -> None:
    standin.faults.server_error(status, with_code=with_code, path="/api/v3/account", times=2)
    for _ in range(2):
        with pytest.raises(expected) as raised:
            await exchange.fetch_balance()
        assert type(raised.value) is expected
    assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0


async def test_delay_past_the_client_timeout_is_a_request_timeout_and_creates_nothing(
    standin: BinanceSpotStandin, make_exchange: ExchangeFactory
) -> None:
    # Arrange
    client = make_exchange(timeout_ms=300)
    await client.load_markets()
    standin.faults.delay(5, path=ORDER)
    # Act
    with pytest.raises(ccxt.RequestTimeout):
        await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "slow-1"})
    await asyncio.sleep(0.05)
    # Assert
    assert standin.count_requests("POST", ORDER) == 1
    assert standin.orders() == []


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("hang", ccxt.RequestTimeout), ("close", ccxt.ExchangeNotAvailable)],
)
async def test_dropped_response_after_accept_leaves_exactly_one_order_to_reconcile(
    standin: BinanceSpotStandin, make_exchange: ExchangeFactory, mode: str, expected: type[Exception]
) -> None:
    # Arrange
    client = make_exchange(timeout_ms=300)
    await client.load_markets()
    standin.faults.drop_response(mode=mode)  # type: ignore[arg-type]
    # Act
    with pytest.raises(expected) as raised:
        await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "lost-1"})
    reconciled = await client.fetch_order(None, BTC, {"clientOrderId": "lost-1"})
    # Assert
    assert type(raised.value) is expected
    assert [(o.client_order_id, o.status) for o in standin.orders()] == [("lost-1", "FILLED")]
    assert (reconciled["status"], reconciled["filled"]) == ("closed", 0.01)
    assert standin.count_requests("POST", ORDER) == 1
    assert _balance(standin, "USDT") == (Decimal("9700"), 0)


async def test_every_request_is_recorded_with_method_path_params_key_and_status(
    standin: BinanceSpotStandin, exchange: ccxt.binance
) -> None:
    # Act
    await exchange.create_order(BTC, "limit", "buy", 0.01, 29000, {"clientOrderId": "rec-1"})
    # Assert
    entry = standin.requests("POST", ORDER)[0]
    assert (entry.api_key, entry.status, entry.fault) == (KEY, 200, None)
    assert {k: entry.params[k] for k in ("symbol", "side", "type", "quantity", "price", "timeInForce")} == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "29000",
        "timeInForce": "GTC",
    }
    assert "signature" not in entry.params and "timestamp" in entry.params


# ------------------------------------------------------------- as a process


async def test_subprocess_mode_serves_trades_and_takes_faults_over_the_control_endpoint(
    make_exchange: ExchangeFactory,
) -> None:
    # Arrange
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.standins.binance_spot",
        "--api-key",
        "proc-key",
        "--secret",
        "proc-secret",
        "--symbols",
        "BTC/USDT,ETH/USDT",
        "--price",
        "BTC/USDT=30000",
        "--balance",
        "USDT=1000",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode().strip()
        client = make_exchange("proc-key", "proc-secret", base_url=base_url)
        # Act
        order = await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "proc-1"})
        async with aiohttp.ClientSession(base_url) as control:
            toggled = await control.post("/__control/faults/rate_limit", json={"path": "/api/v3/account"})
            with pytest.raises(ccxt.DDoSProtection):
                await client.fetch_balance()
            balance = await client.fetch_balance()
            moved = await control.post("/__control/set_price", json={"symbol": BTC, "price": "31000"})
            ticker = await client.fetch_ticker(BTC)
            orders = await (await control.get("/__control/orders", params={"api_key": "proc-key"})).json()
            seen = await (await control.get("/__control/requests", params={"path": ORDER})).json()
            unknown = await control.post("/__control/no_such_command", json={})
        # Assert
        assert base_url.startswith("http://127.0.0.1:")
        assert order["status"] == "closed" and order["fee"]["currency"] == "BTC"
        assert toggled.status == 200 and balance["USDT"]["free"] == 700.0
        assert moved.status == 200 and ticker["last"] == 31000.0
        assert [(o["clientOrderId"], o["status"]) for o in orders["result"]] == [("proc-1", "FILLED")]
        assert [(r["method"], r["api_key"], r["status"]) for r in seen["result"]] == [("POST", "proc-key", 200)]
        assert unknown.status == 404
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), timeout=10) in (0, -15)
