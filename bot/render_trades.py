"""What users read about their trades: open positions in detail, the trade history, profit and loss."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from bot.render import money, pct, price, qty, when
from engine.accounts_view import AccountValue, ValuedPosition
from engine.domain.enums import OrderPurpose
from engine.portfolio import Period, PeriodPnl
from engine.ports import FillRecord

_PURPOSES = {
    OrderPurpose.ENTRY.value: "entry",
    OrderPurpose.EXIT_SIGNAL.value: "strategy exit",
    OrderPurpose.STOP_LOSS.value: "stop-loss",
    OrderPurpose.TAKE_PROFIT.value: "take-profit",
    OrderPurpose.TRAILING_STOP.value: "trailing stop",
    OrderPurpose.TIME_EXIT.value: "time limit",
    OrderPurpose.MANUAL_CLOSE.value: "closed by you",
}
_PERIOD_WORDS = {
    Period.DAY: "today (since 00:00 UTC)",
    Period.WEEK: "the last 7 days",
    Period.MONTH: "the last 30 days",
}


def positions(view: AccountValue, now: datetime) -> str:
    if not view.positions:
        return "No open positions. /history shows what you traded."
    lines = [f"<b>Open positions</b> ({len(view.positions)}) · invested {money(view.invested)}"]
    for valued in sorted(view.positions, key=lambda v: v.value, reverse=True):
        lines += ["", *position_detail(valued, view.equity)]
    lines += ["", f"<i>As of {when(now)} · /close SYMBOL sells one</i>"]
    return "\n".join(lines)


def position_detail(valued: ValuedPosition, equity: Decimal) -> list[str]:
    p = valued.position
    share = valued.value / equity if equity else Decimal(0)
    lines = [
        f"<b>{escape(p.symbol)}</b>  {money(valued.unrealized_pnl, signed=True)} ({pct(valued.unrealized_pct)})",
        f"  {qty(p.qty)} @ {price(p.avg_entry)} → {price(valued.price)} · worth {money(valued.value)}"
        f" ({pct(share, signed=False)} of equity)",
    ]
    exits = []
    if p.stop_price is not None:
        exits.append(f"stop {price(p.stop_price)}" + (" (at the exchange)" if p.stop_order_id else ""))
    if p.take_profit is not None:
        exits.append(f"target {price(p.take_profit)}")
    if p.trailing_distance is not None:
        exits.append(f"trailing {pct(p.trailing_distance, signed=False)}")
    if exits:
        lines.append("  " + " · ".join(exits))
    opened = f"  opened {when(p.opened_at)}" + (f" by {escape(p.strategy)}" if p.strategy else "")
    lines.append(opened)
    return lines


def history(fills: list[FillRecord], asked: int) -> str:
    if not fills:
        return "No trades yet. When I trade for you, each fill shows up here."
    lines = [f"<b>Last {len(fills)} trade(s)</b>" + (f" (you asked for {asked})" if len(fills) < asked else "")]
    for fill in fills:
        verb = "Bought" if fill.side == "buy" else "Sold"
        why = _PURPOSES.get(fill.purpose, fill.purpose)
        source = f" · {escape(fill.strategy)}" if fill.strategy else ""
        lines.append(
            f"\n{when(fill.ts)}\n{verb} {qty(fill.qty)} {escape(fill.symbol)} @ {price(fill.price)}"
            f" = {money(fill.qty * fill.price)} · fee {qty(fill.fee)} {escape(fill.fee_currency)}"
            f"\n  {escape(why)}{source}"
        )
    return "\n".join(lines)


def pnl(result: PeriodPnl) -> str:
    lines = [f"<b>Profit and loss</b> — {_PERIOD_WORDS[result.period]}"]
    if result.closed:
        losses = len(result.closed) - result.wins
        lines.append(
            f"Closed trades  {money(result.realized, signed=True)} net of {money(result.fees)} fees"
            f" · {len(result.closed)} trade(s): {result.wins} won, {losses} lost"
        )
        best = max(result.closed, key=lambda p: p.net_realized_pnl)
        worst = min(result.closed, key=lambda p: p.net_realized_pnl)
        lines.append(f"Best {escape(best.symbol)} {money(best.net_realized_pnl, signed=True)}")
        if len(result.closed) > 1:
            lines.append(f"Worst {escape(worst.symbol)} {money(worst.net_realized_pnl, signed=True)}")
    else:
        lines.append("No trade closed in this period.")
    lines.append(f"Open positions  {money(result.unrealized, signed=True)} not yet realized")
    change = result.equity_change
    if change is not None and result.equity_then:
        lines.append(
            f"Equity  {money(result.equity_then)} → {money(result.equity_now or Decimal(0))}"
            f"  ({money(change, signed=True)}, {pct(change / result.equity_then)})"
        )
    lines.append("\n/pnl day · /pnl week · /pnl month")
    return "\n".join(lines)
