"""What users and admins read when a circuit breaker trips or ends, or the rollout phase moves."""

from __future__ import annotations

from bot.render import escape
from engine.domain.enums import TradingState
from engine.domain.events import CooldownStarted, PhaseChanged, TradingStateChanged
from engine.domain.signals import Refusal


def user_state_changed(event: TradingStateChanged) -> str:
    reason = escape(event.reason)
    if event.state is TradingState.REDUCING:
        until = f" until {event.until:%Y-%m-%d %H:%M} UTC" if event.until else ""
        return (
            f"⚠️ <b>Exits only{until}</b>\n{_sentence(reason)}\n"
            "Your open positions keep their stops and exits; new trades resume by themselves."
        )
    if event.state is TradingState.HALTED:
        return (
            f"⛔ <b>Trading halted</b>\n{_sentence(reason)}\n"
            "Nothing new will be opened and your positions keep their protective stops. Look at /portfolio, "
            "then send /resume when you want the bot to trade again."
        )
    return f"✅ <b>Trading is active again</b>\n{_sentence(reason) if reason else ''}".rstrip()


def system_state_changed(event: TradingStateChanged) -> str:
    label = {
        TradingState.ACTIVE: "active",
        TradingState.REDUCING: "reducing (exits only)",
        TradingState.HALTED: "halted (only protective stops)",
    }
    why = f"\n{escape(event.reason)}" if event.reason else ""
    breaker = f" (breaker: {escape(event.breaker)})" if event.breaker else ""
    return f"<b>System trading is now {label[event.state]}</b>{breaker}{why}"


def cooldown_started(event: CooldownStarted) -> str:
    return (
        f"⏸ <b>Cooling down until {event.until:%H:%M} UTC</b>\n"
        f"After {event.losses} losing trades in a row the bot waits before opening new ones. "
        "Open positions keep their stops and exits."
    )


def phase_conflict(event: PhaseChanged, refusals: tuple[Refusal, ...]) -> str:
    reasons = "\n".join(f"• {escape(r.message)}" for r in refusals)
    return (
        f"<b>tradebot moved to the {escape(event.phase)} phase</b>\n{reasons}\n"
        "Your open positions are still managed, but no new trades are opened for you until your setup fits."
    )


def phase_changed_for_admins(event: PhaseChanged) -> str:
    text = f"<b>Phase moved: {escape(event.previous)} → {escape(event.phase)}</b> by {escape(event.actor)}"
    if event.conflicts:
        text += f"\n{len(event.conflicts)} user(s) no longer fit it; their new entries are refused."
    return text


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
