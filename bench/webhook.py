"""Latency and throughput of signed webhook signals through the whole product, on loopback.

    python bench/webhook.py [--rate 200] [--seconds 15] [--followers 10] [--database URL]

The product runs in this process exactly as `tradebot run` does (uvicorn on a real socket, the signal inbox,
the pipeline, risk checks, the paper venue, SQLite by default). A separate client process sends signed
signals open-loop at `--rate` per second (half entries, half exits, rotating over the markets, so orders
are placed and filled). Each signal is timed from the moment the client sends it:

  ack        until the client has the 202 answer (stored, de-duplicated, queued)
  decision   until the signal has been processed for every follower: decisions stored, orders placed

Both clocks are CLOCK_MONOTONIC, shared by the two processes on Linux. Target: decision p99 <= 20 ms at 200/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-webhook-secret-0123456789abcdef"


# --- the client process ------------------------------------------------------------------------


async def send_all(url: str, rate: float, seconds: float, symbols: list[str], mix: str) -> list[dict[str, Any]]:
    """Open loop: signal i leaves at start + i / rate whatever happened to the ones before (aiohttp: a light
    client, so the figures are the server's, not the load generator's)."""
    import aiohttp

    from tests.bot.webhook_client import sign

    results: list[dict[str, Any]] = []
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as http:

        async def send(index: int) -> None:
            body = json.dumps(document(index, symbols, mix)).encode()
            headers = {"X-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            sent = time.monotonic()
            try:
                async with http.post("/webhook", data=body, headers=headers) as answer:
                    reply = await answer.json()
                    status = answer.status
            except aiohttp.ClientError as error:
                results.append({"sent": sent, "acked": time.monotonic(), "status": type(error).__name__})
                return
            results.append(
                {"sent": sent, "acked": time.monotonic(), "status": status, "signal_id": reply.get("signal_id")}
            )

        tasks = []
        start = time.monotonic()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(index)))
        await asyncio.gather(*tasks)
    return results


def document(index: int, symbols: list[str], mix: str) -> dict[str, Any]:
    """entries: buys rotating over the markets; alternate: buy then exit, market after market."""
    alternate = mix == "alternate"
    return {
        "source": "bench",
        "symbol": symbols[(index // 2 if alternate else index) % len(symbols)],
        "direction": "exit" if alternate and index % 2 else "buy",
        "timeframe": "5m",
        "timestamp": datetime.now(UTC).isoformat(),
        "strategy": "bench",
        "metadata": {"sequence": index},
        "idempotency_key": f"bench-{os.getpid()}-{index}",
    }


def client_main(args: argparse.Namespace) -> int:
    results = asyncio.run(send_all(args.client, args.rate, args.seconds, args.symbols.split(","), args.mix))
    json.dump(results, sys.stdout)
    return 0


# --- the product, and the report -----------------------------------------------------------------


def settings_for(database: str, folder: Path) -> Any:
    from pydantic import SecretStr

    from bot.settings import Settings, TelegramConfig, WebhookConfig
    from engine.config import MarketConfig
    from risk.config import RiskConfig
    from risk.phases import PhaseName
    from storage.config import DatabaseConfig

    url = database or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        host="127.0.0.1",
        port=0,
        database=DatabaseConfig(url=SecretStr(url)),
        telegram=TelegramConfig(),
        market=MarketConfig(replay_seconds_per_candle=3600.0),  # prices stand still during the run
        risk=RiskConfig(phase=PhaseName.OPEN),
        webhook=WebhookConfig(secret=SecretStr(SECRET), duplicate_seconds=0),
    )


async def serve_and_measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from bot.main import run
    from engine.domain.enums import AccountMode, RiskProfileName

    stop = asyncio.Event()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Any) -> None:
        ready.set_result(runtime)

    product = asyncio.create_task(run(settings_for(args.database, folder), stop=stop, on_ready=on_ready))
    runtime = await ready
    engine = runtime.services.engine
    for number in range(args.followers):
        user = await engine.users.arrive(10_000 + number, 10_000 + number, f"follower{number}")
        await engine.users.onboard(user, RiskProfileName.MODERATE, Decimal(1000), AccountMode.PAPER)
    inbox = runtime.services.extras["signal_inbox"]
    done: dict[int, tuple[float, str]] = {}
    inbox.observers.append(lambda signal, status, _: done.__setitem__(signal.id, (time.monotonic(), status)))
    symbols = ",".join(engine.feed.symbols)
    command = [sys.executable, __file__, "--client", runtime.http_url, "--rate", str(args.rate)]
    command += ["--seconds", str(args.seconds), "--symbols", symbols, "--mix", args.mix]
    client = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, cwd=ROOT)
    output, _ = await client.communicate()
    sent = json.loads(output)
    await asyncio.wait_for(inbox.idle(), timeout=120)
    decisions = await count(engine, "decisions")
    stop.set()
    await product
    return {"sent": sent, "done": done, "decisions": decisions, "backend": runtime_backend(args.database)}


async def count(engine: Any, table: str) -> int:
    from sqlalchemy import text

    async with engine.uow() as uow:
        return int((await uow.session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def runtime_backend(database: str) -> str:
    return "postgresql" if database.startswith("postgresql") else "sqlite"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(args: argparse.Namespace, measured: dict[str, Any]) -> None:
    sent, done = measured["sent"], measured["done"]
    accepted = [r for r in sent if r["status"] == 202 and r["signal_id"] in done]
    ack = [(r["acked"] - r["sent"]) * 1000 for r in sent if isinstance(r["status"], int)]
    decision = [(done[r["signal_id"]][0] - r["sent"]) * 1000 for r in accepted]
    first, last_sent = min(r["sent"] for r in sent), max(r["sent"] for r in sent)
    last_done = max(done[r["signal_id"]][0] for r in accepted)
    statuses: dict[str, int] = {}
    for r in sent:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    print(
        f"webhook bench: {len(sent)} signed signals at {args.rate:g}/s for {args.seconds:g} s, "
        f"{args.followers} followers, mix {args.mix}, {measured['backend']}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  answers           {dict(sorted(statuses.items()))}; decisions stored {measured['decisions']}")
    print(
        f"  throughput        offered {len(sent) / max(last_sent - first, 1e-9):.1f} req/s; "
        f"processed {len(decision) / max(last_done - first, 1e-9):.1f} signals/s"
    )
    for name, values in (("ack (202)", ack), ("to decision", decision)):
        print(
            f"  {name:<17} p50 {statistics.median(values):7.2f} ms   p99 {percentile(values, 0.99):7.2f} ms   "
            f"max {max(values):7.2f} ms"
        )
    verdict = "meets" if percentile(decision, 0.99) <= 20 else "misses"
    print(f"  target: decision p99 <= 20 ms at 200 req/s -> {verdict} it")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--followers", type=int, default=10)
    parser.add_argument(
        "--mix",
        choices=["entries", "alternate"],
        default="entries",
        help="entries: buys over the markets (the first per market fills, the rest are refused by the risk checks);"
        " alternate: buy then exit per market, so every signal places and fills orders",
    )
    parser.add_argument("--database", default="", help="a database URL; default: a fresh SQLite file")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--symbols", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main(args)
    from bot.log_setup import configure_logging

    with open(os.devnull, "w") as sink, tempfile.TemporaryDirectory(prefix="tradebot-bench-") as folder:
        configure_logging(args.log_level, "json", stream=sink)  # production log format, written nowhere
        measured = asyncio.run(serve_and_measure(args, Path(folder)))
    report(args, measured)
    return 0


if __name__ == "__main__":
    sys.exit(main())
