"""`tradebot backtest`: a strategy on recorded candles (or an OHLCV CSV) through the product's own engine, with a
progress bar on stderr, the summary on stdout, the round trips as CSV and the equity and drawdown as PNG."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from bot.charts import equity_chart_png
from bot.log_setup import configure_logging
from bot.settings import Settings
from engine.backtest.report import speed_line, summary_lines, write_trades_csv
from engine.backtest.session import BacktestOutcome, BacktestRequest, backtest
from engine.domain.enums import RiskProfileName
from engine.paper_matching import FillModel
from engine.strategies.catalog import RULES


def add_backtest_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = commands.add_parser(
        "backtest",
        help="run a strategy over recorded candles with the product's own engine",
        description="Backtest a built-in strategy with the same strategy, risk and order code as paper and live "
        "trading, on the recorded candles packaged with the product or on an OHLCV CSV file.",
    )
    command.add_argument("--strategy", required=True, choices=sorted(RULES))
    command.add_argument(
        "--symbols",
        required=True,
        nargs="+",
        metavar="SYMBOL",
        help="e.g. ETH/USDT LTC/USDT (recorded: ETH, LTC, XMR, DASH, ETC, ADA against USDT or BTC)",
    )
    command.add_argument("--timeframe", default="5m")
    command.add_argument("--from", dest="start", type=_moment, help="first day traded, YYYY-MM-DD[THH:MM] UTC")
    command.add_argument("--to", dest="end", type=_moment, help="end of the period (exclusive), UTC")
    command.add_argument("--profile", default="moderate", choices=[p.value for p in RiskProfileName])
    command.add_argument("--capital", default=Decimal(1000), type=_amount, help="starting cash in the quote currency")
    command.add_argument("--data", type=Path, help="an OHLCV CSV file, or a folder of BASE_QUOTE-TIMEFRAME.csv[.gz]")
    command.add_argument("--fee", default=Decimal("0.001"), type=_amount, help="fee rate per fill (0.001 = 0.1%%)")
    command.add_argument("--slippage", default=Decimal("0.0005"), type=_amount, help="market orders pay this much")
    command.add_argument(
        "--out", type=Path, default=Path("backtest-results"), help="folder for trades.csv and equity.png"
    )
    command.set_defaults(handler=run_backtest_command)


def run_backtest_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    configure_logging("WARNING", "console", [])
    request = BacktestRequest(
        strategy=args.strategy,
        symbols=tuple(args.symbols),
        timeframe=args.timeframe,
        start=args.start,
        end=args.end,
        profile=RiskProfileName(args.profile),
        capital=args.capital,
        data=args.data,
        fill_model=FillModel(fee_rate=args.fee, slippage=args.slippage),
    )
    bar = ProgressBar(sys.stderr)
    try:
        outcome = asyncio.run(backtest(request, bar.update))
    except ValueError as error:
        bar.close()
        print(f"backtest: {error}", file=sys.stderr)
        return 2
    bar.close()
    print("\n".join(summary_lines(outcome.summary, outcome.title)), file=out)
    print(speed_line(outcome.summary), file=out)
    for path in write_outputs(outcome, args.out):
        print(f"wrote {path}", file=out)
    return 0


def write_outputs(outcome: BacktestOutcome, folder: Path) -> list[Path]:
    trades = write_trades_csv(outcome.trips, folder / "trades.csv")
    chart = folder / "equity.png"
    chart.write_bytes(equity_chart_png(outcome.curve.points(), outcome.title, outcome.summary.capital))
    return [trades, chart]


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; on anything else, a line per tenth."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._shown = -1
        self._is_terminal = stream.isatty()

    def update(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        percent = int(share * 100)
        if percent == self._shown or (not self._is_terminal and percent // 10 == self._shown // 10):
            return
        self._shown = percent
        filled = int(share * self._width)
        line = f"backtest [{'#' * filled}{'.' * (self._width - filled)}] {percent:3d}%"
        self._stream.write(f"\r{line}" if self._is_terminal else f"{line}\n")
        self._stream.flush()

    def close(self) -> None:
        if self._is_terminal and self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of zero or more: {text!r}")
    return value
