"""Backtest speed, and agreement with Freqtrade: the EMA 12/26 crossover with a 5% stop (no take-profit, no
trailing, no time exit, no breakers), long only, 0.1% fee, no slippage, on

  recorded  the recorded 5-minute candles packaged with the product (6 symbols against BTC, ~20 days each)
  year      one year of 5-minute candles of 5 symbols made from the recorded returns (bench/datasets.py)

Each backtest runs in a fresh process, timed whole (interpreter start, imports, loading the candles, the
backtest, the round trips); the engine's own time is printed beside it. Then the same candles go through
Freqtrade (installed from PyPI into its own virtual environment by this script, once; markets from our
Binance stand-in on loopback), timed whole as well, and the two trade lists are compared.

Like for like: Freqtrade fills a signal at the next candle's open and a stop at its price (or at the open
when the candle gapped through it); our paper venue does the same once slippage is 0 (`FillModel`), which
this benchmark sets. What cannot be alike is the size of each trade: Freqtrade stakes a share of its wallet,
the product sizes from the risk profile. So entry and exit times, prices and exit reasons are compared;
quantities (and so fees and PnL) are not.

    python bench/backtest.py                       # both data sets, with Freqtrade
    python bench/backtest.py --datasets recorded --skip-freqtrade
    TRADEBOT_BENCH_CACHE=/path python bench/backtest.py   # where Freqtrade's venv is kept (~/.cache/…)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from bench.datasets import one_year, recorded_5m
from bench.freqtrade_side import CACHE, TheirTrade, child_cpu_seconds, ensure_freqtrade, run_freqtrade
from engine.backtest.assembly import TraderSetup
from engine.backtest.metrics import round_trips
from engine.backtest.runner import BacktestSpec, run_backtest
from engine.domain.enums import RiskProfileName
from engine.market_data.candles import Candles
from engine.market_data.recorded_markets import replay_markets
from engine.paper_matching import FillModel
from engine.strategies.ema_cross import EmaCrossover
from risk.profiles import DEFAULT_PROFILES, RiskProfile

DATASETS = {"recorded": recorded_5m, "year": one_year}
WARMUP = 30  # candles before the first traded one (Freqtrade: startup_candle_count)
FEE = Decimal("0.001")
NEVER = Decimal(1000)
# Large enough that neither side ever lacks the cash for a trade (a year of this strategy loses most of a small
# account to fees, after which Freqtrade's stakes fall below a market's minimum and its entries stop)
CAPITAL = Decimal(1_000_000)  # a take-profit, trailing activation or break-even gain that is never reached


@dataclass(frozen=True, slots=True)
class OurTrade:
    symbol: str
    opened_at: str
    closed_at: str
    entry_price: float
    exit_price: float
    qty: float
    exit_reason: str


def bench_profile(symbols: int) -> RiskProfile:
    """A 5% stop and nothing else: no take-profit, trailing, break-even, time exit, loss limits or cooldown;
    each position up to an equal share of the equity, so every signal can be taken."""
    share = Decimal(1) / Decimal(symbols + 1)
    return replace(
        DEFAULT_PROFILES[RiskProfileName.AGGRESSIVE],
        risk_per_trade=Decimal(1),
        max_position_size=share,
        max_symbol_exposure=share,
        max_total_exposure=Decimal(1),
        max_open_positions=symbols,
        daily_loss_limit=Decimal(1),
        max_drawdown=Decimal(1),
        cooldown_after_losses=10**9,
        stop_loss=Decimal("0.05"),
        take_profit=NEVER,
        trailing_activation=NEVER,
        break_even_after=NEVER,
        max_holding_hours=10**7,
    )


def bench_spec(series: list[Candles]) -> BacktestSpec:
    strategy = EmaCrossover(12, 26, "5m", suggest_exits=False)
    quote = series[0].symbol.split("/")[1]
    trader = TraderSetup(
        strategy=strategy.id,
        profile=bench_profile(len(series)),
        capital=CAPITAL,
        markets=replay_markets(series, quote),
        quote=quote,
        fill_model=FillModel(fee_rate=FEE, slippage=Decimal(0)),
    )
    return BacktestSpec(strategy, series, trader, warmup=WARMUP)


# --- our side, in its own process ------------------------------------------------------------------


def ours_in_this_process(dataset: str, trades_path: Path) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started = time.perf_counter()
    series = DATASETS[dataset]()
    loaded = time.perf_counter()
    run = asyncio.run(run_backtest(bench_spec(series)))
    trips = round_trips(run)
    done = time.perf_counter()
    trades = [
        OurTrade(
            t.symbol, t.opened_at.isoformat(), t.closed_at.isoformat(), float(t.entry_price), float(t.exit_price),
            float(t.qty), t.exit_reason,
        )
        for t in trips
    ]  # fmt: skip
    trades_path.write_text(json.dumps([asdict(t) for t in trades]))
    figures = {
        "candles": run.candles,
        "steps": run.steps,
        "trades": len(trips),
        "open_at_end": sum(1 for p in run.positions if p.closed_at is None),
        "load_s": loaded - started,
        "engine_s": run.seconds,
        "after_import_s": done - started,
    }
    print(json.dumps(figures))


@dataclass(frozen=True, slots=True)
class OurRun:
    trades: list[OurTrade]
    seconds: float  # whole process, wall clock
    cpu_seconds: float  # whole process, CPU
    figures: dict[str, float]


def run_ours(dataset: str, folder: Path) -> OurRun:
    trades_path = folder / f"ours-{dataset}.json"
    command = [sys.executable, __file__, "--ours", dataset, "--trades-out", str(trades_path)]
    started, cpu = time.perf_counter(), child_cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds, cpu = time.perf_counter() - started, child_cpu_seconds() - cpu
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    trades = [OurTrade(**t) for t in json.loads(trades_path.read_text())]
    return OurRun(trades, seconds, cpu, figures)


# --- comparison ------------------------------------------------------------------------------------

_REASONS = {"stop_loss": "stop_loss", "exit_signal": "exit_signal"}


def compare(ours: list[OurTrade], theirs: list[TheirTrade], ticks: dict[str, float]) -> tuple[int, list[str]]:
    """How many closed trades agree (entry and exit time, prices within a tick, exit reason), and the
    differences in words. Freqtrade dates a stop-loss exit at the open of the candle that hit it; the
    product at that candle's close (when its step ran): the two are aligned before comparing."""
    closed = [t for t in theirs if t.exit_reason != "force_exit"]
    mine = {(t.symbol, t.opened_at): t for t in ours}
    differences, matched = [], 0
    for trade in closed:
        key = (trade.pair, trade.opened_at.isoformat())
        own = mine.pop(key, None)
        if own is None:
            differences.append(f"only Freqtrade: {trade.pair} {trade.opened_at:%Y-%m-%d %H:%M} {trade.exit_reason}")
            continue
        closed_at = trade.closed_at + (timedelta(minutes=5) if trade.exit_reason == "stop_loss" else timedelta())
        tick = ticks[trade.pair]
        same = (
            own.closed_at == closed_at.isoformat()
            and own.exit_reason == _REASONS.get(trade.exit_reason, trade.exit_reason)
            and abs(own.entry_price - trade.open_rate) <= tick * 1.01
            and abs(own.exit_price - trade.close_rate) <= tick * 1.01
        )
        if same:
            matched += 1
        else:
            differences.append(
                f"{trade.pair} opened {trade.opened_at:%Y-%m-%d %H:%M}: ours closed {own.closed_at} "
                f"{own.exit_reason} {own.entry_price:.8f}→{own.exit_price:.8f}; Freqtrade {closed_at.isoformat()} "
                f"{trade.exit_reason} {trade.open_rate:.8f}→{trade.close_rate:.8f}"
            )
    open_at_their_end = {(t.pair, t.opened_at.isoformat()) for t in theirs if t.exit_reason == "force_exit"}
    differences += [f"only ours: {s} {o}" for (s, o) in mine if (s, o) not in open_at_their_end]
    return matched, differences


# --- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--skip-freqtrade", action="store_true")
    parser.add_argument("--freqtrade-venv", type=Path, default=CACHE / "freqtrade-venv")
    parser.add_argument("--workdir", type=Path, help="keep the files (candles, configs, logs, results) here")
    parser.add_argument("--ours", choices=list(DATASETS), help=argparse.SUPPRESS)
    parser.add_argument("--trades-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        ours_in_this_process(args.ours, args.trades_out)
        return 0
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    executable = None if args.skip_freqtrade else ensure_freqtrade(args.freqtrade_venv)
    with tempfile.TemporaryDirectory(prefix="tradebot-bench-") as temporary:
        folder = args.workdir or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets:
            bench_dataset(dataset, folder, executable)
    return 0


def bench_dataset(dataset: str, folder: Path, freqtrade: Path | None) -> None:
    ours = run_ours(dataset, folder)
    f = ours.figures
    rate = f["candles"] / ours.seconds
    print(
        f"\n[{dataset}] tradebot: {f['candles']:,} candles, {f['trades']:,} closed trades (+{f['open_at_end']} open), "
        f"engine stepped on {f['steps']:,} candles\n"
        f"  whole process {ours.seconds:.2f} s = {rate:,.0f} candles/s (CPU {ours.cpu_seconds:.2f} s); engine "
        f"{f['engine_s']:.2f} s = {f['candles'] / f['engine_s']:,.0f} candles/s "
        f"(loading the candles {f['load_s']:.2f} s)"
    )
    if freqtrade is None:
        return
    series = DATASETS[dataset]()
    spec = bench_spec(series)
    markets = dict(spec.trader.markets)
    theirs = run_freqtrade(
        freqtrade,
        folder / f"freqtrade-{dataset}",
        series,
        markets,
        startup_candles=WARMUP,
        wallet=spec.trader.capital,
        fee=FEE,
    )
    core = f", its own backtest timer {theirs.core_seconds:.2f} s" if theirs.core_seconds else ""
    print(
        f"  Freqtrade: {len(theirs.trades):,} trades; whole process {theirs.seconds:.2f} s = "
        f"{f['candles'] / theirs.seconds:,.0f} candles/s (CPU {theirs.cpu_seconds:.2f} s){core}\n"
        f"  speed ratio, whole process: {theirs.seconds / ours.seconds:.1f}x wall clock, "
        f"{theirs.cpu_seconds / ours.cpu_seconds:.1f}x CPU"
    )
    ticks = {symbol: float(market.price_step) for symbol, market in markets.items()}
    matched, differences = compare(ours.trades, theirs.trades, ticks)
    closed = sum(1 for t in theirs.trades if t.exit_reason != "force_exit")
    verdict = "the trade lists match" if not differences else f"{len(differences)} difference(s)"
    print(f"  trades compared (times, prices within a tick, exit reasons): {matched}/{closed} agree; {verdict}")
    for line in differences[:10]:
        print(f"    {line}")


if __name__ == "__main__":
    sys.exit(main())
