"""What a backtest did, in numbers: the equity curve, the round trips, and the summary a trader reads.

Analytics over the engine's own records (its fills and positions), in numpy floats; the trading itself was
done in exact decimals by the engine.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from engine.backtest.runner import BacktestRun
from engine.domain.enums import Side
from engine.domain.money import ZERO
from engine.domain.positions import Position
from engine.market_data.candles import FloatArray, IntArray, timeframe_ms
from engine.market_data.replay import ms_to_datetime
from engine.ports import FillRecord

DAY_MS = 86_400_000
YEAR_DAYS = 365.0  # crypto trades every day


@dataclass(frozen=True, slots=True)
class EquityCurve:
    close_ms: IntArray  # each candle's close time
    equity: FloatArray
    invested: FloatArray  # market value of what is held

    @property
    def drawdown(self) -> FloatArray:
        """The fall from the running peak, as a fraction (0 at a peak, -0.1 ten percent below it)."""
        peak = np.maximum.accumulate(self.equity)
        return np.where(peak > 0, self.equity / peak - 1.0, 0.0)

    def points(self, limit: int = 2000) -> list[tuple[datetime, Decimal]]:
        """At most about `limit` points of the curve, evenly spaced, the last one always included."""
        step = max(1, math.ceil(self.equity.shape[0] / limit))
        picks = list(range(0, self.equity.shape[0], step))
        if picks and picks[-1] != self.equity.shape[0] - 1:
            picks.append(self.equity.shape[0] - 1)
        return [(ms_to_datetime(int(self.close_ms[i])), Decimal(f"{self.equity[i]:.2f}")) for i in picks]


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One position from its first buy to its last sale."""

    symbol: str
    opened_at: datetime
    closed_at: datetime
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    net_pnl: Decimal
    exit_reason: str

    @property
    def return_pct(self) -> float:
        cost = self.qty * self.entry_price
        return float(self.net_pnl / cost * 100) if cost else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    start: datetime
    end: datetime
    capital: Decimal
    final_equity: float
    total_return: float  # fraction
    cagr: float | None
    sharpe: float | None  # daily returns, annualised
    sortino: float | None
    max_drawdown: float  # fraction, positive
    trades: int  # closed round trips
    open_at_end: int
    win_rate: float | None
    avg_reward_risk: float | None  # average win over average loss
    profit_factor: float | None
    exposure: float  # share of the time something was held
    fees: Decimal
    candles: int
    steps: int
    seconds: float


def equity_curve(run: BacktestRun) -> EquityCurve:
    """Cash plus the market value of the holdings at every candle close from the first traded candle on."""
    series = run.spec.series
    step = timeframe_ms(series[0].timeframe)
    start_ms = int(run.start.timestamp() * 1000)
    opens = np.unique(np.concatenate([c.ts for c in series]))
    opens = opens[opens >= start_ms]
    close_ms = opens + step
    cash = np.full(opens.shape[0], float(run.spec.trader.capital))
    invested = np.zeros(opens.shape[0])
    for candles in series:
        mine = [f for f in run.fills if f.symbol == candles.symbol]
        at = _candle_of(close_ms, mine)
        signed = np.array([float(f.qty) if f.side == Side.BUY else -float(f.qty) for f in mine])
        paid = np.array([float(f.qty * f.price) * (1 if f.side == Side.BUY else -1) + float(f.fee) for f in mine])
        held = _accumulate(at, signed, opens.shape[0])
        cash -= _accumulate(at, paid, opens.shape[0])
        invested += held * _closes_at(candles.ts, candles.close, opens)
    return EquityCurve(close_ms, cash + invested, invested)


def round_trips(run: BacktestRun) -> list[RoundTrip]:
    """Every closed position with the fills that made it, in the order they closed."""
    fills_of: dict[str, list[FillRecord]] = {}
    for fill in run.fills:  # booked in time order
        fills_of.setdefault(fill.symbol, []).append(fill)
    times_of = {symbol: [f.ts for f in fills] for symbol, fills in fills_of.items()}
    trips = []
    for position in run.positions:
        if position.closed_at is None:
            continue
        times = times_of.get(position.symbol, [])
        first, last = bisect_left(times, position.opened_at), bisect_right(times, position.closed_at)
        trips.append(_round_trip(position, fills_of.get(position.symbol, [])[first:last]))
    return sorted(trips, key=lambda t: (t.closed_at, t.symbol))


def _round_trip(position: Position, fills: list[FillRecord]) -> RoundTrip:
    assert position.closed_at is not None
    first_buy = next((i for i, f in enumerate(fills) if f.side == Side.BUY), len(fills))
    fills = fills[first_buy:]  # a sale at the opening time closed the position before
    for index in range(1, len(fills)):  # a buy after a sale at the closing time opens the next position
        if fills[index].side == Side.BUY and fills[index - 1].side == Side.SELL:
            fills = fills[:index]
            break
    buys = [f for f in fills if f.side == Side.BUY]
    sells = [f for f in fills if f.side == Side.SELL]
    bought = sum((f.qty for f in buys), start=ZERO)
    sold = sum((f.qty for f in sells), start=ZERO)
    return RoundTrip(
        symbol=position.symbol,
        opened_at=position.opened_at,
        closed_at=position.closed_at,
        qty=bought,
        entry_price=sum((f.qty * f.price for f in buys), start=ZERO) / bought if bought else ZERO,
        exit_price=sum((f.qty * f.price for f in sells), start=ZERO) / sold if sold else ZERO,
        fees=sum((f.fee for f in fills), start=ZERO),
        net_pnl=position.net_realized_pnl,
        exit_reason=sells[-1].purpose if sells else "",
    )


def summarize(run: BacktestRun, curve: EquityCurve, trips: list[RoundTrip]) -> Summary:
    capital = float(run.spec.trader.capital)
    final = float(curve.equity[-1]) if curve.equity.shape[0] else capital
    years = (run.end - run.start).total_seconds() / (YEAR_DAYS * 86_400)
    daily = _daily_returns(curve, capital)
    wins = [float(t.net_pnl) for t in trips if t.net_pnl > 0]
    losses = [float(t.net_pnl) for t in trips if t.net_pnl <= 0]
    return Summary(
        start=run.start,
        end=run.end,
        capital=run.spec.trader.capital,
        final_equity=final,
        total_return=final / capital - 1.0,
        cagr=(final / capital) ** (1.0 / years) - 1.0 if years > 0 and final > 0 else None,
        sharpe=_sharpe(daily),
        sortino=_sortino(daily),
        max_drawdown=float(-curve.drawdown.min()) if curve.equity.shape[0] else 0.0,
        trades=len(trips),
        open_at_end=sum(1 for p in run.positions if p.closed_at is None),
        win_rate=len(wins) / len(trips) if trips else None,
        avg_reward_risk=(np.mean(wins) / -np.mean(losses)) if wins and losses and np.mean(losses) < 0 else None,
        profit_factor=(sum(wins) / -sum(losses)) if losses and sum(losses) < 0 else None,
        exposure=float(np.mean(curve.invested > 0)) if curve.invested.shape[0] else 0.0,
        fees=sum((f.fee for f in run.fills), start=ZERO),
        candles=run.candles,
        steps=run.steps,
        seconds=run.seconds,
    )


def _candle_of(close_ms: IntArray, fills: list[FillRecord]) -> IntArray:
    """The index of the first candle whose close is at or after each fill."""
    times = np.array([int(f.ts.timestamp() * 1000) for f in fills], dtype=np.int64)
    return np.searchsorted(close_ms, times, side="left")


def _accumulate(at: IntArray, amounts: FloatArray, size: int) -> FloatArray:
    deltas = np.zeros(size + 1)
    np.add.at(deltas, at, amounts)
    return np.cumsum(deltas[:size])


def _closes_at(ts: IntArray, close: FloatArray, opens: IntArray) -> FloatArray:
    """Each grid candle's close for one series, carried forward over its gaps (0 before it starts)."""
    index = np.searchsorted(ts, opens, side="right") - 1
    return np.where(index >= 0, close[np.clip(index, 0, None)], 0.0)


def _daily_returns(curve: EquityCurve, capital: float) -> FloatArray:
    if not curve.equity.shape[0]:
        return np.empty(0)
    days = (curve.close_ms - 1) // DAY_MS  # a close at midnight belongs to the day it ends
    last_of_day = np.flatnonzero(np.diff(days, append=days[-1] + 1))
    closes = np.concatenate(([capital], curve.equity[last_of_day]))
    return np.diff(closes) / closes[:-1]


def _sharpe(daily: FloatArray) -> float | None:
    if daily.shape[0] < 2 or float(np.std(daily, ddof=1)) == 0.0:
        return None
    return float(np.mean(daily) / np.std(daily, ddof=1) * math.sqrt(YEAR_DAYS))


def _sortino(daily: FloatArray) -> float | None:
    downside = math.sqrt(float(np.mean(np.minimum(daily, 0.0) ** 2))) if daily.shape[0] >= 2 else 0.0
    if downside == 0.0:
        return None
    return float(np.mean(daily) / downside * math.sqrt(YEAR_DAYS))
