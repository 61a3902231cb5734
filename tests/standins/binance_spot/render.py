"""Binance's JSON shapes for orders, trades, tickers and the account."""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Final

from .ledger import Account
from .matching import SpotVenue
from .orders import STOP_TYPES, Order, Trade
from .symbols import SymbolSpec, fmt8

DAY_MS: Final = 86_400_000
_BOOK_QTY: Final = "1000.00000000"


def order_ack(order: Order) -> dict[str, object]:
    return {
        "symbol": order.spec.market_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": order.update_ms,
    }


def order_result(order: Order) -> dict[str, object]:
    payload = order_ack(order) | _order_state(order)
    payload["workingTime"] = order.working_ms
    payload["selfTradePreventionMode"] = "EXPIRE_MAKER"
    return payload


def order_full(order: Order) -> dict[str, object]:
    return order_result(order) | {"fills": [_fill(trade) for trade in order.trades]}


def order_query(order: Order) -> dict[str, object]:
    """GET /api/v3/order, openOrders and allOrders entries."""
    return {
        "symbol": order.spec.market_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        **_order_state(order),
        "stopPrice": fmt8(order.stop_price),
        "icebergQty": "0.00000000",
        "time": order.time_ms,
        "updateTime": order.update_ms,
        "isWorking": order.is_working,
        "workingTime": order.working_ms,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def order_canceled(order: Order, cancel_client_id: str) -> dict[str, object]:
    """DELETE /api/v3/order: `clientOrderId` is the cancel's own id, the order's is `origClientOrderId`."""
    payload: dict[str, object] = {
        "symbol": order.spec.market_id,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": order.update_ms,
        **_order_state(order),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    if order.type in STOP_TYPES:
        payload["stopPrice"] = fmt8(order.stop_price)
    return payload


def _order_state(order: Order) -> dict[str, object]:
    state: dict[str, object] = {
        "price": fmt8(order.price),
        "origQty": fmt8(order.orig_qty),
        "executedQty": fmt8(order.executed_qty),
        "origQuoteOrderQty": fmt8(order.quote_order_qty),
        "cummulativeQuoteQty": fmt8(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }
    if order.type in STOP_TYPES:
        state["stopPrice"] = fmt8(order.stop_price)
    return state


def _fill(trade: Trade) -> dict[str, object]:
    return {
        "price": fmt8(trade.price),
        "qty": fmt8(trade.qty),
        "commission": fmt8(trade.commission),
        "commissionAsset": trade.commission_asset,
        "tradeId": trade.trade_id,
    }


def my_trade(trade: Trade) -> dict[str, object]:
    """GET /api/v3/myTrades entries."""
    return {
        "symbol": trade.market_id,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt8(trade.price),
        "qty": fmt8(trade.qty),
        "quoteQty": fmt8(trade.quote_qty),
        "commission": fmt8(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.is_buyer,
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def account(venue: SpotVenue, holder: Account, now: int) -> dict[str, object]:
    maker_bps, taker_bps = int(venue.maker_fee * 10_000), int(venue.taker_fee * 10_000)
    return {
        "makerCommission": maker_bps,
        "takerCommission": taker_bps,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt8(venue.maker_fee),
            "taker": fmt8(venue.taker_fee),
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": holder.restrictions.enable_spot_and_margin_trading,
        "canWithdraw": holder.restrictions.enable_withdrawals,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now,
        "accountType": "SPOT",
        "balances": holder.balances_payload(),
        "permissions": ["SPOT"],
        "uid": zlib.crc32(holder.api_key.encode()),
    }


def ticker_24h(venue: SpotVenue, spec: SymbolSpec, now: int) -> dict[str, object]:
    last = venue.price(spec)
    window = [price for time_ms, price in venue.ticks[spec.market_id] if time_ms >= now - DAY_MS] or [last]
    trades = [trade for trade in venue.trades if trade.market_id == spec.market_id and trade.time_ms >= now - DAY_MS]
    volume = sum((trade.qty for trade in trades), Decimal(0))
    quote_volume = sum((trade.quote_qty for trade in trades), Decimal(0))
    open_price = window[0]
    change = last - open_price
    return {
        "symbol": spec.market_id,
        "priceChange": fmt8(change),
        "priceChangePercent": format((change / open_price * 100).quantize(Decimal("0.001")), "f"),
        "weightedAvgPrice": fmt8(quote_volume / volume if volume else last),
        "prevClosePrice": fmt8(open_price),
        "lastPrice": fmt8(last),
        "lastQty": fmt8(trades[-1].qty if trades else Decimal(0)),
        "bidPrice": fmt8(last),
        "bidQty": _BOOK_QTY,
        "askPrice": fmt8(last),
        "askQty": _BOOK_QTY,
        "openPrice": fmt8(open_price),
        "highPrice": fmt8(max(window)),
        "lowPrice": fmt8(min(window)),
        "volume": fmt8(volume),
        "quoteVolume": fmt8(quote_volume),
        "openTime": now - DAY_MS,
        "closeTime": now,
        "firstId": trades[0].trade_id if trades else -1,
        "lastId": trades[-1].trade_id if trades else -1,
        "count": len(trades),
    }


def book_ticker(venue: SpotVenue, spec: SymbolSpec) -> dict[str, object]:
    price = fmt8(venue.price(spec))
    return {
        "symbol": spec.market_id,
        "bidPrice": price,
        "bidQty": _BOOK_QTY,
        "askPrice": price,
        "askQty": _BOOK_QTY,
    }


def price_ticker(venue: SpotVenue, spec: SymbolSpec) -> dict[str, object]:
    return {"symbol": spec.market_id, "price": fmt8(venue.price(spec))}


def depth(venue: SpotVenue, spec: SymbolSpec, update_id: int) -> dict[str, object]:
    price = fmt8(venue.price(spec))
    return {"lastUpdateId": update_id, "bids": [[price, _BOOK_QTY]], "asks": [[price, _BOOK_QTY]]}
