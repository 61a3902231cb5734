"""Telegram command latency through the real python-telegram-bot Application.

    python bench/commands.py [--positions 50] [--repeats 500] [--users 1,10,50] [--rounds 10] [--database URL]

1. `/portfolio` handling, network excluded. The product's own Application (every handler, the rate limiter,
   the guards) with a Bot API request object that answers in memory, without HTTP or a Bot API server; the
   user holds `--positions` open positions (50 by default). Each `/portfolio` update is timed from
   `process_update()` until its reply has been handed to the Bot API request. Target: p99 <= 20 ms.
2. Round trip with N users at once. The whole product (`bot.main.run`, as `tradebot run`) polling the
   Telegram stand-in in-process (httpx's ASGI transport, no socket); N users each send `/portfolio`
   `--rounds` times, each the moment the previous answer arrived. Timed from the update being queued at the
   stand-in until the bot's reply reached it: polling, handling and sending included. Run twice: with the
   production flood-control pacing (AIORateLimiter: Telegram allows a bot about 30 messages a second across
   all chats, so N users share that), and without it (what the process itself can serve).

Prints the figures and the machine's load average (the machine is shared: note it with the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.request import BaseRequest, RequestData  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.context import Services  # noqa: E402
from bot.log_setup import configure_logging  # noqa: E402
from bot.main import Runtime, build_services, run  # noqa: E402
from bot.settings import Settings, TelegramConfig  # noqa: E402
from bot.telegram_standin import ChatEvent, ChatEventKind, ChatUser, TelegramStandIn  # noqa: E402
from engine.config import MarketConfig  # noqa: E402
from engine.domain.accounts import User  # noqa: E402
from engine.domain.enums import AccountMode, RiskProfileName  # noqa: E402
from engine.domain.ids import Symbol  # noqa: E402
from engine.domain.positions import Position  # noqa: E402
from risk.config import RiskConfig  # noqa: E402
from risk.phases import PhaseName  # noqa: E402
from storage.config import DatabaseConfig  # noqa: E402

TOKEN = "123456789:BENCH-token"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


class InMemoryBotApi(BaseRequest):
    """A Bot API that answers at once in memory: what remains is our handling and PTB's own work."""

    def __init__(self) -> None:
        self.replied = asyncio.Event()
        self._message_id = 0

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name in ("sendMessage", "editMessageText"):
            self._message_id += 1
            chat = {"id": int(params["chat_id"]), "type": "private"}
            result = {"message_id": self._message_id, "date": int(time.time()), "chat": chat, "text": params["text"]}
            self.replied.set()
        return 200, json.dumps({"ok": True, "result": result}).encode()


def settings_for(database: DatabaseConfig) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        host="127.0.0.1",
        port=0,
        database=database,
        telegram=TelegramConfig(rate_limit_per_minute=1_000_000),
        market=MarketConfig(replay_seconds_per_candle=3600.0),
        risk=RiskConfig(phase=PhaseName.OPEN),
    )


async def user_with_positions(services: Services, telegram_id: int, count: int) -> User:
    """A user with a paper account and `count` open positions, each with a stop (as /portfolio shows them)."""
    engine = services.engine
    user = await engine.users.arrive(telegram_id, telegram_id, f"Bench {telegram_id}")
    user = await engine.users.onboard(user, RiskProfileName.MODERATE, Decimal(5000), AccountMode.PAPER)
    account = await engine.users.account(user)
    assert account is not None
    now = engine.clock.now()
    positions = [
        Position(
            user_id=user.id,
            account_id=account.id,
            symbol=Symbol(f"C{number:02d}/USDT"),
            opened_at=now - timedelta(hours=number),
            qty=Decimal("1.25") + number,
            avg_entry=Decimal("10.5") * (number + 1),
            stop_price=Decimal("9.75") * (number + 1),
            highest_price=Decimal("10.5") * (number + 1),
            cost_basis_total=Decimal("13.125") * (number + 1),
            strategy="ema_cross",
        )
        for number in range(count)
    ]
    async with engine.uow() as uow:
        await uow.positions.save_many(positions)
        await uow.commit()
    return user


def portfolio_update(update_id: int, person: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": person, "type": "private", "first_name": "Bench"},
            "from": {"id": person, "is_bot": False, "first_name": "Bench"},
            "text": "/portfolio",
            "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
        },
    }


def in_memory(builder: Any, api: InMemoryBotApi) -> Any:
    """The bot on the in-memory API, without the flood-control pacing (Telegram's 30 messages a second across
    all chats, which AIORateLimiter enforces in production and is not handling time)."""
    return builder.token(TOKEN).request(api).get_updates_request(InMemoryBotApi()).rate_limiter(None)


async def handling(database: DatabaseConfig, positions: int, repeats: int) -> list[float]:
    """Milliseconds per /portfolio, from process_update() to the reply handed to the Bot API."""
    async with build_services(settings_for(database)) as services:
        person = 4242
        await user_with_positions(services, person, positions)
        api = InMemoryBotApi()
        application = build_application(services, lambda builder: in_memory(builder, api))
        timings = []
        async with application:
            for number in range(1, repeats + 51):
                update = Update.de_json(portfolio_update(number, person), application.bot)
                api.replied.clear()
                started = time.perf_counter()
                await application.process_update(update)
                elapsed = (time.perf_counter() - started) * 1000
                assert api.replied.is_set(), "no reply was sent"
                if number > 50:  # the first 50 warm caches and the database connection
                    timings.append(elapsed)
        return timings


async def round_trips(database: DatabaseConfig, users: int, rounds: int, positions: int, paced: bool) -> list[float]:
    """Milliseconds from the update queued at the stand-in to the bot's reply, for `users` people at once;
    `paced`: with the production flood-control pacing (30 messages a second across all chats)."""
    standin = TelegramStandIn()

    def telegram(builder: Any) -> Any:
        configured = standin.configure(builder)
        return configured if paced else configured.rate_limiter(None)

    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    product = asyncio.create_task(run(settings_for(database), stop=stop, telegram=telegram, on_ready=on_ready))
    runtime = await asyncio.wait_for(ready, timeout=60)
    people = [ChatUser(id=10_000 + number, first_name=f"U{number}") for number in range(users)]
    for person in people:
        await user_with_positions(runtime.services, person.id, positions)
    waiting: dict[int, asyncio.Future[float]] = {}

    def on_event(event: ChatEvent) -> None:
        future = waiting.get(event.chat_id)
        if event.kind is ChatEventKind.SENT and future is not None and not future.done():
            future.set_result(time.perf_counter())

    unsubscribe = standin.subscribe(on_event)

    async def person_loop(person: ChatUser) -> list[float]:
        own: list[float] = []
        for _ in range(rounds + 1):
            waiting[person.id] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            standin.send_text(person, "/portfolio")
            answered = await asyncio.wait_for(waiting[person.id], timeout=30)
            own.append((answered - started) * 1000)
        return own[1:]  # the first warms up

    try:
        results = await asyncio.gather(*(person_loop(p) for p in people))
    finally:
        unsubscribe()
        stop.set()
        await asyncio.wait_for(product, timeout=30)
    return [value for own in results for value in own]


def describe(label: str, values: Sequence[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{label:<52} n={len(ordered):>5}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  max {ordered[-1]:7.2f} ms"


def fresh_database(folder: Path, name: str, url: str | None) -> DatabaseConfig:
    if url:
        return DatabaseConfig(url=SecretStr(url))
    return DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{folder / name}"))


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(
        f"bench/commands.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as folder:
        timings = await handling(
            fresh_database(Path(folder), "handling.db", args.database), args.positions, args.repeats
        )
        print(describe(f"/portfolio handling, {args.positions} positions", timings), "(target p99 <= 20 ms)")
        for paced in (True, False):
            pacing = "30 msg/s pacing" if paced else "no pacing"
            for count in args.users:
                database = fresh_database(Path(folder), f"round-{count}-{paced}.db", args.database)
                values = await round_trips(database, count, args.rounds, args.positions, paced)
                print(describe(f"/portfolio round trip, {count} user(s), {pacing}", values))
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--users", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database", default=None, help="a fresh, empty database URL (default: SQLite files)")
    parser.add_argument("--log-file", default=os.devnull, help="where the JSON logs go (default: nowhere)")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    with open(arguments.log_file, "w") as logs:
        configure_logging("INFO", "json", stream=logs)
        asyncio.run(main(arguments))
