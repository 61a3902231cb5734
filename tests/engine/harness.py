"""A trading engine on a real database, a paper venue and prices the test sets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.account_guard import AccountGuard
from engine.bus import EventBus
from engine.clock import SimClock
from engine.domain.accounts import Account, Market, User
from engine.domain.enums import AccountMode, RiskProfileName
from engine.domain.ids import Symbol
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.paper_exchange import PaperExchange
from engine.paper_matching import FillModel
from engine.ports import ExchangeGateway
from engine.runtime import TradingEngine
from engine.strategies.base import StrategyRunner
from engine.system import SystemControl
from engine.users import AccessPolicy
from risk.phases import DEFAULT_PHASES, PhaseName
from risk.profiles import DEFAULT_PROFILES
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.factories import ADA_MARKET, ETH_MARKET, T0, SettablePrices


@dataclass
class Harness:
    uow: SqlUnitOfWorkFactory
    clock: SimClock
    bus: EventBus
    prices: SettablePrices
    paper: PaperExchange
    engine: TradingEngine
    events: list[object]

    @property
    def orders(self) -> OrderManager:
        return self.engine.orders

    async def onboarded_user(
        self, telegram_id: int = 501, capital: str = "1000", profile: RiskProfileName = RiskProfileName.MODERATE
    ) -> tuple[User, Account]:
        users = self.engine.users
        user = await users.arrive(telegram_id, telegram_id, f"user{telegram_id}")
        user = await users.onboard(user, profile, Decimal(capital), AccountMode.PAPER)
        account = await users.account(user)
        assert account is not None
        return user, account


GatewayFactory = Callable[[SimClock, AccountGuard], Sequence[ExchangeGateway]]


async def build_harness(
    uow: SqlUnitOfWorkFactory,
    markets: dict[Symbol, Market] | None = None,
    fill_model: FillModel | None = None,
    more_gateways: GatewayFactory | None = None,
) -> Harness:
    """An engine on `uow` with a paper venue (and `more_gateways`, e.g. a ccxt one, built on its clock)."""
    clock = SimClock(T0)
    bus = EventBus()
    guard = AccountGuard(uow, clock, bus)
    events: list[object] = []
    bus.subscribe_all(_recorder(events))
    prices = SettablePrices({ETH_MARKET.symbol: Decimal("1000"), ADA_MARKET.symbol: Decimal("0.5")})
    markets = markets or {ETH_MARKET.symbol: ETH_MARKET, ADA_MARKET.symbol: ADA_MARKET}
    paper = PaperExchange(uow, prices, clock, markets, fill_model or FillModel(Decimal("0.001"), Decimal(0)))
    system = SystemControl(uow, clock, bus, DEFAULT_PHASES, PhaseName.OPEN, DEFAULT_PROFILES, Decimal("0.001"))
    engine = TradingEngine.assemble(
        uow=uow,
        clock=clock,
        bus=bus,
        feed=prices,
        gateways=GatewayRegistry([paper, *(more_gateways(clock, guard) if more_gateways else ())]),
        paper=paper,
        strategies=StrategyRunner([], clock),
        system=system,
        access=AccessPolicy(frozenset(), frozenset(), frozenset()),
        quote_currency="USDT",
    )
    await engine.start()
    return Harness(uow, clock, bus, prices, paper, engine, events)


def _recorder(events: list[object]):  # type: ignore[no-untyped-def]
    async def record(event: object) -> None:
        events.append(event)

    return record
