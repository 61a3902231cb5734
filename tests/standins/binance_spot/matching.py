"""The matching model: one scripted price per symbol, resting orders that fill when the price crosses.

There is no order book. Market orders and marketable limit orders fill at once at the current price
(taker); resting limit orders fill at their own price when the price reaches it (maker); stop orders
trigger when the price reaches their stopPrice. Every fill moves the account's balances, charges the
fee in the asset received, and is recorded as a trade.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from . import errors
from .candles import CandleStore
from .ledger import Account
from .orders import LIMIT_PRICED_TYPES, STOP_TYPES, Order, OrderRequest, Trade
from .symbols import DecimalLike, SymbolSpec, floor_to_step, round8, to_decimal


class SpotVenue:
    """Symbols, prices, accounts, orders and trades of the stand-in exchange."""

    def __init__(
        self,
        specs: Iterable[SymbolSpec],
        *,
        clock: Callable[[], int],
        taker_fee: DecimalLike = "0.001",
        maker_fee: DecimalLike = "0.001",
        duplicate_window_ms: int = 0,
    ) -> None:
        self.specs = {spec.market_id: spec for spec in specs}
        self.clock = clock
        self.taker_fee = to_decimal(taker_fee)
        self.maker_fee = to_decimal(maker_fee)
        self.duplicate_window_ms = duplicate_window_ms
        self.prices: dict[str, Decimal] = {}
        self.ticks: dict[str, list[tuple[int, Decimal]]] = {market_id: [] for market_id in self.specs}
        self.candles = CandleStore()
        self.accounts: dict[str, Account] = {}
        self.orders: list[Order] = []
        self.trades: list[Trade] = []
        self.partial_fill_ratios: deque[Decimal] = deque()
        self._order_ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)

    # ----------------------------------------------------------------- lookups

    def spec(self, symbol: str) -> SymbolSpec:
        """Find a symbol by Binance id ("BTCUSDT") or unified symbol ("BTC/USDT")."""
        spec = self.specs.get(symbol.replace("/", ""))
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    def price(self, spec: SymbolSpec) -> Decimal:
        price = self.prices.get(spec.market_id)
        if price is None:
            raise errors.BinanceError(-1000, f"stand-in: no price set for {spec.market_id}; call set_price first")
        return price

    def account_orders(self, account: Account, spec: SymbolSpec | None = None) -> list[Order]:
        return [
            order for order in self.orders if order.api_key == account.api_key and (spec is None or order.spec is spec)
        ]

    def find(self, account: Account, spec: SymbolSpec, order_id: int | None, client_id: str | None) -> Order | None:
        """Find by orderId (precedence, as Binance) or the most recent order with that client id."""
        for order in reversed(self.account_orders(account, spec)):
            if order_id is not None and order.order_id == order_id:
                return order
            if order_id is None and order.client_order_id == client_id:
                return order
        return None

    # ------------------------------------------------------------ price script

    def set_price(self, symbol: str, price: DecimalLike) -> list[Trade]:
        """Move the market to `price`, trigger stops and fill resting orders; return the new trades."""
        spec = self.spec(symbol)
        value = to_decimal(price)
        self.prices[spec.market_id] = value
        self.ticks[spec.market_id].append((self.clock(), value))
        first_trade = len(self.trades)
        for order in [order for order in self.orders if order.spec is spec and order.is_open]:
            self._on_price(order, value)
        return self.trades[first_trade:]

    def run_path(self, symbol: str, prices: Sequence[DecimalLike]) -> list[Trade]:
        """Apply `prices` one after the other, matching after each step."""
        trades: list[Trade] = []
        for price in prices:
            trades.extend(self.set_price(symbol, price))
        return trades

    # ---------------------------------------------------------------- orders

    def place(self, account: Account, request: OrderRequest) -> Order:
        """Validate like Binance (filters, duplicate id, balance), then accept and execute the order."""
        spec = request.spec
        if request.type not in spec.order_types:
            raise errors.order_type_not_supported(request.type.replace("_", " ").title())
        quantity = self._validated_quantity(request)
        self._reject_duplicate(account, request)
        self._reject_immediate_trigger(request)
        order = self._new_order(account, request, quantity)
        if order.type == "MARKET":
            self._require_funds(account, order, quantity)
        self._lock_for(account, order)
        self.orders.append(order)
        self._execute_new(order)
        return order

    def cancel(self, order: Order) -> Order:
        if not order.is_open:
            raise errors.unknown_order()
        self._release(order)
        order.status = "CANCELED"
        order.update_ms = self.clock()
        return order

    # ------------------------------------------------------------ validation

    def _validated_quantity(self, request: OrderRequest) -> Decimal:
        spec = request.spec
        for price in (request.price, request.stop_price):
            if price is not None:
                spec.check_price(price)
        if request.quote_order_qty is not None:
            quantity = floor_to_step(request.quote_order_qty / self.price(spec), spec.step_size)
        else:
            assert request.quantity is not None
            quantity = request.quantity
        spec.check_quantity(quantity)
        reference = request.price or request.stop_price or self.price(spec)
        spec.check_notional(quantity * reference, is_market=request.price is None)
        return quantity

    def _reject_duplicate(self, account: Account, request: OrderRequest) -> None:
        horizon = self.clock() - self.duplicate_window_ms
        for order in self.account_orders(account, request.spec):
            if order.client_order_id != request.client_order_id:
                continue
            if order.is_open or (self.duplicate_window_ms and order.time_ms >= horizon):
                raise errors.duplicate_order()

    def _reject_immediate_trigger(self, request: OrderRequest) -> None:
        if request.type in STOP_TYPES:
            assert request.stop_price is not None
            if _is_triggered(request.type, request.side, request.stop_price, self.price(request.spec)):
                raise errors.would_trigger_immediately()
        if request.type == "LIMIT_MAKER":
            assert request.price is not None
            if _crosses(request.side, request.price, self.price(request.spec)):
                raise errors.would_match_and_take()

    # ------------------------------------------------------------- execution

    def _new_order(self, account: Account, request: OrderRequest, quantity: Decimal) -> Order:
        now = self.clock()
        return Order(
            order_id=next(self._order_ids),
            client_order_id=request.client_order_id,
            api_key=account.api_key,
            spec=request.spec,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force or "GTC",
            price=request.price or Decimal(0),
            orig_qty=quantity,
            quote_order_qty=request.quote_order_qty or Decimal(0),
            stop_price=request.stop_price or Decimal(0),
            time_ms=now,
            update_ms=now,
            working_ms=-1 if request.type in STOP_TYPES else now,
        )

    def _lock_for(self, account: Account, order: Order) -> None:
        """Lock the funds a resting order may use; market orders are checked when they fill."""
        if order.type in LIMIT_PRICED_TYPES:
            asset, amount = (
                (order.spec.quote, round8(order.orig_qty * order.price))
                if order.is_buy
                else (order.spec.base, order.orig_qty)
            )
        elif order.type in STOP_TYPES and not order.is_buy:
            asset, amount = order.spec.base, order.orig_qty
        else:
            return
        account.lock(asset, amount)
        order.locked_asset, order.locked_amount = asset, amount

    def _execute_new(self, order: Order) -> None:
        if order.type == "MARKET":
            self._take(order)
            self._expire_remainder(order)
        elif order.type == "LIMIT":
            self._work_limit(order)

    def _work_limit(self, order: Order) -> None:
        """A limit order that just started working: take if marketable, then rest or expire by TIF."""
        market_price = self.price(order.spec)
        if _crosses(order.side, order.price, market_price):
            if order.time_in_force == "FOK" and self.partial_fill_ratios:
                self.partial_fill_ratios.popleft()
            else:
                self._take(order)
        if order.time_in_force in ("IOC", "FOK"):
            self._expire_remainder(order)

    def _require_funds(self, account: Account, order: Order, quantity: Decimal) -> None:
        if order.is_buy:
            account.require_free(order.spec.quote, round8(quantity * self.price(order.spec)))
        else:
            account.require_free(order.spec.base, quantity)

    def _take(self, order: Order) -> None:
        """Fill at the current price as taker (the whole remainder unless a partial fill is queued)."""
        if order.locked_asset is None:
            self._require_funds(self.accounts[order.api_key], order, order.remaining)
        self._fill(order, self._next_fill_quantity(order), self.price(order.spec), is_maker=False)

    def _on_price(self, order: Order, price: Decimal) -> None:
        if not order.is_working:
            if not _is_triggered(order.type, order.side, order.stop_price, price):
                return
            self._trigger(order)
        elif _crosses(order.side, order.price, price):
            self._fill(order, self._next_fill_quantity(order), order.price, is_maker=True)

    def _trigger(self, order: Order) -> None:
        order.working_ms = order.update_ms = self.clock()
        if order.type in LIMIT_PRICED_TYPES:
            self._work_limit(order)
            return
        self._release(order)
        try:
            self._take(order)
        except errors.BinanceError:
            order.status = "EXPIRED"
            return
        self._expire_remainder(order)

    def _next_fill_quantity(self, order: Order) -> Decimal:
        """The whole remainder, or a part of it while a partial-fill fault is queued."""
        if not self.partial_fill_ratios:
            return order.remaining
        ratio = self.partial_fill_ratios.popleft()
        part = floor_to_step(order.remaining * ratio, order.spec.step_size)
        return min(order.remaining, max(part, order.spec.step_size))

    def _fill(self, order: Order, quantity: Decimal, price: Decimal, *, is_maker: bool) -> None:
        account = self.accounts[order.api_key]
        spec = order.spec
        quote_qty = round8(quantity * price)
        rate = self.maker_fee if is_maker else self.taker_fee
        if order.is_buy:
            commission, commission_asset = round8(quantity * rate), spec.base
            paid = self._consume_lock(order, quantity, round8(quantity * order.price))
            if paid is None:
                account.debit_free(spec.quote, quote_qty)
            else:
                account.credit(spec.quote, paid - quote_qty)
            account.credit(spec.base, quantity - commission)
        else:
            commission, commission_asset = round8(quote_qty * rate), spec.quote
            if self._consume_lock(order, quantity, quantity) is None:
                account.debit_free(spec.base, quantity)
            account.credit(spec.quote, quote_qty - commission)
        now = self.clock()
        trade = Trade(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            market_id=spec.market_id,
            api_key=order.api_key,
            price=price,
            qty=quantity,
            quote_qty=quote_qty,
            commission=commission,
            commission_asset=commission_asset,
            time_ms=now,
            is_buyer=order.is_buy,
            is_maker=is_maker,
        )
        self.trades.append(trade)
        order.trades.append(trade)
        order.executed_qty += quantity
        order.cumulative_quote_qty += quote_qty
        order.update_ms = now
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"

    def _consume_lock(self, order: Order, quantity: Decimal, share: Decimal) -> Decimal | None:
        """Take this fill's share out of the order's locked funds; None when nothing is locked."""
        if order.locked_asset is None:
            return None
        amount = order.locked_amount if quantity == order.remaining else share
        self.accounts[order.api_key].debit_locked(order.locked_asset, amount)
        order.locked_amount -= amount
        return amount

    def _expire_remainder(self, order: Order) -> None:
        if order.remaining > 0:
            self._release(order)
            order.status = "EXPIRED"
            order.update_ms = self.clock()

    def _release(self, order: Order) -> None:
        if order.locked_asset is not None and order.locked_amount:
            self.accounts[order.api_key].unlock(order.locked_asset, order.locked_amount)
        order.locked_asset, order.locked_amount = None, Decimal(0)


def _crosses(side: str, limit: Decimal, price: Decimal) -> bool:
    """Whether a limit order at `limit` can trade at market `price`."""
    return price <= limit if side == "BUY" else price >= limit


def _is_triggered(order_type: str, side: str, stop: Decimal, price: Decimal) -> bool:
    """Binance's trigger rules: stop-loss buys and take-profit sells trigger at or above the stop."""
    triggers_upwards = (order_type.startswith("STOP_LOSS")) == (side == "BUY")
    return price >= stop if triggers_upwards else price <= stop
