"""ccxt's unified structures (dicts of floats) into the domain's exact types, and back into request numbers.

ccxt parses the exchange's decimal strings into floats; a float's shortest repr gives the same decimal
back for the at most 15 significant digits exchanges send, so `to_decimal` recovers the exact value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from ccxt.base.decimal_to_precision import TICK_SIZE

from engine.domain.accounts import Market
from engine.domain.enums import Side
from engine.domain.ids import ClientOrderId, Symbol, TradeId, VenueOrderId
from engine.domain.money import ZERO, normalize, to_decimal
from engine.domain.venue import Balance, Ticker, VenueOrder, VenueStatus, VenueTrade

Raw = dict[str, Any]

_STATUS: Final = {
    "open": VenueStatus.OPEN,
    "closed": VenueStatus.FILLED,
    "canceled": VenueStatus.CANCELLED,
    "cancelled": VenueStatus.CANCELLED,
    "expired": VenueStatus.EXPIRED,
    "rejected": VenueStatus.REJECTED,
}


def exact(value: object, default: Decimal | None = None) -> Decimal | None:
    return default if value is None else normalize(to_decimal(value))


def when(ms: object, fallback: datetime) -> datetime:
    """A ccxt millisecond timestamp; missing or placeholder values (Binance's -1) give `fallback`."""
    if isinstance(ms, int | float) and ms > 0:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    return fallback


def market_from(raw: Raw, precision_mode: int) -> Market:
    """A ccxt market into the domain's trading rules (steps from its precision, minimums from its limits)."""
    precision, limits = raw.get("precision") or {}, raw.get("limits") or {}
    amount_limits, cost_limits = limits.get("amount") or {}, limits.get("cost") or {}
    amount_step = _step(precision.get("amount"), precision_mode)
    return Market(
        symbol=Symbol(raw["symbol"]),
        base=raw["base"],
        quote=raw["quote"],
        price_step=_step(precision.get("price"), precision_mode),
        amount_step=amount_step,
        min_qty=exact(amount_limits.get("min"), amount_step) or amount_step,
        max_qty=exact(amount_limits.get("max")),
        min_notional=exact(cost_limits.get("min"), ZERO) or ZERO,
    )


def _step(precision: object, mode: int) -> Decimal:
    if precision is None:
        return ZERO
    if mode == TICK_SIZE:
        return exact(precision) or ZERO
    return Decimal(1).scaleb(-int(precision))  # DECIMAL_PLACES: the number of decimals


def venue_order_from(raw: Raw, client_order_id: ClientOrderId, symbol: Symbol, side: Side, now: datetime) -> VenueOrder:
    """A ccxt order as the venue's view of ours; trades come from its fills (empty when the exchange omits them)."""
    ts = max(
        (when(raw.get(key), now) for key in ("lastUpdateTimestamp", "lastTradeTimestamp", "timestamp")),
        default=now,
    )
    filled = exact(raw.get("filled"), ZERO) or ZERO
    return VenueOrder(
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(str(raw["id"])) if raw.get("id") is not None else None,
        symbol=symbol,
        side=side,
        status=_STATUS.get(raw.get("status") or "open", VenueStatus.OPEN),
        qty=exact(raw.get("amount"), ZERO) or ZERO,
        filled_qty=filled,
        avg_price=exact(raw.get("average")) if filled > 0 else None,
        trades=tuple(trade_from(t, ts) for t in raw.get("trades") or () if t.get("id") is not None),
        ts=ts,
    )


def trade_from(raw: Raw, fallback: datetime) -> VenueTrade:
    fee = raw.get("fee") or {}
    return VenueTrade(
        trade_id=TradeId(str(raw["id"])),
        qty=exact(raw.get("amount"), ZERO) or ZERO,
        price=exact(raw.get("price"), ZERO) or ZERO,
        ts=when(raw.get("timestamp"), fallback),
        fee=exact(fee.get("cost"), ZERO) or ZERO,
        fee_currency=fee.get("currency") or "",
    )


def balances_from(raw: Raw) -> dict[str, Balance]:
    free, used, total = raw.get("free") or {}, raw.get("used") or {}, raw.get("total") or {}
    balances = {}
    for asset, amount in total.items():
        if amount:
            balances[asset] = Balance(asset, exact(free.get(asset), ZERO) or ZERO, exact(used.get(asset), ZERO) or ZERO)
    return balances


def ticker_from(raw: Raw, now: datetime) -> Ticker | None:
    last = raw.get("last") or raw.get("close")
    if last is None:
        return None
    return Ticker(
        symbol=Symbol(raw["symbol"]),
        last=exact(last) or ZERO,
        bid=exact(raw.get("bid")),
        ask=exact(raw.get("ask")),
        ts=when(raw.get("timestamp"), now),
    )


def candle_from(row: list[Any]) -> tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """[open time ms, open, high, low, close, volume]."""
    return (int(row[0]), *(exact(v, ZERO) or ZERO for v in row[1:6]))  # type: ignore[return-value]
