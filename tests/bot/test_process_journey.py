"""A whole journey against the installed product as a process: `tradebot run` in a subprocess, talking to the
Telegram Bot API stand-in served on loopback and to the Binance stand-in running as its own subprocess.

Onboarding, connecting keys, a trade (a signed webhook signal), /portfolio, /pause, /closeall, and an admin
/pause_all whose alert reaches the admin chat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.telegram_standin import ChatUser, SentMessage, TelegramStandIn
from storage.crypto import SecretBox
from tests.bot.product import ADMIN, ADMIN_CHAT, current, now_reads, press, say
from tests.bot.webhook_client import SECRET, payload, signed

pytestmark = pytest.mark.slow

ANN = ChatUser(id=5151, first_name="Ann", username="ann")
KEY, EXCHANGE_SECRET = "k3y-ann-live-W9X4", "s3cret-ann-live-never-logged"
ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def process(*args: str, env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process stopped with SIGTERM (then killed) when the block ends."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=cwd
    )
    try:
        yield child
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.wait(), timeout=15)
            except TimeoutError:
                child.kill()
                await child.wait()


async def read_until(child: asyncio.subprocess.Process, pattern: str, seen: list[str], seconds: float = 60) -> str:
    """Read the child's output until a line matches `pattern`; return the first group."""
    assert child.stdout is not None
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        line = (await asyncio.wait_for(child.stdout.readline(), timeout=max(remaining, 0.1))).decode()
        if not line:
            raise AssertionError("the process ended:\n" + "".join(seen[-40:]))
        seen.append(line)
        if match := re.search(pattern, line):
            return match.group(1)


async def drain(child: asyncio.subprocess.Process, seen: list[str]) -> None:
    assert child.stdout is not None
    while line := await child.stdout.readline():
        seen.append(line.decode())


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    prefixes = ("TELEGRAM_", "DATABASE_", "MARKET_", "RISK_", "EXCHANGE_", "WEBHOOK_", "ANTHROPIC_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update({"PYTHONUNBUFFERED": "1", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}, **extra)
    return env


async def wait_for(standin: TelegramStandIn, chat_id: int, text: str, seconds: float = 30) -> SentMessage:
    found = await standin.wait_for_messages(chat_id, predicate=lambda m: text in m.displayed_text, timeout=seconds)
    return found[0]


async def control(http: httpx.AsyncClient, exchange: str, command: str, **arguments: object) -> object:
    answer = await http.post(f"{exchange}/__control/{command}", json=arguments)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


async def test_a_whole_journey_through_the_running_process(tmp_path: Path):
    standin = TelegramStandIn()
    exchange_args = ["-m", "tests.standins.binance_spot", "--api-key", KEY, "--secret", EXCHANGE_SECRET]
    exchange_args += ["--symbols", "ETH/USDT", "--price", "ETH/USDT=1000", "--balance", "USDT=2000"]
    exchange_log: list[str] = []
    bot_log: list[str] = []
    async with (
        standin.serve() as telegram_url,
        process(*exchange_args, env=child_env(tmp_path), cwd=ROOT) as exchange_process,
        httpx.AsyncClient() as http,
    ):
        exchange = await read_until(exchange_process, r"(http://\S+)", exchange_log, seconds=30)
        start = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000) // 60_000 * 60_000
        rows = [[start + i * 60_000, 1000, 1001, 999, 1000, 5] for i in range(10)]
        await control(http, exchange, "set_candles", symbol="ETH/USDT", rows=rows)
        env = child_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=standin.token,
            TELEGRAM_BASE_URL=telegram_url,
            TELEGRAM_ADMIN_IDS=str(ADMIN.id),
            TELEGRAM_ADMIN_CHAT_ID=str(ADMIN_CHAT),
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'journey.db'}",
            DATABASE_ENCRYPTION_KEY=SecretBox.generate_key(),
            MARKET_SOURCE="live",
            MARKET_SYMBOLS="ETH/USDT",
            MARKET_TIMEFRAME="1m",
            MARKET_POLL_SECONDS="0.2",
            MARKET_LIVE_HISTORY="5",
            EXCHANGE_ID="binance",
            EXCHANGE_BASE_URL=exchange,
            EXCHANGE_LIVE_ENABLED="true",
            WEBHOOK_SECRET=SECRET,
            RISK_PHASE="open",
            HOST="127.0.0.1",
            PORT="0",
            LOG_FORMAT="json",
        )
        async with process("-m", "bot", "run", env=env, cwd=tmp_path) as bot:
            http_url = await read_until(bot, r'"http": "(http://[^"]+)"', bot_log, seconds=60)
            reading = asyncio.create_task(drain(bot, bot_log))
            try:
                await journey(standin, http, http_url, exchange)
            finally:
                bot.send_signal(signal.SIGTERM)
                await asyncio.wait_for(bot.wait(), timeout=15)
                await reading
            output = "".join(bot_log)
            assert bot.returncode == 0, output[-3000:]
            assert EXCHANGE_SECRET not in output and KEY not in output  # keys never reach a log line
            assert "Traceback" not in output, output[-3000:]


async def journey(standin: TelegramStandIn, http: httpx.AsyncClient, http_url: str, exchange: str) -> None:
    # onboarding, with a live account
    menu = await say(standin, ANN, "/start")
    assert "Pick a risk profile" in menu.displayed_text
    capital = await press(standin, ANN, menu, "Moderate")
    mode = await say(standin, ANN, "1000")
    assert "Live (connect exchange keys)" in str(mode.keyboard)
    await press(standin, ANN, mode, "Live")
    done = await press(standin, ANN, current(standin, mode), "Confirm")
    assert "You're set" in done.displayed_text and "/connect" in done.displayed_text
    assert capital.message_id == menu.message_id

    # connecting keys: the message is deleted, the balance read against the exchange
    sent = standin.send_text(ANN, f"/connect {KEY} {EXCHANGE_SECRET}")["message"]
    connected = await wait_for(standin, ANN.id, "Connected to binance")
    assert "…W9X4" in connected.displayed_text and "I will manage $1,000.00" in connected.displayed_text
    deleted = {c.params["message_id"] for c in standin.calls_to("deleteMessage")}
    assert sent["message_id"] in deleted

    # a trade: a signed webhook signal, bought on the exchange, told to the user
    body, headers = signed(payload(symbol="ETH/USDT", direction="buy", idempotency_key="journey-1"))
    answer = await http.post(f"{http_url}/webhook", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    bought = await wait_for(standin, ANN.id, "Bought")
    assert "ETH/USDT" in bought.displayed_text
    orders = (await http.get(f"{exchange}/__control/orders", params={"api_key": KEY})).json()["result"]
    assert any(o["side"] == "BUY" and o["status"] == "FILLED" for o in orders)

    portfolio = await say(standin, ANN, "/portfolio")
    assert "Portfolio · live" in portfolio.displayed_text and "ETH/USDT" in portfolio.displayed_text

    paused = await say(standin, ANN, "/pause")
    assert "Do you also want to close them now?" in paused.displayed_text
    await press(standin, ANN, paused, "Keep my positions")
    assert "Your positions stay open" in now_reads(standin, paused)

    ask = await say(standin, ANN, "/closeall")
    await press(standin, ANN, ask, "Yes, sell everything now")
    sold = await wait_for(standin, ANN.id, "Closed as you asked")
    assert "ETH/USDT" in sold.displayed_text
    orders = (await http.get(f"{exchange}/__control/orders", params={"api_key": KEY})).json()["result"]
    assert any(o["side"] == "SELL" and o["status"] == "FILLED" for o in orders)
    assert "No open positions" in (await say(standin, ANN, "/portfolio")).displayed_text

    # an operator pauses everyone; the admin channel gets the alert
    reply = await say(standin, ADMIN, "/pause_all exchange maintenance")
    assert "Paused for everyone" in reply.displayed_text
    alert = await wait_for(standin, ADMIN_CHAT, "System trading is now reducing")
    assert "exchange maintenance" in alert.displayed_text
    status = json.dumps((await http.get(f"{http_url}/health")).json())
    assert '"telegram": {"status": "ok"' in status
