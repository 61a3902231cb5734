"""Freqtrade, run on the same candles as our backtest: installed from PyPI into its own virtual environment,
fed the candles in its own data format, an equivalent IStrategy, and markets from our Binance stand-in on
loopback (Freqtrade loads markets through ccxt at start; nothing leaves the machine)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.datasets import ohlcv_rows
from engine.domain.accounts import Market
from engine.market_data.candles import Candles

ROOT = Path(__file__).resolve().parents[1]
FREQTRADE = "freqtrade==2026.9"
CACHE = Path(os.environ.get("TRADEBOT_BENCH_CACHE", Path.home() / ".cache" / "tradebot-bench"))

STRATEGY = '''
"""EMA 12/26 crossover, long only, 5% stop, no ROI: what bench/backtest.py runs in tradebot too."""
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IStrategy
from freqtrade.vendor.qtpylib import indicators as qtpylib


class EmaCross(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 1000.0}  # no ROI exits
    stoploss = -0.05
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    process_only_new_candles = True
    startup_candle_count = STARTUP

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["fast"] = ta.EMA(dataframe, timeperiod=12)
        dataframe["slow"] = ta.EMA(dataframe, timeperiod=26)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[qtpylib.crossed_above(dataframe["fast"], dataframe["slow"]), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[qtpylib.crossed_below(dataframe["fast"], dataframe["slow"]), "exit_long"] = 1
        return dataframe
'''


@dataclass(frozen=True, slots=True)
class TheirTrade:
    pair: str
    opened_at: datetime
    closed_at: datetime
    open_rate: float
    close_rate: float
    amount: float
    exit_reason: str


@dataclass(frozen=True, slots=True)
class TheirRun:
    trades: list[TheirTrade]
    seconds: float  # the whole `freqtrade backtesting` process, wall clock
    cpu_seconds: float  # the CPU time it used (less sensitive to other processes on the machine)
    core_seconds: float | None  # what Freqtrade itself reports for the backtest


def child_cpu_seconds() -> float:
    """CPU seconds used so far by this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ensure_freqtrade(venv: Path) -> Path:
    """The freqtrade executable in `venv`, installing it from PyPI first if needed."""
    executable = venv / "bin" / "freqtrade"
    if executable.exists() and _runs(executable):
        return executable
    print(f"installing {FREQTRADE} into {venv} (once) …", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, FREQTRADE], check=True)
    return executable


def _runs(executable: Path) -> bool:
    return subprocess.run([str(executable), "--version"], capture_output=True).returncode == 0


def run_freqtrade(
    executable: Path,
    folder: Path,
    series: Sequence[Candles],
    markets: dict[str, Market],
    *,
    startup_candles: int,
    wallet: Decimal,
    fee: Decimal,
) -> TheirRun:
    """Backtest the EMA crossover in Freqtrade on `series`; every file goes under `folder`."""
    quote = series[0].symbol.split("/")[1]
    data = folder / "user_data" / "data" / "binance"
    data.mkdir(parents=True, exist_ok=True)
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for candles in series:
        _write_json_candles(candles, raw / f"{candles.symbol.replace('/', '_')}-{candles.timeframe}.json")
    _store_as_feather(executable, raw, data)
    strategies = folder / "user_data" / "strategies"
    strategies.mkdir(parents=True, exist_ok=True)
    (strategies / "ema_cross.py").write_text(STRATEGY.replace("STARTUP", str(startup_candles)))
    results = folder / "user_data" / "backtest_results"
    results.mkdir(parents=True, exist_ok=True)
    with binance_standin(markets) as base_url:
        config = folder / "config.json"
        config.write_text(json.dumps(_config(folder, base_url, [c.symbol for c in series], quote, wallet), indent=2))
        command = [
            str(executable), "backtesting", "--config", str(config), "--strategy", "EmaCross",
            "--userdir", str(folder / "user_data"), "--datadir", str(data), "--data-format-ohlcv", "feather",
            "--fee", str(fee), "--export", "trades", "--export-directory", str(results), "--cache", "none",
        ]  # fmt: skip
        started, cpu = time.perf_counter(), child_cpu_seconds()
        done = subprocess.run(command, capture_output=True, text=True, cwd=folder)
        seconds, cpu = time.perf_counter() - started, child_cpu_seconds() - cpu
    (folder / "freqtrade.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not any(results.glob("backtest-result-*")):
        raise RuntimeError(f"freqtrade failed ({done.returncode}); see {folder / 'freqtrade.log'}")
    trades, core = _read_results(results)
    return TheirRun(trades, seconds, cpu, core)


def _write_json_candles(candles: Candles, path: Path) -> None:
    """Freqtrade's json OHLCV format: [[open time ms, open, high, low, close, volume], …]."""
    path.write_text(json.dumps([list(row) for row in ohlcv_rows(candles)]))


CONVERT = """
import json, sys
from pathlib import Path
from pandas import DataFrame, to_datetime
from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.enums import CandleType

raw, data = Path(sys.argv[1]), Path(sys.argv[2])
handler = get_datahandler(data, "feather")
for path in sorted(raw.glob("*.json")):
    pair, timeframe = path.stem.rsplit("-", 1)
    frame = DataFrame(json.loads(path.read_text()), columns=["date", "open", "high", "low", "close", "volume"])
    frame["date"] = to_datetime(frame["date"], unit="ms", utc=True)
    handler.ohlcv_store(pair.replace("_", "/"), timeframe, frame, CandleType.SPOT)
"""


def _store_as_feather(executable: Path, raw: Path, data: Path) -> None:
    """Freqtrade's own feather files, written by its data handler from exact floats (its json reader parses
    floats approximately, which moves indicator values in their last bits)."""
    python = executable.parent / "python"
    subprocess.run([str(python), "-c", CONVERT, str(raw), str(data)], check=True)


def _config(folder: Path, base_url: str, pairs: list[str], quote: str, wallet: Decimal) -> dict[str, object]:
    urls = {"api": _standin_urls(base_url)}
    ccxt = {"urls": urls, "options": {"fetchMarkets": ["spot"]}, "enableRateLimit": False}
    return {
        "max_open_trades": len(pairs),
        "stake_currency": quote,
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 0.99,
        "dry_run": True,
        "dry_run_wallet": float(wallet),
        "trading_mode": "spot",
        "timeframe": "5m",
        "dataformat_ohlcv": "feather",
        "entry_pricing": {"price_side": "same", "use_order_book": False, "price_last_balance": 0.0},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "ccxt_config": ccxt,
            "ccxt_async_config": ccxt,
            "pair_whitelist": pairs,
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "internals": {},
        "user_data_dir": str(folder / "user_data"),
    }


def _standin_urls(base_url: str) -> dict[str, str]:
    """Every REST section ccxt's binance knows, on the stand-in (paths kept: …/api/v3, …/sapi/v1)."""
    sections = {
        "public": "/api/v3",
        "private": "/api/v3",
        "v1": "/api/v1",
        "sapi": "/sapi/v1",
        "sapiV2": "/sapi/v2",
        "sapiV3": "/sapi/v3",
        "sapiV4": "/sapi/v4",
        "fapiPublic": "/fapi/v1",
        "fapiPrivate": "/fapi/v1",
        "dapiPublic": "/dapi/v1",
        "dapiPrivate": "/dapi/v1",
        "eapiPublic": "/eapi/v1",
        "eapiPrivate": "/eapi/v1",
    }
    return {name: f"{base_url}{path}" for name, path in sections.items()}


@contextmanager
def binance_standin(markets: dict[str, Market]) -> Iterator[str]:
    """Our Binance stand-in as a process on loopback, serving exactly these markets; yields its base URL."""
    specs = [
        f"{m.symbol}:tick_size={m.price_step},min_price={m.price_step},step_size={m.amount_step},"
        f"min_qty={m.min_qty},min_notional={m.min_notional}"
        for m in markets.values()
    ]
    command = [sys.executable, "-m", "tests.standins.binance_spot", "--symbols", ",".join(markets)]
    for spec in specs:
        command += ["--symbol", spec]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1"):
            raise RuntimeError(f"the Binance stand-in did not start (said {base_url!r})")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _read_results(folder: Path) -> tuple[list[TheirTrade], float | None]:
    archives = sorted(folder.glob("backtest-result-*.zip"))
    if archives:
        with zipfile.ZipFile(archives[-1]) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".json") and "_config" not in n)
            document = json.loads(archive.read(name))
    else:
        document = json.loads(sorted(folder.glob("backtest-result-*.json"))[-1].read_text())
    result = next(iter(document["strategy"].values()))
    trades = [
        TheirTrade(
            pair=t["pair"],
            opened_at=_moment(t["open_date"]),
            closed_at=_moment(t["close_date"]),
            open_rate=float(t["open_rate"]),
            close_rate=float(t["close_rate"]),
            amount=float(t["amount"]),
            exit_reason=t["exit_reason"],
        )
        for t in result["trades"]
    ]
    start, end = result.get("backtest_run_start_ts"), result.get("backtest_run_end_ts")
    return trades, (float(end) - float(start)) if start and end else None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
