"""The installed `tradebot` command as a process: the scripted demo, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "MARKET_", "RISK_"))}
    env.update({"PYTHONUNBUFFERED": "1", "HOME": str(tmp_path)}, **extra)
    return env


async def test_scripted_demo_trades_and_portfolio_reflects_it(tmp_path: Path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--duration",
        "12",
        "--seconds-per-candle",
        "0.05",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    out, err = await asyncio.wait_for(process.communicate(b"/start\n/portfolio\n"), timeout=90)
    transcript = out.decode()
    assert process.returncode == 0, err.decode()[-2000:]
    assert "you> /start" in transcript and "Your setup" in transcript
    before_portfolio = transcript.split("you> /portfolio")[0]
    bought = re.findall(r"bot> Bought [\d.]+ (\w+/USDT)", before_portfolio)
    assert bought, transcript[:3000]
    portfolio = transcript.split("you> /portfolio")[1].split("[1] ↻ Refresh")[0]
    assert "Equity" in portfolio
    assert "Open positions" in portfolio or "Total $0.00" not in portfolio  # the trade shows as a position or a result
    fills = int(re.search(r"demo over: (\d+) fill", transcript).group(1))  # type: ignore[union-attr]
    assert fills >= 1
    assert not any(tmp_path.glob("*.db")), "the demo keeps its database in a temporary folder"  # noqa: ASYNC240


async def test_sigterm_stops_the_process_in_order_within_seconds(tmp_path: Path):
    env = _env(
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        PORT="0",
        HOST="127.0.0.1",
        LOG_FORMAT="json",
        MARKET_REPLAY_SECONDS_PER_CANDLE="0.05",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
    )
    assert process.stdout is not None
    url = None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        lines.append(line)
        if match := re.search(r'"http": "(http://[^"]+)"', line):
            url = match.group(1)
    assert url, "".join(lines)
    async with httpx.AsyncClient() as http:
        health = await http.get(f"{url}/health")
    assert health.status_code == 200
    assert health.json()["components"]["telegram"]["status"] == "disabled"
    await asyncio.sleep(1.0)  # let the replay trade a little
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(process.stdout.read(), timeout=15)).decode()
    await process.wait()
    elapsed = time.monotonic() - started
    assert process.returncode == 0, rest[-3000:]
    assert elapsed < 8
    assert '"event": "tradebot.stopping"' in rest and '"event": "tradebot.stopped"' in rest
    assert "Traceback" not in rest
