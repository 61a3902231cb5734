"""What operators read: users, one user in detail, the system's status, recent errors, phases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from bot.render import money, pct, state_line, when
from engine.accounts_view import AccountValue
from engine.domain.accounts import Account, User
from engine.domain.enums import TradingState, UserStatus
from engine.ports import AlertRecord
from engine.system import PhaseChange
from engine.system_status import SystemStatus
from risk.phases import PhaseName, RolloutPhase

_HEALTH_MARKS = {"ok": "🟢", "degraded": "🟡", "disabled": "⚪", "down": "🔴"}
_STATE_WORDS = {
    TradingState.ACTIVE: "🟢 active: trading for everyone",
    TradingState.REDUCING: "⏸ paused for everyone: exits only",
    TradingState.HALTED: "⛔ halted: no orders at all",
}


def user_line(user: User) -> str:
    marks = []
    if user.is_paused:
        marks.append("⏸")
    if user.trading_state is not TradingState.ACTIVE:
        marks.append(user.trading_state.value)
    setup = (
        f" · {user.profile.value} · {money(user.capital)} · {user.mode.value}"
        if user.profile is not None and user.capital is not None
        else ""
    )
    extra = f" · {' '.join(marks)}" if marks else ""
    return f"#{user.id} {escape(user.name)} · {user.status.value}{setup}{extra}"


def users_page(users: Sequence[User], audience: str, page: int, pages: int, counts: Mapping[str, int]) -> str:
    summary = " · ".join(f"{name} {count}" for name, count in counts.items())
    lines = [f"<b>Users</b> ({escape(audience)}) — page {page + 1} of {max(pages, 1)}", summary, ""]
    lines += [user_line(u) for u in users] or ["Nobody here."]
    lines += ["", "/user ID for details · /approve ID lets a waiting person in"]
    return "\n".join(lines)


def user_detail(user: User, account: Account | None, view: AccountValue | None, positions: int) -> str:
    lines = [
        f"<b>#{user.id} {escape(user.name)}</b>",
        f"Telegram id {user.telegram_id} · {user.status.value} · joined {when(user.created_at)}",
    ]
    if user.profile is not None:
        lines.append(f"Profile {user.profile.value} · capital {money(user.capital or Decimal(0))} · {user.mode.value}")
    state = state_line(user)
    if state:
        lines.append(state)
    if account is not None:
        keys = f" · key …{escape(account.key_hint)}" if account.key_hint else ""
        lines.append(f"Account {escape(account.venue)}{keys}" + (" · reduce-only" if account.is_reduce_only else ""))
        if account.status_reason:
            lines.append(f"  {escape(account.status_reason)}")
    if view is not None:
        lines.append(
            f"Equity {money(view.equity)} · today {money(view.day_pnl, signed=True)}"
            f" · total {money(view.total_pnl, signed=True)} · {positions} open position(s)"
        )
    if user.notifications_muted:
        lines.append(f"Muted: {', '.join(sorted(user.notifications_muted))}")
    return "\n".join(lines)


def status(
    report: SystemStatus, health: Mapping[str, Any], llm_budget: Decimal | None, alerts: Sequence[AlertRecord] = ()
) -> str:
    lines = [f"<b>Status</b> · {when(report.ts)}", _STATE_WORDS[report.state]]
    if report.state_reason and report.state is not TradingState.ACTIVE:
        lines.append(f"  {escape(report.state_reason)}")
    lines.append(f"Phase {report.phase.name.value}")
    lines += ["", f"<b>Health</b> {_HEALTH_MARKS.get(health['status'], '')} {escape(health['status'])}"]
    for name, component in health["components"].items():
        detail = component.get("detail") or component.get("backend") or ""
        mark = _HEALTH_MARKS.get(component["status"], "")
        lines.append(
            f"{mark} {escape(name)}: {escape(component['status'])}" + (f" — {escape(str(detail))}" if detail else "")
        )
    users = report.users
    pending = users.by_status.get(UserStatus.PENDING, 0)
    lines += [
        "",
        f"<b>Users</b> trading {users.trading} · paused {users.paused} · exits only {users.reducing}"
        f" · halted {users.halted} · waiting for approval {pending}",
        f"<b>Open positions</b> {report.open_positions}",
    ]
    orders = report.orders_today
    rate = "—" if orders.success_rate is None else pct(orders.success_rate, signed=False)
    lines.append(
        f"<b>Orders today</b> {orders.total} · filled {orders.filled} · failed {orders.failed} · success {rate}"
    )
    budget = f" of {money(llm_budget)} budget" if llm_budget is not None else " (agent off)"
    lines.append(f"<b>LLM spend today</b> {money(report.llm_cost_today)}{budget}")
    lines.append(f"\n<b>Open alerts</b> {len(alerts)}" if alerts else "\nNo open alerts.")
    for alert in alerts[:10]:
        repeats = f" ×{alert.occurrences}" if alert.occurrences > 1 else ""
        lines.append(f"[{escape(alert.severity)}] {escape(alert.title)}{repeats} · since {when(alert.first_seen)}")
    return "\n".join(lines)


def errors(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "No processing errors recorded."
    lines = [f"<b>Latest {len(rows)} error(s)</b>"]
    for row in rows:
        ts = row["ts"]
        moment = when(ts) if isinstance(ts, datetime) else escape(str(ts))
        message = str(row["message"])
        shown = message if len(message) <= 400 else message[:400] + "…"
        lines.append(f"\n{moment} · <b>{escape(str(row['source']))}</b>\n{escape(shown)}")
    return "\n".join(lines)


def phases(current: RolloutPhase, all_phases: Mapping[PhaseName, RolloutPhase]) -> str:
    lines = [f"<b>Rollout phase: {current.name.value}</b>", ""]
    for phase in all_phases.values():
        mark = "▶" if phase.name is current.name else "·"
        seats = f"up to {phase.max_users} users" if phase.max_users else "no user cap"
        access = "invitation only" if phase.needs_invite else "open to all"
        profiles = ", ".join(sorted(p.value for p in phase.profiles))
        lines.append(
            f"{mark} <b>{phase.name.value}</b>: {money(phase.min_capital)}–{money(phase.max_capital)} · {seats}"
            f" · {access} · {profiles}"
        )
    lines.append("\n/phase NAME moves to another phase (asks first).")
    return "\n".join(lines)


def phase_change(change: PhaseChange, shown: int = 20) -> str:
    lines = [f"Moved from {change.previous.name.value} to <b>{change.phase.name.value}</b>."]
    if not change.conflicts:
        lines.append("Every user's profile and capital fit the new phase.")
        return "\n".join(lines)
    lines.append(f"{len(change.conflicts)} user(s) no longer fit it (they were told; their new entries are refused):")
    for user_id, refusals in change.conflicts[:shown]:
        lines.append(f"#{user_id}: " + "; ".join(escape(r.message) for r in refusals))
    if len(change.conflicts) > shown:
        lines.append(f"…and {len(change.conflicts) - shown} more.")
    return "\n".join(lines)
