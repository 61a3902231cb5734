"""The process the kill test kills: an order manager on the test's database and the Binance stand-in.

    python -m tests.engine.crash_child --database-url URL [--search-path S] --exchange-url URL \\
        --user-id 1 --account-id 1 --qty 0.1

The key that decrypts the account's API keys comes in TRADEBOT_TEST_ENCRYPTION_KEY. Prints "ready" when it
is about to submit the entry the crash tests use, "done" when the order manager returned.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from pydantic import SecretStr

from engine.bus import EventBus
from engine.ccxt_gateway import CcxtGateway, ClientPool, ExchangeSettings
from engine.clock import SimClock
from engine.domain.ids import AccountId, UserId
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.ports import Credentials
from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.recovery import entry_command
from tests.factories import T0


async def run(args: argparse.Namespace) -> None:
    key = os.environ["TRADEBOT_TEST_ENCRYPTION_KEY"]
    config = DatabaseConfig(url=SecretStr(args.database_url), search_path=args.search_path or None)
    database = create_engine(config)
    uow = SqlUnitOfWorkFactory(create_session_factory(database), SecretBox(key))

    async def credentials(account_id: AccountId) -> Credentials | None:
        async with uow() as work:
            return await work.accounts.credentials(account_id)

    clock = SimClock(T0)
    gateway = CcxtGateway(ClientPool(ExchangeSettings("binance", args.exchange_url, 20_000), credentials), clock)
    manager = OrderManager(uow, GatewayRegistry([gateway]), clock, EventBus())
    try:
        await gateway.load_markets()
        print("ready", flush=True)
        await manager.submit([entry_command(UserId(args.user_id), AccountId(args.account_id), "binance", args.qty)])
        print("done", flush=True)
    finally:
        await gateway.aclose()
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.engine.crash_child")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--search-path", default="")
    parser.add_argument("--exchange-url", required=True)
    parser.add_argument("--user-id", type=int, required=True)
    parser.add_argument("--account-id", type=int, required=True)
    parser.add_argument("--qty", default="0.1")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
