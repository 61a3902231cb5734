"""Symbols of the stand-in: their filters, validated exactly as Binance does, and their exchangeInfo entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Final, TypeAlias

from . import errors

EIGHT_PLACES: Final = Decimal("0.00000001")
DEFAULT_ORDER_TYPES: Final = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)

DecimalLike: TypeAlias = Decimal | str | int | float


def to_decimal(value: DecimalLike) -> Decimal:
    """Convert a number given by a test (or JSON) to Decimal without float noise."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt8(value: Decimal) -> str:
    """Render a number the way Binance does: fixed point with eight decimals."""
    return format(value.quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP), "f")


def round8(value: Decimal) -> Decimal:
    return value.quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _is_multiple(value: Decimal, origin: Decimal, step: Decimal) -> bool:
    return step == 0 or (value - origin) % step == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSpec:
    """One spot market; defaults resemble Binance's BTCUSDT."""

    symbol: str
    tick_size: Decimal = Decimal("0.01")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    order_types: tuple[str, ...] = field(default=DEFAULT_ORDER_TYPES)
    status: str = "TRADING"

    @classmethod
    def parse(cls, symbol: str, **overrides: DecimalLike) -> SymbolSpec:
        """Build a spec from a unified symbol and optional filter overrides given as strings or numbers."""
        return cls(symbol=symbol, **{key: to_decimal(value) for key, value in overrides.items()})

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    @property
    def market_id(self) -> str:
        return self.base + self.quote

    def check_price(self, price: Decimal) -> None:
        """Apply PRICE_FILTER to a limit or stop price."""
        too_low = price < self.min_price
        too_high = self.max_price != 0 and price > self.max_price
        if too_low or too_high or not _is_multiple(price, self.min_price, self.tick_size):
            raise errors.filter_failure("PRICE_FILTER")

    def check_quantity(self, quantity: Decimal) -> None:
        """Apply LOT_SIZE to an order quantity."""
        out_of_range = quantity < self.min_qty or quantity > self.max_qty
        if out_of_range or not _is_multiple(quantity, self.min_qty, self.step_size):
            raise errors.filter_failure("LOT_SIZE")

    def check_notional(self, notional: Decimal, *, is_market: bool) -> None:
        """Apply NOTIONAL (min applies to all orders, max only to limit orders, as Binance's defaults)."""
        if notional < self.min_notional or (not is_market and notional > self.max_notional):
            raise errors.filter_failure("NOTIONAL")

    def exchange_info(self) -> dict[str, object]:
        """The symbol's entry in GET /api/v3/exchangeInfo."""
        return {
            "symbol": self.market_id,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(self.order_types),
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self._filters(),
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _filters(self) -> list[dict[str, object]]:
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt8(self.min_price),
                "maxPrice": fmt8(self.max_price),
                "tickSize": fmt8(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt8(self.min_qty),
                "maxQty": fmt8(self.max_qty),
                "stepSize": fmt8(self.step_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt8(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt8(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ]
