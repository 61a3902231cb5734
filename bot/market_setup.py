"""Where prices come from (MARKET_SOURCE), with the clock that goes with them, and the live exchange.

replay: recorded candles on a simulated clock, paper trading only. live: one ccxt client set for the
exchange (EXCHANGE_ID), shared by the live feed, the paper venue's trading rules and, with
EXCHANGE_LIVE_ENABLED=true, every user's live account (keys decrypted from the database on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.settings import Settings
from engine.account_guard import AccountGuard
from engine.bus import EventBus
from engine.ccxt_gateway import CcxtGateway, ClientPool, CredentialsProvider, ExchangeSettings
from engine.clock import Clock, SimClock, SystemClock
from engine.domain.accounts import Market
from engine.domain.ids import AccountId, Symbol
from engine.errors import BotError, ConfigurationError
from engine.gateway_timing import GatewayTimings
from engine.market_data.live import LiveFeed
from engine.market_data.recorded_markets import load_replay_series, replay_markets
from engine.market_data.replay import ReplayFeed, ms_to_datetime
from engine.paper_matching import FillModel
from engine.ports import Credentials, MarketFeed
from storage.unit_of_work import SqlUnitOfWorkFactory

REPLAY_CURSOR = "replay_cursor"


@dataclass
class MarketSetup:
    feed: MarketFeed
    clock: Clock
    markets: dict[Symbol, Market]
    guard: AccountGuard
    description: str  # for /health
    exchange: CcxtGateway | None = None  # live prices (and, with EXCHANGE_LIVE_ENABLED, live accounts)
    live_gateways: list[CcxtGateway] = field(default_factory=list)

    @property
    def exchanges(self) -> list[str]:
        """The exchanges this process talks to (for /health)."""
        return [self.exchange.name] if self.exchange is not None else []

    async def aclose(self) -> None:
        if self.exchange is not None:
            await self.exchange.aclose()


async def open_market(
    settings: Settings, uow: SqlUnitOfWorkFactory, bus: EventBus, timings: GatewayTimings | None = None
) -> MarketSetup:
    """The market; with `timings`, every request to the exchange is timed."""
    if settings.market.source == "live":
        return await _live_market(settings, uow, bus, timings)
    if settings.exchange.live_enabled:
        raise ConfigurationError("EXCHANGE_LIVE_ENABLED=true needs MARKET_SOURCE=live: live orders need live prices")
    feed, clock, markets = await _replay_market(settings, uow)
    description = f"paper venue, {len(markets)} markets, replayed prices"
    return MarketSetup(feed, clock, markets, AccountGuard(uow, clock, bus), description)


def fill_model(settings: Settings) -> FillModel:
    exchange = settings.exchange
    return FillModel(fee_rate=exchange.fee_rate, slippage=exchange.slippage, volume_share=exchange.paper_volume_share)


async def _live_market(
    settings: Settings, uow: SqlUnitOfWorkFactory, bus: EventBus, timings: GatewayTimings | None
) -> MarketSetup:
    clock = SystemClock()
    guard = AccountGuard(uow, clock, bus)
    exchange = settings.exchange
    pool = ClientPool(ExchangeSettings(exchange.id, exchange.base_url, exchange.timeout_ms), _stored_keys(uow), timings)
    gateway = CcxtGateway(pool, clock, on_operational=guard.on_operational_error)
    try:
        await gateway.load_markets()
        markets = {symbol: gateway.market(symbol) for symbol in settings.market.symbols}
    except BotError as error:
        await gateway.aclose()
        raise ConfigurationError(f"cannot load the {exchange.id} markets: {error}") from error
    market = settings.market
    feed = LiveFeed(gateway, market.symbols, market.timeframe, clock, history=market.live_history)
    live = [gateway] if exchange.live_enabled else []
    description = f"{exchange.id} via ccxt, {len(markets)} markets, live prices" + (", live accounts" if live else "")
    return MarketSetup(feed, clock, markets, guard, description, gateway, live)


def _stored_keys(uow: SqlUnitOfWorkFactory) -> CredentialsProvider:
    """Exchange keys as the database holds them, decrypted only when a client for the account is made."""

    async def read(account_id: AccountId) -> Credentials | None:
        async with uow() as work:
            return await work.accounts.credentials(account_id)

    return read


async def _replay_market(settings: Settings, uow: SqlUnitOfWorkFactory) -> tuple[ReplayFeed, SimClock, dict]:  # type: ignore[type-arg]
    market = settings.market
    series = load_replay_series(market.symbols, market.timeframe, settings.exchange.quote, market.replay_rate)
    async with uow() as work:
        cursor = await work.system.get(REPLAY_CURSOR)
    clock = SimClock(ms_to_datetime(min(int(c.ts[0]) for c in series)))
    feed = ReplayFeed(series, clock, warmup=market.replay_warmup, resume_ms=int(cursor) if cursor else None)
    return feed, clock, replay_markets(series, settings.exchange.quote)
