"""The paper venue: an exchange simulated in-process, with balances and orders persisted like a real one's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import structlog

from engine.clock import Clock
from engine.domain.accounts import Market
from engine.domain.enums import OrderType, Side
from engine.domain.ids import AccountId, ClientOrderId, Symbol, TradeId, VenueOrderId, split_symbol
from engine.domain.money import ZERO
from engine.domain.venue import Balance, OrderRequest, PriceBar, VenueOrder, VenueStatus, VenueTrade
from engine.errors import DuplicateOrder, OrderRejected, TemporaryError
from engine.gateways import place_one
from engine.paper_matching import (
    FillModel,
    fee_for,
    is_marketable,
    market_fill_price,
    resting_fill_price,
    take_from_budget,
    volume_budgets,
)
from engine.ports import OrderKey, PriceSource, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

PAPER = "paper"
ExecutionListener = Callable[[AccountId, VenueOrder], Awaitable[None]]


class PaperExchange:
    """Fills market orders at the current price (with slippage and a fee); limits and stops rest until crossed."""

    name = PAPER
    holds_only_managed_funds = True  # every coin and cent of a paper account is the bot's: books must match exactly

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        prices: PriceSource,
        clock: Clock,
        markets: Mapping[Symbol, Market],
        fill_model: FillModel | None = None,
    ) -> None:
        self._uow = uow
        self._prices = prices
        self._clock = clock
        self._markets = dict(markets)
        self._model = fill_model or FillModel()
        self._lock = asyncio.Lock()
        self._balances: dict[AccountId, dict[str, Balance]] = {}
        self._resting: dict[tuple[AccountId, ClientOrderId], tuple[OrderRequest, VenueOrder]] | None = None
        self._listeners: list[ExecutionListener] = []

    # --- gateway -------------------------------------------------------------------------------

    async def load_markets(self) -> Mapping[Symbol, Market]:
        return self._markets

    def market(self, symbol: Symbol) -> Market:
        try:
            return self._markets[symbol]
        except KeyError:
            raise OrderRejected(f"{symbol} is not traded on the paper exchange") from None

    async def place_order(self, request: OrderRequest) -> VenueOrder:
        return await place_one(self, request)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[VenueOrder | Exception]:
        """Place many orders in one transaction; each gets its order or the error a real venue would raise."""
        async with self._lock, self._uow() as uow, self._consistent_cache():
            await self._load_resting(uow)
            known = await uow.paper.existing([(r.account_id, r.client_order_id) for r in requests])
            await self._load_balances(uow, {r.account_id for r in requests})
            results: list[VenueOrder | Exception] = []
            accepted: list[tuple[OrderRequest, VenueOrder]] = []
            for request in requests:
                try:
                    order = self._execute(request, known)
                except (OrderRejected, DuplicateOrder, TemporaryError) as error:
                    results.append(error)
                    continue
                known.add((request.account_id, request.client_order_id))
                results.append(order)
                accepted.append((request, order))
            await self._persist(uow, accepted, new=True)
            await uow.commit()
        return results

    async def fetch_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        async with self._uow() as uow:
            return await uow.paper.get_order(account_id, client_order_id)

    async def cancel_order(
        self, account_id: AccountId, symbol: Symbol, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        async with self._lock, self._uow() as uow, self._consistent_cache():
            await self._load_resting(uow)
            assert self._resting is not None
            entry = self._resting.pop((account_id, client_order_id), None)
            if entry is None:
                return await uow.paper.get_order(account_id, client_order_id)
            request, order = entry
            balances = (await self._load_balances(uow, {account_id}))[account_id]
            self._unlock(balances, request, order.qty - order.filled_qty)
            cancelled = replace(order, status=VenueStatus.CANCELLED, ts=self._clock.now())
            await self._persist(uow, [(request, cancelled)])
            await uow.commit()
            return cancelled

    async def fetch_open_orders(self, account_id: AccountId, symbol: Symbol | None = None) -> list[VenueOrder]:
        async with self._uow() as uow:
            orders = await uow.paper.open_orders(account_id)
        return [order for _, order in orders if symbol is None or order.symbol == symbol]

    async def fetch_trades(self, account_id: AccountId, symbol: Symbol, since: datetime | None) -> list[VenueTrade]:
        async with self._uow() as uow:
            orders = await uow.paper.orders_since(account_id, since)
        return [t for o in orders if o.symbol == symbol for t in o.trades if since is None or t.ts >= since]

    async def fetch_balances(self, account_id: AccountId) -> dict[str, Balance]:
        async with self._lock, self._uow() as uow:
            return dict((await self._load_balances(uow, {account_id}))[account_id])

    async def fetch_orders(self, keys: Sequence[OrderKey]) -> list[VenueOrder | Exception | None]:
        async with self._uow() as uow:
            found = await uow.paper.get_orders([(account_id, cid) for account_id, _, cid in keys])
        return [found.get((account_id, cid)) for account_id, _, cid in keys]

    async def fetch_open_orders_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, list[VenueOrder] | Exception]:
        wanted: dict[AccountId, list[VenueOrder] | Exception] = {a: [] for a in account_ids}
        async with self._uow() as uow:
            for request, order in await uow.paper.open_orders():
                listed = wanted.get(request.account_id)
                if isinstance(listed, list):
                    listed.append(order)
        return wanted

    async def fetch_balances_of(
        self, account_ids: Sequence[AccountId]
    ) -> dict[AccountId, dict[str, Balance] | Exception]:
        async with self._lock, self._uow() as uow:
            loaded = await self._load_balances(uow, set(account_ids))
            return {account_id: dict(loaded[account_id]) for account_id in account_ids}

    async def aclose(self) -> None:
        return None

    # --- paper-only controls ---------------------------------------------------------------------

    def on_execution(self, listener: ExecutionListener) -> None:
        """Be told when a resting order fills, as an exchange's user-data stream would."""
        self._listeners.append(listener)

    async def deposit(self, account_id: AccountId, asset: str, amount: Decimal) -> None:
        async with self._lock, self._uow() as uow, self._consistent_cache():
            balances = (await self._load_balances(uow, {account_id}))[account_id]
            _move(balances, asset, amount)
            await uow.paper.set_balances({account_id: balances})
            await uow.commit()

    async def reset_account(self, account_id: AccountId) -> None:
        async with self._lock, self._uow() as uow:
            self._balances[account_id] = {}
            await uow.paper.clear_balances(account_id)
            await uow.commit()

    async def on_bars(self, bars: Mapping[Symbol, PriceBar]) -> list[tuple[AccountId, VenueOrder]]:
        """Match resting orders against the bars just seen, oldest first; tell listeners about every fill.

        Limit orders share the bar's volume (`FillModel.volume_share`), so a large one fills over several bars.
        """
        async with self._lock, self._uow() as uow, self._consistent_cache():
            await self._load_resting(uow)
            assert self._resting is not None
            budgets = volume_budgets(bars, self._model)
            filled: list[tuple[OrderRequest, VenueOrder]] = []
            for key, (request, order) in list(self._resting.items()):
                bar, market = bars.get(request.symbol), self._markets.get(request.symbol)
                if bar is None or market is None:
                    continue
                price = resting_fill_price(request, bar, market, self._model)
                qty = (
                    ZERO if price is None else take_from_budget(request, order.qty - order.filled_qty, market, budgets)
                )
                if price is None or qty <= 0:
                    continue
                balances = (await self._load_balances(uow, {request.account_id}))[request.account_id]
                self._unlock(balances, request, qty)
                done = self._fill(balances, request, order, qty, price)
                if done.status is VenueStatus.FILLED:
                    del self._resting[key]
                else:
                    self._resting[key] = (request, done)
                filled.append((request, done))
            await self._persist(uow, filled)
            await uow.commit()
        for request, order in filled:
            await self._notify(request.account_id, order)
        return [(request.account_id, order) for request, order in filled]

    # --- internals -------------------------------------------------------------------------------

    def _execute(self, request: OrderRequest, known: set[tuple[AccountId, ClientOrderId]]) -> VenueOrder:
        assert self._resting is not None
        if (request.account_id, request.client_order_id) in known:
            raise DuplicateOrder(f"order {request.client_order_id} was already placed")
        market = self.market(request.symbol)
        last = self._prices.last_price(request.symbol)
        if last is None:
            raise TemporaryError(f"no price for {request.symbol} yet")
        level = request.limit_price if request.type is OrderType.LIMIT else request.stop_price
        violation = market.violation(request.qty, level or last)
        if violation is None and level is not None:
            violation = market.price_violation(level)
        if violation:
            raise OrderRejected(f"the exchange refused the order: {violation}")
        balances = self._balances[request.account_id]
        order = _new_order(request, self._clock.now())
        if is_marketable(request, last):
            price = market_fill_price(request.side, last, market, self._model)
            if request.type is OrderType.LIMIT:
                assert request.limit_price is not None
                price = min(price, request.limit_price) if request.side is Side.BUY else max(price, request.limit_price)
            self._require_funds(balances, request, request.qty, price)
            return self._fill(balances, request, order, request.qty, price)
        self._lock_funds(balances, request)
        self._resting[(request.account_id, request.client_order_id)] = (request, order)
        return order

    def _fill(
        self, balances: dict[str, Balance], request: OrderRequest, order: VenueOrder, qty: Decimal, price: Decimal
    ) -> VenueOrder:
        base, quote = split_symbol(request.symbol)
        fee = fee_for(qty, price, self._model)
        notional = qty * price
        if request.side is Side.BUY:
            _move(balances, quote, -(notional + fee))
            _move(balances, base, qty)
        else:
            _move(balances, base, -qty)
            _move(balances, quote, notional - fee)
        now = self._clock.now()
        trade = VenueTrade(
            trade_id=TradeId(f"{request.client_order_id}-{len(order.trades) + 1}"),
            qty=qty,
            price=price,
            ts=now,
            fee=fee,
            fee_currency=quote,
        )
        filled = order.filled_qty + qty
        average = ((order.avg_price or ZERO) * order.filled_qty + notional) / filled
        status = VenueStatus.FILLED if filled == order.qty else VenueStatus.OPEN
        return replace(
            order, status=status, filled_qty=filled, avg_price=average, trades=(*order.trades, trade), ts=now
        )

    def _require_funds(self, balances: dict[str, Balance], request: OrderRequest, qty: Decimal, price: Decimal) -> None:
        base, quote = split_symbol(request.symbol)
        if request.side is Side.BUY:
            asset, needed = quote, qty * price + fee_for(qty, price, self._model)
        else:
            asset, needed = base, qty
        available = balances.get(asset, Balance(asset, ZERO)).free
        if needed > available:
            raise OrderRejected(
                f"insufficient balance: the order needs {needed.normalize():f} {asset}, "
                f"{available.normalize():f} {asset} is free"
            )

    def _lock_funds(self, balances: dict[str, Balance], request: OrderRequest) -> None:
        asset, amount = self._reserve(request, request.qty)
        self._require_funds(balances, request, request.qty, self._reserve_price(request))
        current = balances[asset]
        balances[asset] = Balance(asset, current.free - amount, current.locked + amount)

    def _unlock(self, balances: dict[str, Balance], request: OrderRequest, remaining: Decimal) -> None:
        asset, amount = self._reserve(request, remaining)
        current = balances.get(asset, Balance(asset, ZERO))
        balances[asset] = Balance(asset, current.free + amount, current.locked - amount)

    def _reserve(self, request: OrderRequest, qty: Decimal) -> tuple[str, Decimal]:
        base, quote = split_symbol(request.symbol)
        if request.side is Side.SELL:
            return base, qty
        price = self._reserve_price(request)
        return quote, qty * price + fee_for(qty, price, self._model)

    def _reserve_price(self, request: OrderRequest) -> Decimal:
        level = request.limit_price if request.type is OrderType.LIMIT else request.stop_price
        assert level is not None
        return level * (1 + self._model.slippage) if request.type is OrderType.STOP else level

    async def _load_balances(self, uow: UnitOfWork, accounts: set[AccountId]) -> dict[AccountId, dict[str, Balance]]:
        missing = [a for a in accounts if a not in self._balances]
        if missing:
            loaded = await uow.paper.balances_many(missing)
            for account_id in missing:
                self._balances[account_id] = dict(loaded.get(account_id, {}))
        return self._balances

    @contextlib.asynccontextmanager
    async def _consistent_cache(self) -> AsyncIterator[None]:
        """Forget the in-memory books if a change does not reach the database, so they are reloaded."""
        try:
            yield
        except BaseException:
            self._balances.clear()
            self._resting = None
            raise

    async def _load_resting(self, uow: UnitOfWork) -> None:
        if self._resting is None:
            self._resting = {(r.account_id, r.client_order_id): (r, o) for r, o in await uow.paper.open_orders()}

    async def _persist(
        self, uow: UnitOfWork, orders: Sequence[tuple[OrderRequest, VenueOrder]], *, new: bool = False
    ) -> None:
        await uow.paper.save_orders(orders, new=new)
        touched = {request.account_id for request, _ in orders}
        await uow.paper.set_balances({account_id: self._balances[account_id] for account_id in touched})

    async def _notify(self, account_id: AccountId, order: VenueOrder) -> None:
        for listener in self._listeners:
            try:
                await listener(account_id, order)
            except Exception:
                log.exception(
                    "paper.listener_failed",
                    client_order_id=order.client_order_id,
                    symbol=order.symbol,
                    account=account_id,
                )


def _new_order(request: OrderRequest, now: datetime) -> VenueOrder:
    return VenueOrder(
        client_order_id=request.client_order_id,
        venue_order_id=VenueOrderId(f"P-{request.client_order_id}"),
        symbol=request.symbol,
        side=request.side,
        status=VenueStatus.OPEN,
        qty=request.qty,
        filled_qty=ZERO,
        ts=now,
    )


def _move(balances: dict[str, Balance], asset: str, delta: Decimal) -> None:
    current = balances.get(asset, Balance(asset, ZERO))
    balances[asset] = Balance(asset, current.free + delta, current.locked)
