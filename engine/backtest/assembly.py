"""One simulated trader: the product's engine on a paper venue and a simulated clock, with a single account.

The backtest and the replay it is checked against are put together here with the same parts `tradebot run`
uses (`TradingEngine.assemble`): only the storage, the feed and the strategy runner are chosen by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from engine.bus import EventBus
from engine.clock import SimClock
from engine.domain.accounts import Market, User
from engine.domain.enums import AccountMode
from engine.domain.ids import StrategyId, Symbol
from engine.gateways import GatewayRegistry
from engine.market_data.replay import ReplayFeed
from engine.paper_exchange import PaperExchange
from engine.paper_matching import FillModel
from engine.ports import UnitOfWorkFactory
from engine.runtime import TradingEngine
from engine.strategies.base import StrategyRunner
from engine.system import SystemControl
from engine.users import AccessPolicy
from risk.phases import DEFAULT_PHASES, PhaseName, RolloutPhase
from risk.profiles import RiskProfile

BACKTEST_TELEGRAM_ID = 1  # the one simulated user

# A simulated account is not a real user joining: no rollout limit on its capital.
UNLIMITED_PHASE: RolloutPhase = replace(
    DEFAULT_PHASES[PhaseName.OPEN], min_capital=Decimal(0), max_capital=Decimal("1e15")
)


@dataclass(frozen=True, slots=True)
class TraderSetup:
    """What is simulated: who trades (profile, capital), where (markets, fills) and what they follow."""

    strategy: StrategyId
    profile: RiskProfile
    capital: Decimal
    markets: Mapping[Symbol, Market]
    quote: str
    fill_model: FillModel = field(default_factory=FillModel)

    @property
    def followed_profile(self) -> RiskProfile:
        """The profile, made to follow the strategy under test (whatever it follows in the product)."""
        return replace(self.profile, strategies=frozenset({self.strategy}))


async def assemble_trader(
    setup: TraderSetup, uow: UnitOfWorkFactory, clock: SimClock, feed: ReplayFeed, runner: StrategyRunner
) -> tuple[TradingEngine, User]:
    """The engine, started, and the simulated user, onboarded on paper and following only `setup.strategy`."""
    bus = EventBus()
    paper = PaperExchange(uow, feed, clock, setup.markets, setup.fill_model)
    profile = setup.followed_profile
    system = SystemControl(
        uow,
        clock,
        bus,
        {PhaseName.OPEN: UNLIMITED_PHASE},
        PhaseName.OPEN,
        {profile.name.value: profile},
        cost_rate=setup.fill_model.fee_rate + setup.fill_model.slippage,
    )
    engine = TradingEngine.assemble(
        uow=uow,
        clock=clock,
        bus=bus,
        feed=feed,
        gateways=GatewayRegistry([paper]),
        paper=paper,
        strategies=runner,
        system=system,
        access=AccessPolicy(frozenset(), frozenset({BACKTEST_TELEGRAM_ID}), frozenset()),
        quote_currency=setup.quote,
    )
    await engine.start()
    user = await engine.users.arrive(BACKTEST_TELEGRAM_ID, BACKTEST_TELEGRAM_ID, "backtest")
    user = await engine.users.onboard(user, profile.name, setup.capital, AccountMode.PAPER)
    async with uow() as work:
        await work.users.subscribe(user.id, [setup.strategy], clock.now())
        await work.commit()
    return engine, user
