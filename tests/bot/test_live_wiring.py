"""`tradebot run` with MARKET_SOURCE=live and EXCHANGE_LIVE_ENABLED=true against the Binance stand-in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from bot.main import build_services
from bot.settings import Settings
from bot.telegram_standin import TelegramStandIn
from engine.config import ExchangeConfig, MarketConfig
from engine.domain.accounts import Account, User
from engine.domain.enums import AccountMode, OrderStatus, RiskProfileName, UserStatus
from engine.domain.ids import AccountId, TelegramId, UserId
from engine.errors import ConfigurationError
from engine.order_outcomes import order_from
from engine.ports import Credentials
from jobs.config import JobsConfig
from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.bot.product import product_settings, running_product
from tests.conftest import ENCRYPTION_KEY
from tests.engine.live_harness import ETH, ETH_SPEC, KEY, SECRET
from tests.engine.recovery import entry_command
from tests.standins.binance_spot import BinanceSpotStandin
from tests.standins.binance_spot.orders import OrderRequest as StandinOrder


def live_settings(database: DatabaseConfig, base_url: str) -> Settings:
    return product_settings(
        database,
        exchange=ExchangeConfig(id="binance", base_url=base_url, live_enabled=True, timeout_ms=2000),
        market=MarketConfig(source="live", symbols=[ETH], timeframe="1m", poll_seconds=0.05, live_history=5),
        jobs=JobsConfig(reconcile_seconds=3600),
    )


async def seed_an_order_whose_answer_was_lost(database: DatabaseConfig, standin: BinanceSpotStandin) -> str:
    """A live account, and an entry the exchange filled while the last run of the process was dying."""
    engine = create_engine(database)
    uow = SqlUnitOfWorkFactory(create_session_factory(engine), SecretBox(ENCRYPTION_KEY))
    now = datetime.now(UTC)
    try:
        async with uow() as work:
            user = await work.users.add(
                User(
                    id=UserId(0),
                    telegram_id=TelegramId(777),
                    chat_id=777,
                    name="Lou",
                    status=UserStatus.ACTIVE,
                    created_at=now,
                    profile=RiskProfileName.MODERATE,
                    capital=Decimal(1000),
                    mode=AccountMode.LIVE,
                )
            )
            account = await work.accounts.add(
                Account(id=AccountId(0), user_id=user.id, venue="binance", created_at=now, managed_cash=Decimal(1000)),
                Credentials(KEY, SECRET),
            )
            command = entry_command(user.id, account.id, "binance", "0.1")
            (order,) = await work.orders.add_many([order_from(command, now - timedelta(minutes=5))])
            await work.commit()
    finally:
        await engine.dispose()
    standin.add_account(KEY, SECRET, {"USDT": 1000})
    standin.venue.place(
        standin.venue.accounts[KEY],
        StandinOrder(
            spec=ETH_SPEC,
            side="BUY",
            type="MARKET",
            time_in_force=None,
            quantity=Decimal("0.1"),
            quote_order_qty=None,
            price=None,
            stop_price=None,
            client_order_id=order.client_order_id,
            response_type="FULL",
        ),
    )
    return order.client_order_id


async def test_live_run_reconciles_at_startup_then_polls_the_shared_feed_and_schedules_reconciliation(
    database: DatabaseConfig,
):
    async with BinanceSpotStandin(symbols=[ETH_SPEC], prices={ETH: 1000}) as exchange:
        start = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000) // 60_000 * 60_000
        exchange.set_candles(ETH, [[start + i * 60_000, 1000, 1001, 999, 1000, 5] for i in range(10)])
        client_order_id = await seed_an_order_whose_answer_was_lost(database, exchange)
        settings = live_settings(database, exchange.base_url).model_copy(
            update={"database": database.model_copy(update={"encryption_key": SecretStr(ENCRYPTION_KEY)})}
        )
        async with running_product(settings, TelegramStandIn()) as runtime:
            engine = runtime.services.engine
            async with engine.uow() as work:
                adopted = await work.orders.get(client_order_id)  # type: ignore[arg-type]
                (position,) = await work.positions.all_open()
            while runtime.live is None or runtime.live.polls < 2:  # noqa: ASYNC110 - the driver offers no event
                await asyncio.sleep(0.02)
            health = await runtime.services.health.check()
            assert adopted is not None and adopted.status is OrderStatus.FILLED
            assert position.qty == Decimal("0.0999") and position.stop_order_id is not None
            assert engine.feed.last_price(ETH) == Decimal(1000)
            assert "reconciliation" in runtime.jobs.stats
            assert health["components"]["exchange"]["detail"].startswith("binance via ccxt, 1 markets, live prices")
            assert engine.gateways.for_venue("binance").market(ETH).amount_step == Decimal("0.0001")
        posts = [
            r for r in exchange.requests("POST", "/api/v3/order") if r.params["newClientOrderId"] == client_order_id
        ]
        assert posts == []  # adopted by its client order id, never sent again
        assert exchange.count_requests("GET", "/api/v3/exchangeInfo") == 1


async def test_live_orders_need_live_prices(database: DatabaseConfig):
    settings = product_settings(database, exchange=ExchangeConfig(live_enabled=True))
    with pytest.raises(ConfigurationError, match="MARKET_SOURCE=live"):
        async with build_services(settings):
            pass
