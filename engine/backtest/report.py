"""A backtest told to a person: the summary as lines of text, the round trips as CSV."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from engine.backtest.metrics import RoundTrip, Summary

TRADE_COLUMNS = (
    "symbol",
    "opened_at",
    "closed_at",
    "qty",
    "entry_price",
    "exit_price",
    "fees",
    "net_pnl",
    "return_pct",
    "exit_reason",
)


def summary_lines(summary: Summary, title: str) -> list[str]:
    """The summary, one figure per line, aligned for a monospace font."""
    rows = [
        ("period", f"{summary.start:%Y-%m-%d %H:%M} → {summary.end:%Y-%m-%d %H:%M} UTC"),
        ("capital", f"{summary.capital:,.2f} → {summary.final_equity:,.2f}"),
        ("return", _percent(summary.total_return)),
        ("CAGR", _percent(summary.cagr)),
        ("Sharpe", _number(summary.sharpe)),
        ("Sortino", _number(summary.sortino)),
        ("max drawdown", _percent(-summary.max_drawdown)),
        ("trades", f"{summary.trades}" + (f" (+{summary.open_at_end} still open)" if summary.open_at_end else "")),
        ("win rate", _percent(summary.win_rate, signed=False)),
        ("avg reward/risk", _number(summary.avg_reward_risk)),
        ("profit factor", _number(summary.profit_factor)),
        ("exposure", _percent(summary.exposure, signed=False)),
        ("fees", f"{summary.fees:,.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return [title, *(f"{name:<{width}}  {value}" for name, value in rows)]


def speed_line(summary: Summary) -> str:
    rate = summary.candles / summary.seconds if summary.seconds > 0 else float("inf")
    return (
        f"{summary.candles:,} candles in {summary.seconds:.2f} s ({rate:,.0f} candles/s); "
        f"the engine stepped on {summary.steps:,} of them"
    )


def write_trades_csv(trips: Sequence[RoundTrip], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRADE_COLUMNS)
        for t in trips:
            writer.writerow(
                [
                    t.symbol,
                    t.opened_at.isoformat(),
                    t.closed_at.isoformat(),
                    f"{t.qty:f}",
                    f"{t.entry_price.normalize():f}",
                    f"{t.exit_price.normalize():f}",
                    f"{t.fees.normalize():f}",
                    f"{t.net_pnl.normalize():f}",
                    f"{t.return_pct:.3f}",
                    t.exit_reason,
                ]
            )
    return path


def _percent(value: float | None, *, signed: bool = True) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.2f}%" if signed else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
