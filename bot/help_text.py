"""`/help`: every command in a line, and short guides."""

from __future__ import annotations

USER_COMMANDS: list[tuple[str, str]] = [
    ("start", "set up your account, or see your current setup"),
    ("portfolio", "equity, cash, open positions and PnL"),
    ("pause", "stop opening new trades (optionally close everything)"),
    ("resume", "start trading again"),
    ("why", "the latest trading decisions and their reasons"),
    ("help", "this list; /help guides for the short guides"),
]

GUIDES = {
    "profiles": (
        "<b>Risk profiles</b>\nConservative risks 0.5% of your capital per trade with tight stops and stops for the "
        "day after a 2% loss. Moderate risks 1% per trade. Aggressive risks 2% with wider stops. Every order is "
        "checked against your profile's limits first; /why shows what was refused and why."
    ),
    "breakers": (
        "<b>Circuit breakers</b>\nA daily loss past your profile's limit switches you to exits only until the next "
        "UTC day. A drawdown past its limit halts your account until you /resume. Losing streaks start a short "
        "cooldown. Open positions keep their stops in every case."
    ),
    "portfolio": (
        "<b>Reading /portfolio</b>\nEquity is your cash plus open positions at the latest price. Today is the change "
        "since 00:00 UTC; Total is the change since you started. Each position shows its result so far, size, "
        "entry → current price, and the stop that protects it."
    ),
    "fees": (
        "<b>Fees</b>\nPaper trading charges the exchange's taker fee (0.1%) and a little slippage on every fill, so "
        "paper results are close to live ones. Results shown after a sale are net of fees."
    ),
}


def help_message() -> str:
    lines = ["<b>Commands</b>"] + [f"/{name} — {text}" for name, text in USER_COMMANDS]
    lines += ["", "Guides: /help profiles · /help breakers · /help portfolio · /help fees"]
    return "\n".join(lines)
