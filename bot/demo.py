"""`tradebot demo`: the whole product offline — SQLite, paper trading, replayed candles at an accelerated
clock — with a local chat in the terminal standing in for Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.local_chat import LocalChat, stdin_lines
from bot.main import Runtime, run
from bot.settings import Settings, TelegramConfig
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.config import MarketConfig
from engine.domain.enums import AccountMode, RiskProfileName
from risk.config import RiskConfig
from risk.phases import PhaseName
from storage.config import DatabaseConfig

DEMO_USER = ChatUser(id=4242, first_name="Demo", username="demo_user")
ADMIN_CHAT = -1001000000001
DEMO_CAPITAL = Decimal(1000)


def demo_settings(base: Settings, folder: Path, seconds_per_candle: float) -> Settings:
    return base.model_copy(
        update={
            "port": 0,
            "host": "127.0.0.1",
            "database": DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{folder / 'demo.db'}")),
            "telegram": TelegramConfig(admin_ids=frozenset({DEMO_USER.id}), admin_chat_id=ADMIN_CHAT),
            "market": MarketConfig(replay_seconds_per_candle=seconds_per_candle),
            "risk": RiskConfig(phase=PhaseName.OPEN),
        }
    )


async def demo(base: Settings, *, duration: float | None, seconds_per_candle: float, out: TextIO = sys.stdout) -> int:
    interactive = sys.stdin.isatty()
    standin = TelegramStandIn()
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        engine = runtime.services.engine
        user = await engine.users.arrive(DEMO_USER.id, DEMO_USER.id, DEMO_USER.first_name)
        await engine.users.onboard(user, RiskProfileName.MODERATE, DEMO_CAPITAL, AccountMode.PAPER)
        ready.set_result(runtime)

    with tempfile.TemporaryDirectory(prefix="tradebot-demo-") as folder:
        settings = demo_settings(base, Path(folder), seconds_per_candle)
        product = asyncio.create_task(run(settings, stop=stop, telegram=standin.configure, on_ready=on_ready))
        runtime = await _wait_ready(ready, product)
        chat = LocalChat(standin, DEMO_USER, out, admin_chat_id=ADMIN_CHAT)
        _intro(out, runtime, interactive)
        try:
            if interactive:
                await _interactive(chat, duration)
            else:
                lines = [line async for line in stdin_lines()]
                await chat.run_scripted(lines, duration if duration is not None else 60.0)
            with contextlib.suppress(TimeoutError):
                await standin.wait_idle(quiet=0.5, timeout=5)
            await _summary(out, runtime)
        finally:
            chat.close()
            stop.set()
            await product
    return 0


async def _wait_ready(ready: asyncio.Future[Runtime], product: asyncio.Task[None]) -> Runtime:
    done, _ = await asyncio.wait({ready, product}, return_when=asyncio.FIRST_COMPLETED)
    if ready in done:
        return ready.result()
    product.result()  # raises what stopped the product
    raise RuntimeError("the product stopped before it was ready")


async def _interactive(chat: LocalChat, duration: float | None) -> None:
    stop = asyncio.Event()
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    await chat.run_interactive(stdin_lines(), stop)


def _intro(out: TextIO, runtime: Runtime, interactive: bool) -> None:
    feed = runtime.services.extras["replay_feed"]
    print(
        f"tradebot demo — paper trading on recorded {feed.timeframe} candles of {', '.join(feed.symbols)}, "
        f"replayed fast.\nYou are '{DEMO_USER.first_name}', set up with the moderate profile and "
        f"${DEMO_CAPITAL:,} of paper money. Health: {runtime.http_url}/health",
        file=out,
    )
    if interactive:
        print(
            "Type /help for every command (/portfolio, /positions, /pause, /closeall, /risk, /status…); "
            "a number presses a button; Ctrl-D quits.",
            file=out,
        )
    print(file=out, flush=True)


async def _summary(out: TextIO, runtime: Runtime) -> None:
    engine = runtime.services.engine
    user = await engine.users.get(DEMO_USER.id)
    if user is None:
        return
    fills = await engine.portfolio.fills(user, limit=1000)
    view = await engine.portfolio.value(user)
    equity = f"${view.equity:,.2f}" if view else "—"
    moment = f"{engine.clock.now():%Y-%m-%d %H:%M} UTC"
    print(f"\n— demo over: {len(fills)} fill(s) for you, equity {equity}, market time {moment}", file=out, flush=True)
