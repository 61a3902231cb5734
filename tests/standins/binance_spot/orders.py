"""Orders, trades and validated order requests of the stand-in."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from . import errors
from .params import Params
from .symbols import SymbolSpec

OPEN_STATUSES: Final = frozenset({"NEW", "PARTIALLY_FILLED"})
STOP_TYPES: Final = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
LIMIT_PRICED_TYPES: Final = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_TIME_IN_FORCE_TYPES: Final = frozenset({"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_KNOWN_TYPES: Final = frozenset({"MARKET", *LIMIT_PRICED_TYPES, *STOP_TYPES})
_CLIENT_ID: Final = re.compile(errors.CLIENT_ORDER_ID_RANGE)


def generate_client_order_id() -> str:
    """A random id shaped like the ones Binance generates when none is sent."""
    return secrets.token_urlsafe(16)[:22].replace("-", "x").replace("_", "y")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One execution of one of the account's orders."""

    trade_id: int
    order_id: int
    market_id: str
    api_key: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_buyer: bool
    is_maker: bool


@dataclass(slots=True, kw_only=True)
class Order:
    """An order as the matching engine holds it; mutated only by the engine."""

    order_id: int
    client_order_id: str
    api_key: str
    spec: SymbolSpec
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    quote_order_qty: Decimal
    stop_price: Decimal
    time_ms: int
    update_ms: int
    working_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumulative_quote_qty: Decimal = Decimal(0)
    locked_asset: str | None = None
    locked_amount: Decimal = Decimal(0)
    trades: list[Trade] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_working(self) -> bool:
        return self.working_ms >= 0

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """The parameters of POST /api/v3/order after Binance's presence and format checks."""

    spec: SymbolSpec
    side: str
    type: str
    time_in_force: str | None
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    client_order_id: str
    response_type: str

    @classmethod
    def parse(cls, params: Params, spec: SymbolSpec) -> OrderRequest:
        side = params.text("side", required=True)
        order_type = params.text("type", required=True)
        if side not in ("BUY", "SELL"):
            raise errors.invalid_side()
        if order_type not in _KNOWN_TYPES:
            raise errors.invalid_order_type()
        _check_type_parameters(params, order_type)
        client_order_id = params.text("newClientOrderId") or generate_client_order_id()
        if not _CLIENT_ID.match(client_order_id):
            raise errors.illegal_chars("newClientOrderId", errors.CLIENT_ORDER_ID_RANGE)
        return cls(
            spec=spec,
            side=side,
            type=order_type,
            time_in_force=params.text("timeInForce"),
            quantity=params.decimal("quantity"),
            quote_order_qty=params.decimal("quoteOrderQty"),
            price=params.decimal("price"),
            stop_price=params.decimal("stopPrice"),
            client_order_id=client_order_id,
            response_type=_response_type(params, order_type),
        )


def _check_type_parameters(params: Params, order_type: str) -> None:
    if order_type == "MARKET":
        params.reject_present(("price", "timeInForce", "stopPrice"))
        if "quantity" not in params and "quoteOrderQty" not in params:
            raise errors.one_of_mandatory("quantity", "quoteOrderQty")
        if "quantity" in params and "quoteOrderQty" in params:
            raise errors.not_required("quoteOrderQty")
        return
    params.text("quantity", required=True)
    if order_type in LIMIT_PRICED_TYPES:
        params.text("price", required=True)
    else:
        params.reject_present(("price",))
    if order_type in STOP_TYPES:
        params.text("stopPrice", required=True)
    else:
        params.reject_present(("stopPrice",))
    if order_type in _TIME_IN_FORCE_TYPES:
        if params.text("timeInForce", required=True) not in ("GTC", "IOC", "FOK"):
            raise errors.invalid_time_in_force()
    else:
        params.reject_present(("timeInForce",))


def _response_type(params: Params, order_type: str) -> str:
    default = "FULL" if order_type in ("MARKET", "LIMIT") else "ACK"
    value = params.text("newOrderRespType") or default
    if value not in ("ACK", "RESULT", "FULL"):
        raise errors.BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
    return value
