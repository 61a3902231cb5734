"""Everything users read: HTML for Telegram, short lines that fit a phone screen."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from html import escape

from engine.accounts_view import AccountValue, ValuedPosition
from engine.domain.accounts import User
from engine.domain.enums import OrderPurpose, Side, TradingState
from engine.domain.events import OrderFailed, TradeFilled
from engine.domain.signals import Decision
from risk.phases import RolloutPhase
from risk.profiles import RiskProfile

PORTFOLIO_POSITIONS = 25  # the largest positions shown by /portfolio; /positions lists them all


def money(amount: Decimal, *, signed: bool = False) -> str:
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ("−" if value < 0 else "")
    return f"{sign}${abs(value):,.2f}"


def pct(fraction: Decimal, *, signed: bool = True) -> str:
    value = (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "+" if signed and value > 0 else ("−" if value < 0 else "")
    return f"{sign}{abs(value)}%"


def price(value: Decimal) -> str:
    """A price with as many decimals as its size needs (8 significant digits at most)."""
    if value >= 1000:
        return f"{value:,.2f}"
    if value >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:.8f}".rstrip("0").rstrip(".")


def qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- portfolio -----------------------------------------------------------------------------------


def portfolio(view: AccountValue, now: datetime) -> str:
    user = view.user
    capital = user.capital or Decimal(0)
    total_pct = view.total_pnl / capital if capital else Decimal(0)
    lines = [
        f"<b>Portfolio</b> · {escape(user.mode.value)} · {escape(user.profile.value if user.profile else '—')}",
        f"Equity  <b>{money(view.equity)}</b>  ({pct(total_pct)} on {money(capital)})",
        f"Cash    {money(view.cash)} free",
        f"Today   {money(view.day_pnl, signed=True)}   Total {money(view.total_pnl, signed=True)}",
    ]
    state = state_line(user)
    if state:
        lines.append(state)
    if view.positions:
        largest = sorted(view.positions, key=lambda p: p.value, reverse=True)
        lines += ["", f"<b>Open positions</b> ({len(view.positions)})"]
        lines += [line for p in largest[:PORTFOLIO_POSITIONS] for line in position_lines(p)]
        if len(largest) > PORTFOLIO_POSITIONS:
            lines.append(f"…and {len(largest) - PORTFOLIO_POSITIONS} smaller ones: /positions lists them all.")
    else:
        lines += ["", "No open positions."]
    lines += ["", f"<i>As of {when(now)}</i>"]
    return "\n".join(lines)


def position_lines(valued: ValuedPosition) -> list[str]:
    p = valued.position
    stop = f" · stop {price(p.stop_price)}" if p.stop_price is not None else ""
    return [
        f"<b>{escape(p.symbol)}</b>  {money(valued.unrealized_pnl, signed=True)} ({pct(valued.unrealized_pct)})",
        f"  {qty(p.qty)} @ {price(p.avg_entry)} → {price(valued.price)}{stop}",
    ]


def state_line(user: User) -> str:
    if user.is_paused:
        return "⏸ Paused: no new trades; open positions are still managed. /resume"
    if user.trading_state is TradingState.REDUCING:
        return f"⚠️ Exits only: {escape(user.state_reason or 'a circuit breaker tripped')}"
    if user.trading_state is TradingState.HALTED:
        return f"⛔ Halted: {escape(user.state_reason or 'a circuit breaker tripped')}. /resume to review."
    return ""


# --- onboarding ----------------------------------------------------------------------------------


def profile_menu(profiles: list[RiskProfile], phase: RolloutPhase) -> str:
    lines = ["<b>Pick a risk profile</b>", ""]
    for profile in profiles:
        allowed = profile.name in phase.profiles
        lines.append(f"<b>{profile.name.value.title()}</b>{'' if allowed else ' (not open in this phase)'}")
        lines.append(f"  {escape(profile.summary)}")
        risk, stop = pct(profile.risk_per_trade, signed=False), pct(profile.stop_loss, signed=False)
        daily = pct(profile.daily_loss_limit, signed=False)
        lines.append(
            f"  risks {risk} a trade · stop {stop} · up to {profile.max_open_positions} positions"
            f" · daily loss cap {daily}"
        )
    return "\n".join(lines)


def capital_question(phase: RolloutPhase) -> str:
    return (
        f"<b>How much should I manage?</b>\nDuring the {phase.name.value} phase: between "
        f"{money(phase.min_capital)} and {money(phase.max_capital)}. Pick one or type an amount."
    )


def setup_summary(user: User, venue: str | None) -> str:
    lines = [
        "<b>Your setup</b>",
        f"Profile  {escape(user.profile.value if user.profile else '—')}",
        f"Capital  {money(user.capital or Decimal(0))}",
        f"Account  {escape(venue or user.mode.value)}",
    ]
    state = state_line(user)
    if state:
        lines.append(state)
    lines.append("\n/portfolio to see it · /risk to change the profile · /help for everything")
    return "\n".join(lines)


# --- notifications -------------------------------------------------------------------------------

_PURPOSE_WORDS = {
    OrderPurpose.ENTRY: "Bought",
    OrderPurpose.EXIT_SIGNAL: "Sold (strategy exit)",
    OrderPurpose.STOP_LOSS: "Stop-loss hit — sold",
    OrderPurpose.TAKE_PROFIT: "Take-profit hit — sold",
    OrderPurpose.TRAILING_STOP: "Trailing stop hit — sold",
    OrderPurpose.TIME_EXIT: "Time limit — sold",
    OrderPurpose.MANUAL_CLOSE: "Closed as you asked — sold",
}


def trade_filled(event: TradeFilled) -> str:
    head = _PURPOSE_WORDS.get(event.purpose, "Sold" if event.side is Side.SELL else "Bought")
    lines = [
        f"<b>{head}</b> {qty(event.qty)} {escape(event.symbol)} @ {price(event.price)}",
        f"Value {money(event.qty * event.price)} · fee {money(event.fee)}",
    ]
    if event.realized_pnl is not None:
        lines.append(f"Result {money(event.realized_pnl, signed=True)} after fees")
    if event.rationale:
        lines.append(f"<i>Why: {escape(event.rationale)}</i>")
    return "\n".join(lines)


def order_failed(event: OrderFailed) -> str:
    return f"<b>Order not placed</b> ({escape(event.symbol)} {event.side.value})\n{escape(event.reason)}"


def refusal_notice(symbol: str, strategy: str, reasons: list[str]) -> str:
    lines = [f"<b>Skipped a {escape(strategy)} signal</b> on {escape(symbol)}:"]
    lines += [f"• {escape(r)}" for r in reasons]
    lines.append("/why shows your latest decisions.")
    return "\n".join(lines)


def decisions(items: list[Decision]) -> str:
    if not items:
        return "No decisions yet: nothing has signalled for your strategies."
    lines = ["<b>Latest decisions</b>"]
    for d in items:
        verdict = "✅ bought" if d.is_accepted else "❌ skipped"
        lines.append(f"\n{when(d.ts)} · {escape(d.symbol)} · {escape(d.strategy)} · {verdict}")
        lines += [f"  • {escape(r.message)}" for r in d.refusals]
        if d.rationale:
            lines.append(f"  <i>{escape(d.rationale)}</i>")
    return "\n".join(lines)
