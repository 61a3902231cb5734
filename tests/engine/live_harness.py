"""An engine with a live Binance account: the real ccxt binance class against the Binance stand-in on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from engine.ccxt_gateway import Backoff, CcxtGateway, ClientPool, ExchangeSettings
from engine.domain.accounts import Account, User
from engine.domain.commands import SubmitOrder
from engine.domain.enums import AccountMode, RiskProfileName
from engine.domain.ids import AccountId, Symbol
from engine.ports import Credentials
from engine.reconciliation import ReconciliationReport
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness, build_harness
from tests.factories import entry_order
from tests.standins.binance_spot import BinanceSpotStandin, SymbolSpec

KEY, SECRET = "key-alice", "secret-alice"
ETH = Symbol("ETH/USDT")
ETH_SPEC = SymbolSpec(symbol="ETH/USDT", step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"))
FAST = Backoff(attempts=4, first_delay=0.01, max_delay=0.05)
GRACE = 120.0


@dataclass
class Live:
    standin: BinanceSpotStandin
    h: Harness
    gateway: CcxtGateway
    user: User
    account: Account

    def held(self, asset: str, api_key: str = KEY) -> Decimal:
        """What the exchange holds for the key: free and locked."""
        balance = self.standin.balance(api_key, asset)
        return balance.free + balance.locked

    async def reconcile(self, *, after: float = GRACE, every_account: bool = False) -> ReconciliationReport:
        """Let `after` seconds pass on the engine's clock, then reconcile."""
        self.h.clock.advance(timedelta(seconds=after))
        assert self.h.engine.reconciler is not None
        return await self.h.engine.reconciler.run(every_account=every_account)

    def entry(self, qty: str = "0.1", origin: str = "signal:live:entry", **changes: object) -> SubmitOrder:
        owner = {"user_id": self.user.id, "account_id": self.account.id} | changes  # another user's entry, if given
        user_id, account_id = owner.pop("user_id"), owner.pop("account_id")
        return entry_order(user_id, account_id, venue="binance", qty=qty, origin=origin, **owner)  # type: ignore[arg-type]


def live_gateway(  # type: ignore[no-untyped-def]
    standin: BinanceSpotStandin, uow: SqlUnitOfWorkFactory, timeout_ms: int = 1500, rate_limit: bool = True
):
    """A factory for `build_harness`: the ccxt gateway with keys read from the database, as in production."""

    async def credentials(account_id: AccountId) -> Credentials | None:
        async with uow() as work:
            return await work.accounts.credentials(account_id)

    def make(clock, guard):  # type: ignore[no-untyped-def]
        pool = ClientPool(ExchangeSettings("binance", standin.base_url, timeout_ms, rate_limit), credentials)
        return [CcxtGateway(pool, clock, backoff=FAST, on_operational=guard.on_operational_error)]

    return make


async def add_live_user(
    h: Harness, telegram_id: int = 601, capital: str = "1000", key: str = KEY, secret: str = SECRET
) -> tuple[User, Account]:
    user = await h.engine.users.arrive(telegram_id, telegram_id, f"user{telegram_id}")
    user = await h.engine.users.onboard(user, RiskProfileName.MODERATE, Decimal(capital), AccountMode.LIVE)
    async with h.uow() as work:
        account = await work.accounts.add(
            Account(
                id=AccountId(0),
                user_id=user.id,
                venue="binance",
                created_at=h.clock.now(),
                key_hint=key[-4:],
                managed_cash=Decimal(capital),
                day_start_equity=Decimal(capital),
            ),
            Credentials(api_key=key, secret=secret),
        )
        await work.commit()
    return user, account


@asynccontextmanager
async def live_engine(
    uow: SqlUnitOfWorkFactory,
    *,
    usdt: str = "1000",
    capital: str | None = None,
    timeout_ms: int = 1500,
    specs: list[SymbolSpec] | None = None,
) -> AsyncIterator[Live]:
    async with BinanceSpotStandin(symbols=specs or [ETH_SPEC], prices={ETH: 1000}) as standin:
        standin.add_account(KEY, SECRET, {"USDT": usdt})
        h = await build_harness(uow, more_gateways=live_gateway(standin, uow, timeout_ms))
        try:
            gateway = h.engine.gateways.for_venue("binance")
            assert isinstance(gateway, CcxtGateway)
            await gateway.load_markets()
            user, account = await add_live_user(h, capital=capital or usdt)
            yield Live(standin, h, gateway, user, account)
        finally:
            await h.engine.gateways.aclose()
