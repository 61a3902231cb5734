"""Numbers for reports and reviews, computed with numpy over whole series: percentiles, drawdowns, and the
statistics of a set of closed trades (win rate, average reward/risk, expectancy, maximum drawdown).

Pure functions: amounts come in as `Decimal` and go out as `Decimal` where they are money (rounded to the
cent), as `float` where they are ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate

import numpy as np

CENT = Decimal("0.01")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation), 0.0 for no values."""
    if len(values) == 0:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=float), q))


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: Decimal  # the largest fall from a running peak, in the series' unit
    ratio: float  # that fall as a share of the peak it fell from (0.25 = 25%); 0 when the peak is not positive


def max_drawdown(values: Sequence[Decimal], start: Decimal = Decimal(0)) -> Drawdown:
    """The deepest fall from a running peak of `values`, the series starting from `start` (e.g. a cumulative
    PnL starts from 0, an equity curve from its first point). numpy finds it; the amount is exact."""
    if len(values) == 0:
        return Drawdown(Decimal(0), 0.0)
    exact = [start, *values]
    series = np.asarray([float(v) for v in exact], dtype=float)
    peaks = np.maximum.accumulate(series)
    deepest = int(np.argmax(peaks - series))
    peak_at = int(np.argmax(series[: deepest + 1]))
    peak, fall = exact[peak_at], exact[peak_at] - exact[deepest]
    return Drawdown(fall.quantize(CENT), float(fall / peak) if peak > 0 else 0.0)


@dataclass(frozen=True, slots=True)
class TradeStats:
    """A set of closed trades, in the order they closed."""

    trades: int
    wins: int
    losses: int
    win_rate: float  # wins / trades
    average_win: Decimal
    average_loss: Decimal  # as a positive amount
    reward_risk: float | None  # average win / average loss; None without losses
    expectancy: Decimal  # what a trade made on average (net of fees)
    expectancy_ratio: float  # that, as a share of what a trade put at work
    total_pnl: Decimal
    max_drawdown: Drawdown  # on the cumulative PnL of the trades

    @property
    def has_trades(self) -> bool:
        return self.trades > 0


def trade_stats(pnls: Sequence[Decimal], invested: Sequence[Decimal] | None = None) -> TradeStats:
    """Statistics of closed trades: `pnls` net of fees, in closing order; `invested` what each put at work."""
    count = len(pnls)
    if count == 0:
        return TradeStats(0, 0, 0, 0.0, Decimal(0), Decimal(0), None, Decimal(0), 0.0, Decimal(0), max_drawdown([]))
    results = np.asarray([float(p) for p in pnls], dtype=float)
    wins, losses = results[results > 0], results[results < 0]
    average_win = float(wins.mean()) if wins.size else 0.0
    average_loss = float(-losses.mean()) if losses.size else 0.0
    total = sum(pnls, start=Decimal(0))
    expectancy = total / count
    put_at_work = float(sum(invested, start=Decimal(0))) if invested else 0.0
    return TradeStats(
        trades=count,
        wins=int(wins.size),
        losses=int(losses.size),
        win_rate=wins.size / count,
        average_win=_money(average_win),
        average_loss=_money(average_loss),
        reward_risk=average_win / average_loss if average_loss > 0 else None,
        expectancy=expectancy.quantize(CENT),
        expectancy_ratio=float(total) / put_at_work if put_at_work > 0 else 0.0,
        total_pnl=total.quantize(CENT),
        max_drawdown=max_drawdown(list(accumulate(pnls))),
    )


def _money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2))).quantize(CENT)
