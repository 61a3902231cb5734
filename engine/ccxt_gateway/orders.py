"""An order request as the arguments of ccxt's `create_order`, formatted with ccxt's precision helpers.

Quantities and prices are already on the market's steps when they get here (sizing and the stop levels
round them); the helpers format them for the exchange, and a value they would change is refused rather
than sent different from the order we stored.

Stops: a stop-market order, as ccxt's unified `stopLossPrice` on a market order (Binance spot:
`STOP_LOSS` with `stopPrice`). Where the market offers only stop-limit orders (Binance's `orderTypes`
without `STOP_LOSS`), a `STOP_LOSS_LIMIT` whose limit sits `STOP_LIMIT_ROOM` beyond the stop, so it
still fills in a fast market.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import ccxt.async_support as ccxt

from engine.domain.accounts import Market
from engine.domain.enums import OrderType, Side
from engine.domain.venue import OrderRequest
from engine.errors import OrderRejected

STOP_LIMIT_ROOM: Final = Decimal("0.01")  # a stop-limit sell's limit 1% under its stop (above it for a buy)


def order_arguments(
    client: ccxt.Exchange, market: Market, request: OrderRequest
) -> tuple[str, str, str | None, dict[str, Any]]:
    """(type, amount, price, params) for `create_order`; refuses what the exchange would refuse anyway."""
    violation = market.qty_violation(request.qty)
    if violation is not None:
        raise OrderRejected(f"The exchange would refuse the order: {violation}.")
    amount = _formatted(client.amount_to_precision(request.symbol, format(request.qty, "f")), request.qty, "quantity")
    params: dict[str, Any] = {"clientOrderId": request.client_order_id}
    if request.type is OrderType.MARKET:
        return "market", amount, None, params
    if request.type is OrderType.LIMIT:
        assert request.limit_price is not None
        return "limit", amount, _price(client, market, request, request.limit_price), params | {"timeInForce": "GTC"}
    assert request.stop_price is not None
    params["stopLossPrice"] = _price(client, market, request, request.stop_price)
    offered = _order_types(client, request)
    if offered is None or "STOP_LOSS" in offered:
        return "market", amount, None, params
    if "STOP_LOSS_LIMIT" in offered:
        limit = _stop_limit(market, request.side, request.stop_price)
        return "limit", amount, _price(client, market, request, limit), params | {"timeInForce": "GTC"}
    raise OrderRejected(f"The exchange offers no stop orders for {request.symbol}.")


def _price(client: ccxt.Exchange, market: Market, request: OrderRequest, price: Decimal) -> str:
    violation = market.price_violation(price)
    if violation is not None:
        raise OrderRejected(f"The exchange would refuse the order: {violation}.")
    return _formatted(client.price_to_precision(request.symbol, format(price, "f")), price, "price")


def _formatted(text: str, value: Decimal, what: str) -> str:
    if Decimal(text) != value:
        raise OrderRejected(f"The exchange would change the {what} {value} to {text}; the order was not sent.")
    return text


def _order_types(client: ccxt.Exchange, request: OrderRequest) -> list[str] | None:
    """The order types the exchange lists for the market (Binance does); None when it does not say."""
    info = (client.markets.get(request.symbol) or {}).get("info") or {}
    types = info.get("orderTypes")
    return list(types) if isinstance(types, list) else None


def _stop_limit(market: Market, side: Side, stop: Decimal) -> Decimal:
    if side is Side.SELL:
        return max(market.price_step, market.round_price(stop * (1 - STOP_LIMIT_ROOM)))
    return market.round_price(stop * (1 + STOP_LIMIT_ROOM))
