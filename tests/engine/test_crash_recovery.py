"""The submit path stopped at every await point, then a new engine on the same database reconciles.

For each venue (the paper venue, and the real ccxt binance class against the Binance stand-in) and each
scenario (an entry with its protective stop; closing a position, which lifts its stop first), the task
running the order manager is cancelled at every await point of the path in turn, plus randomised ones.
The process is then "restarted": a fresh engine on the same database reconciles, the strategy asks for
the same thing again, and reconciliation runs once more. Then:

* no order lost: every order at the venue is in our books;
* none duplicated: one order per client order id at the venue, and what the venue holds agrees with the
  status we stored for every order (no order left `new`, `submitted` or `unknown`);
* positions equal the exchange's: coins held equal our open positions, quote cash equals managed cash;
* an open position has its protective stop resting at the venue; reconciliation finds nothing to explain.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from engine.bus import EventBus
from engine.clock import SimClock
from engine.domain.accounts import Account, User
from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from storage.config import DatabaseConfig
from tests.engine.crash_points import CrashingUnitOfWorkFactory, CrashPlan
from tests.engine.recovery import (
    BinanceVenue,
    PaperVenue,
    Venue,
    check_books_match_the_venue,
    entry,
    process,
    reconcile,
    running,
)
from tests.factories import ETH, T0
from tests.standins.binance_spot import BinanceSpotStandin

# --- scenarios ----------------------------------------------------------------------------------

Action = Callable[[OrderManager], Awaitable[object]]


@dataclass(frozen=True)
class Scenario:
    name: str
    opens_first: bool  # an entry (not crashed) opens the position the crashed action works on

    def action(self, user: User, account: Account, qty: str) -> Action:
        if self.name == "entry":
            command = entry(user, account, qty)
            return lambda manager: manager.submit([command])
        close = ClosePosition(
            user_id=user.id, account_id=account.id, symbol=ETH, purpose=OrderPurpose.MANUAL_CLOSE, reason="asked"
        )
        return lambda manager: manager.close_positions([close])


ENTRY, EXIT = Scenario("entry", False), Scenario("exit", True)


# --- processes ------------------------------------------------------------------------------------


async def crash(database: DatabaseConfig, venue: Venue, action: Action, plan: CrashPlan) -> bool:
    """Run `action` in a process whose task is cancelled at `plan.at`; True if it crashed."""
    async with process(database) as uow:
        clock = SimClock(T0)
        crashing = CrashingUnitOfWorkFactory(uow, plan)
        gateway = venue.crashing(crashing, uow, clock, plan)
        manager = OrderManager(crashing, GatewayRegistry([gateway]), clock, EventBus())
        try:
            if venue.name != "paper":
                await gateway.load_markets()
            plan.armed = True
            task = asyncio.create_task(action(manager))
            await asyncio.wait([task])
            plan.armed = False
            if not task.cancelled():
                task.result()
            return task.cancelled()
        finally:
            await gateway.aclose()


async def life(database: DatabaseConfig, venue: Venue, scenario: Scenario, at: int | None, qty: str) -> CrashPlan:
    """Set up, crash at `at` (None: count the points), restart, reconcile, ask again, reconcile, check."""
    async with process(database) as uow, running(uow, venue) as h:
        user, account = await venue.open_account(h)
        if scenario.opens_first:
            await h.orders.submit([entry(user, account, qty)])
    plan = CrashPlan(at)
    crashed = await crash(database, venue, scenario.action(user, account, qty), plan)
    assert crashed == (at is not None), f"expected a crash at point {at}, the path has {len(plan.points)}"
    async with process(database) as uow, running(uow, venue) as h:
        await reconcile(h, at_startup=True)
        await scenario.action(user, account, qty)(h.orders)  # the strategy (or the user) asks again
        report = await reconcile(h)
        where = f"crash at {plan.at} ({plan.points[-1] if plan.at else 'none'})"
        await check_books_match_the_venue(uow, venue, account, report, where)
    return plan


def venues(standin: BinanceSpotStandin) -> dict[str, Venue]:
    return {"paper": PaperVenue(), "binance": BinanceVenue(standin)}


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("venue_name", ["paper", "binance"])
@pytest.mark.parametrize("scenario", [ENTRY, EXIT], ids=lambda s: s.name)
async def test_a_crash_at_every_await_point_of_the_submit_path_loses_and_duplicates_nothing(
    clean_databases: Callable[[], Awaitable[DatabaseConfig]],
    standin: BinanceSpotStandin,
    venue_name: str,
    scenario: Scenario,
):
    venue = venues(standin)[venue_name]
    # Arrange: the path's await points, from a run that does not crash
    points = (await life(await clean_databases(), venue, scenario, None, "0.1")).points
    assert "venue.placed" in points and "commit" in points
    # Act / Assert: a crash at each of them in turn
    for at in range(1, len(points) + 1):
        await life(await clean_databases(), venue, scenario, at, "0.1")


@pytest.mark.slow
async def test_randomised_crash_points_sizes_and_venues(
    clean_databases: Callable[[], Awaitable[DatabaseConfig]], standin: BinanceSpotStandin
):
    rng = random.Random(20_260_301)
    counted: dict[tuple[str, str, str], int] = {}
    both = venues(standin)
    for _ in range(24):
        venue = both[rng.choice(["paper", "binance"])]
        scenario = rng.choice([ENTRY, EXIT])
        qty = rng.choice(["0.05", "0.1", "0.2345", "0.5"])
        key = (venue.name, scenario.name, qty)
        if key not in counted:
            counted[key] = len((await life(await clean_databases(), venue, scenario, None, qty)).points)
        await life(await clean_databases(), venue, scenario, rng.randint(1, counted[key]), qty)
