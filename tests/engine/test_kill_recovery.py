"""A real process submitting an order is killed (SIGKILL); a new engine on the same database reconciles.

The child runs the order manager with the real ccxt binance class against the Binance stand-in (served by
this test, on loopback) and the test's database. It is killed once exactly while the exchange holds the
order and the answer is on its way (the stand-in keeps the response back), and then at seeded random
moments of its submit path. After each kill: reconcile at startup, ask for the same entry again,
reconcile, and check that no order was lost or duplicated and that our positions are the exchange's.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from storage.config import DatabaseConfig
from tests.conftest import ENCRYPTION_KEY
from tests.engine.recovery import (
    BinanceVenue,
    check_books_match_the_venue,
    entry,
    process,
    reconcile,
    running,
)
from tests.standins.binance_spot import BinanceSpotStandin

REPO_ROOT = Path(__file__).resolve().parents[2]


async def start_child(
    database: DatabaseConfig, base_url: str, user_id: int, account_id: int
) -> asyncio.subprocess.Process:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.engine.crash_child",
        "--database-url",
        database.url.get_secret_value(),
        "--search-path",
        database.search_path or "",
        "--exchange-url",
        base_url,
        "--user-id",
        str(user_id),
        "--account-id",
        str(account_id),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "TRADEBOT_TEST_ENCRYPTION_KEY": ENCRYPTION_KEY},
    )
    assert child.stdout is not None
    while (line := await asyncio.wait_for(child.stdout.readline(), timeout=30)) != b"ready\n":
        assert line, "the child exited before it was ready"
    return child


async def kill(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        child.kill()
    await asyncio.wait_for(child.wait(), timeout=10)


async def one_kill(database: DatabaseConfig, venue: BinanceVenue, when: Callable[[], object]) -> None:
    """Open an account, start the child, kill it when `when` resolves, restart and check."""
    async with process(database) as uow, running(uow, venue) as h:
        user, account = await venue.open_account(h)
    child = await start_child(database, venue.standin.base_url, user.id, account.id)
    try:
        await when()  # type: ignore[misc]
    finally:
        await kill(child)
    async with process(database) as uow, running(uow, venue) as h:
        await reconcile(h, at_startup=True)
        await h.orders.submit([entry(user, account, "0.1")])  # the strategy asks again after the restart
        report = await reconcile(h)
        await check_books_match_the_venue(uow, venue, account, report, "after the process was killed")


@pytest.mark.slow
async def test_a_process_killed_after_the_exchange_took_its_order_loses_and_duplicates_nothing(
    clean_databases: Callable[[], Awaitable[DatabaseConfig]], standin: BinanceSpotStandin
):
    venue = BinanceVenue(standin)
    standin.faults.drop_response(mode="hang", seconds=60)  # the order is taken; its answer never comes

    async def order_taken() -> None:
        while not standin.orders(venue.key):  # noqa: ASYNC110 - the stand-in offers no event to wait on
            await asyncio.sleep(0.01)

    await one_kill(await clean_databases(), venue, order_taken)
    standin.faults.clear()
    (order,) = [o for o in standin.orders(venue.key) if o.type == "MARKET"]
    assert order.status == "FILLED"


@pytest.mark.slow
async def test_processes_killed_at_random_moments_lose_and_duplicate_nothing(
    clean_databases: Callable[[], Awaitable[DatabaseConfig]], standin: BinanceSpotStandin
):
    venue = BinanceVenue(standin)
    rng = random.Random(7_2026)
    for _ in range(3):
        delay = rng.uniform(0, 0.25)

        async def after_a_while(delay: float = delay) -> None:
            await asyncio.sleep(delay)

        await one_kill(await clean_databases(), venue, after_a_while)
