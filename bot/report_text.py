"""The reports as people read them in Telegram: short lines, figures first, nothing lost when long."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from bot.render import money, pct, price, qty, state_line
from engine.analytics import TradeStats
from engine.domain.money import ZERO
from engine.ports import FillRecord
from engine.reports import AdminDay, StrategyReview, UserDay, WeeklyReview

MAX_LINES = 10  # trades or positions listed one by one; the rest are counted


def user_day(day: UserDay) -> str:
    user = day.user
    capital = user.capital or ZERO
    total = day.value.total_pnl
    lines = [
        f"<b>Your day</b> · {day.day_start:%Y-%m-%d} (UTC, until {day.at:%H:%M})",
        f"Equity <b>{money(day.equity)}</b> · today {money(day.day_pnl, signed=True)} ({pct(day.day_pnl_ratio)})",
        f"Since you started {money(total, signed=True)} ({pct(total / capital if capital else ZERO)}) "
        f"on {money(capital)}",
    ]
    if user.is_paused or not user.trading_state.allows_entries:
        lines.append(state_line(user))
    lines.append("")
    lines.append(f"<b>Trades today</b>: {len(day.fills) or 'none'}")
    lines += _listed([_fill_line(f) for f in day.fills])
    if day.closed:
        lines.append(f"Closed today: {len(day.closed)} · realized {money(day.realized_today, signed=True)}")
    lines.append("")
    lines.append(f"<b>Open positions</b>: {len(day.open_positions) or 'none'}")
    lines += _listed(
        [
            f"• {escape(v.position.symbol)} {qty(v.position.qty)} @ {price(v.position.avg_entry)} → "
            f"{price(v.price)} · {money(v.unrealized_pnl, signed=True)} ({pct(v.unrealized_pct)})"
            for v in day.open_positions
        ]
    )
    return "\n".join(lines)


def chart_caption(day: UserDay) -> str:
    return f"Equity and drawdown, last 7 days · now {money(day.equity)}"


def admin_day(day: AdminDay) -> str:
    lines = [
        f"<b>Admin report</b> · {day.day_start:%Y-%m-%d} (UTC, until {day.at:%H:%M})",
        f"Users: {day.users_active} active, {day.users_paused} paused, {day.users_traded} traded today",
        f"Volume: {money(day.volume)} in {day.fills} fills",
        f"PnL per user today: avg {money(day.average_pnl_per_user, signed=True)} "
        f"(all users {money(day.total_pnl, signed=True)})",
        _orders_line(day),
    ]
    lines.append("<b>Top strategies today</b>" if day.top_strategies else "Top strategies today: no trades")
    lines += [
        f"{rank}. {escape(s.strategy)}: {money(s.net_pnl, signed=True)} on {s.closed} closed "
        f"({s.wins} won), {s.entries} entries"
        for rank, s in enumerate(day.top_strategies, start=1)
    ]
    by_source = ", ".join(f"{escape(k)} {v}" for k, v in sorted(day.errors_by_source.items(), key=lambda kv: -kv[1]))
    lines.append(f"Errors: {day.errors}" + (f" ({by_source})" if by_source else ""))
    lines.append(f"Incidents: {len(day.incidents) or 'none'}")
    lines += _listed(
        [f"• {a.severity} {escape(a.title)} (×{a.occurrences}{', open' if a.is_open else ''})" for a in day.incidents]
    )
    lines.append("Exchange latency (24 h): " + ("no requests" if not day.latency else ""))
    lines += [
        f"• {escape(venue)}: p50 {s.p50 * 1000:.0f} ms · p95 {s.p95 * 1000:.0f} ms · {s.calls:,} requests, "
        f"{s.errors} failed"
        for venue, s in day.latency.items()
    ]
    lines.append(_llm_line(day))
    return "\n".join(lines)


def weekly_review(review: WeeklyReview) -> str:
    lines = [
        f"<b>Weekly review</b> · {review.week_start:%Y-%m-%d} → {review.at:%Y-%m-%d}",
        f"All strategies: {_stats_line(review.overall)}",
        "",
    ]
    if not review.strategies:
        lines.append("No position was closed this week.")
    for item in review.strategies:
        lines.append(f"<b>{escape(_name(item))}</b>: {_stats_line(item.stats)}")
    usage = review.agent_usage
    if usage is not None:
        trades = review.agent.stats.trades if review.agent else 0
        per_trade = f", {money(usage.cost_usd / trades)} per trade" if trades else ""
        lines.append(
            f"LLM agent: {usage.calls} calls, {usage.cache_hits} answered from cache, {usage.invalid} invalid, "
            f"{usage.failures} failed · {money(usage.cost_usd)} spent{per_trade}"
        )
    return "\n".join(lines)


def _stats_line(stats: TradeStats) -> str:
    if not stats.has_trades:
        return "no trades"
    reward_risk = f"{stats.reward_risk:.2f}" if stats.reward_risk is not None else "no losses"
    drawdown = stats.max_drawdown
    return (
        f"{stats.trades} trades · win rate {stats.win_rate:.0%} · reward/risk {reward_risk} · "
        f"expectancy {money(stats.expectancy, signed=True)} ({pct(Decimal(str(stats.expectancy_ratio)))}) · "
        f"max drawdown {money(drawdown.amount)} · total {money(stats.total_pnl, signed=True)}"
    )


def _name(review: StrategyReview) -> str:
    return "LLM agent" if review.strategy == "llm_agent" else review.strategy


def _orders_line(day: AdminDay) -> str:
    orders = day.orders
    answered = orders.taken + orders.failed
    if not answered:
        return f"Orders: {orders.total} sent, none answered yet" if orders.total else "Orders: none"
    return (
        f"Orders: {orders.success_ratio:.1%} succeeded ({orders.taken} of {answered} answered; "
        f"{orders.by_status.get('rejected', 0)} rejected, {orders.by_status.get('unknown', 0)} unknown)"
    )


def _llm_line(day: AdminDay) -> str:
    if day.llm is None or day.llm_budget is None:
        return "LLM: off"
    share = day.llm.cost_usd / day.llm_budget if day.llm_budget else ZERO
    return (
        f"LLM: {money(day.llm.cost_usd)} of {money(day.llm_budget)} budget ({pct(share, signed=False)}), "
        f"{day.llm.calls} calls, {day.llm.input_tokens + day.llm.output_tokens:,} tokens"
    )


def _fill_line(fill: FillRecord) -> str:
    verb = "Bought" if fill.side == "buy" else "Sold"
    why = f" ({escape(fill.strategy)})" if fill.strategy else ""
    purpose = "" if fill.purpose in ("entry", "exit_signal") else f", {fill.purpose.replace('_', ' ')}"
    return f"• {verb} {qty(fill.qty)} {escape(fill.symbol)} at {price(fill.price)}{why}{purpose}"


def _listed(lines: Sequence[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return list(lines)
    return [*lines[:MAX_LINES], f"… and {len(lines) - MAX_LINES} more"]
