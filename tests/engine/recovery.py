"""Shared by the crash tests: the venues under test, one life of the process, and the final check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from engine.ccxt_gateway import CcxtGateway, ClientPool, ExchangeSettings
from engine.clock import SimClock
from engine.domain.accounts import Account, User
from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderStatus
from engine.domain.ids import AccountId, UserId
from engine.paper_exchange import PaperExchange
from engine.paper_matching import FillModel
from engine.ports import Credentials
from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.conftest import ENCRYPTION_KEY
from tests.engine.crash_points import CrashingGateway, CrashPlan
from tests.engine.harness import Harness, build_harness
from tests.engine.live_harness import FAST, add_live_user, live_gateway
from tests.factories import ETH, ETH_MARKET, SettablePrices, entry_order
from tests.standins.binance_spot import BinanceSpotStandin

GRACE = 120
AGREES = {
    OrderStatus.FILLED: "filled",
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "expired",
}


@dataclass
class VenueView:
    orders: dict[str, list[str]]  # client order id -> statuses of the venue's orders with that id
    balances: dict[str, Decimal]  # asset -> total (free and locked)


class Venue(Protocol):
    name: str

    async def open_account(self, h: Harness) -> tuple[User, Account]: ...
    def gateways(self, uow: SqlUnitOfWorkFactory) -> Any: ...
    def crashing(self, crashing_uow: Any, uow: SqlUnitOfWorkFactory, clock: SimClock, plan: CrashPlan) -> Any: ...
    async def view(self, uow: SqlUnitOfWorkFactory, account: Account) -> VenueView: ...


class PaperVenue:
    name = "paper"

    async def open_account(self, h: Harness) -> tuple[User, Account]:
        return await h.onboarded_user()

    def gateways(self, uow: SqlUnitOfWorkFactory) -> None:
        return None

    def crashing(self, crashing_uow: Any, uow: SqlUnitOfWorkFactory, clock: SimClock, plan: CrashPlan) -> Any:
        prices = SettablePrices({ETH: Decimal(1000)})
        return CrashingGateway(PaperExchange(crashing_uow, prices, clock, {ETH: ETH_MARKET}, _fills()), plan)

    async def view(self, uow: SqlUnitOfWorkFactory, account: Account) -> VenueView:
        async with uow() as work:
            orders = await work.paper.orders_since(account.id, None)
            balances = (await work.paper.balances_many([account.id])).get(account.id, {})
        statuses: dict[str, list[str]] = {}
        for order in orders:
            statuses.setdefault(order.client_order_id, []).append(order.status.value)
        return VenueView(statuses, {asset: b.total for asset, b in balances.items()})


class BinanceVenue:
    name = "binance"
    _STATUS = {
        "NEW": "open",
        "PARTIALLY_FILLED": "open",
        "FILLED": "filled",
        "CANCELED": "cancelled",
        "EXPIRED": "expired",
    }

    def __init__(self, standin: BinanceSpotStandin) -> None:
        self.standin = standin
        self._keys = iter(range(1, 10_000))
        self.key = ""

    async def open_account(self, h: Harness) -> tuple[User, Account]:
        self.key = f"key-{next(self._keys)}"
        self.standin.add_account(self.key, "secret", {"USDT": 1000})
        return await add_live_user(h, key=self.key, secret="secret")

    def gateways(self, uow: SqlUnitOfWorkFactory) -> Any:
        return live_gateway(self.standin, uow, rate_limit=False)  # the throttler would only slow the loop

    def crashing(self, crashing_uow: Any, uow: SqlUnitOfWorkFactory, clock: SimClock, plan: CrashPlan) -> Any:
        async def credentials(account_id: AccountId) -> Credentials | None:
            async with uow() as work:
                return await work.accounts.credentials(account_id)

        pool = ClientPool(ExchangeSettings("binance", self.standin.base_url, 1500, rate_limit=False), credentials)
        return CrashingGateway(CcxtGateway(pool, clock, backoff=FAST), plan)

    async def view(self, uow: SqlUnitOfWorkFactory, account: Account) -> VenueView:
        statuses: dict[str, list[str]] = {}
        for order in self.standin.orders(self.key):
            statuses.setdefault(order.client_order_id, []).append(self._STATUS[order.status])
        balances = {a: b.free + b.locked for a, b in self.standin.venue.accounts[self.key].balances.items()}
        return VenueView(statuses, balances)


def _fills() -> FillModel:
    return FillModel(Decimal("0.001"), Decimal(0))


def entry(user: User, account: Account, qty: str) -> SubmitOrder:
    return entry_command(user.id, account.id, account.venue, qty)


def entry_command(user_id: UserId, account_id: AccountId, venue: str, qty: str) -> SubmitOrder:
    """The entry every crash test places: a market buy with its protective stop, from one fixed cause."""
    return entry_order(user_id, account_id, venue=venue, qty=qty, origin="signal:crash:entry")


@asynccontextmanager
async def process(database: DatabaseConfig) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """One life of the product's process: its own connections to the database."""
    engine = create_engine(database)
    try:
        yield SqlUnitOfWorkFactory(create_session_factory(engine), SecretBox(ENCRYPTION_KEY))
    finally:
        await engine.dispose()


@asynccontextmanager
async def running(uow: SqlUnitOfWorkFactory, venue: Venue) -> AsyncIterator[Harness]:
    h = await build_harness(uow, more_gateways=venue.gateways(uow))
    try:
        if venue.name != "paper":
            await h.engine.gateways.for_venue(venue.name).load_markets()
        yield h
    finally:
        await h.engine.gateways.aclose()


async def reconcile(h: Harness, *, at_startup: bool = False) -> Any:
    h.clock.advance(timedelta(seconds=GRACE + 1))
    assert h.engine.reconciler is not None
    return await h.engine.reconciler.run(every_account=at_startup)


async def check_books_match_the_venue(
    uow: SqlUnitOfWorkFactory, venue: Venue, account: Account, report: Any, where: str
) -> None:
    """No order lost or duplicated, every status agreed, positions and cash equal to the venue's."""
    where = f"{venue.name}, {where}"
    seen = await venue.view(uow, account)
    async with uow() as work:
        orders = await work.orders.for_user(account.user_id, limit=100)
        positions = await work.positions.open_for_account(account.id)
        stored = await work.accounts.get(account.id)
    assert stored is not None
    ours = {o.client_order_id: o for o in orders}
    assert set(seen.orders) <= set(ours), f"{where}: an order at the venue is missing from our books"
    assert all(len(s) == 1 for s in seen.orders.values()), f"{where}: a client order id was used twice"
    for order in orders:
        at_venue = seen.orders.get(order.client_order_id)
        expected = None if order.status is OrderStatus.REJECTED else [AGREES.get(order.status, "unsettled")]
        assert at_venue == expected, f"{where}: {order.client_order_id} is {order.status} here, {at_venue} there"
    dust = seen.balances.get("ETH", Decimal(0)) - sum(p.qty for p in positions)  # too little to sell, once closed
    assert Decimal(0) <= dust < ETH_MARKET.smallest_qty, f"{where}: coins differ by {dust}"
    assert stored.managed_cash == seen.balances.get("USDT", Decimal(0)), f"{where}: cash differs"
    for position in positions:
        assert position.stop_order_id and seen.orders.get(position.stop_order_id) == ["open"], f"{where}: no stop"
    assert report.differences == {} and report.failed == {}, f"{where}: {report.differences} {report.failed}"
