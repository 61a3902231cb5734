"""`/help`: every command in a line, and short guides. The one list of commands: the Telegram menu, `/help`
and a test that every registered command is listed all come from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str
    usage: str  # how to call it, e.g. "/history [n]"
    summary: str  # one short line


USER_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("start", "/start", "set up your account, or see your current setup"),
    CommandInfo("portfolio", "/portfolio [chart]", "equity, cash, positions and PnL; chart: the equity curve"),
    CommandInfo("positions", "/positions", "every open position with its stop and target"),
    CommandInfo("history", "/history [n]", "your last n trades (10 unless you say)"),
    CommandInfo("pnl", "/pnl [day|week|month]", "profit and loss over a period"),
    CommandInfo("pause", "/pause", "stop opening new trades (and optionally close everything)"),
    CommandInfo("resume", "/resume", "start trading again"),
    CommandInfo("close", "/close SYMBOL", "sell one position now, e.g. /close ETH"),
    CommandInfo("closeall", "/closeall", "sell every open position now (asks first)"),
    CommandInfo("risk", "/risk [profile]", "see or change your risk profile"),
    CommandInfo("why", "/why", "the latest trading decisions and their reasons"),
    CommandInfo("report", "/report", "your day so far: equity, PnL, trades, positions, with a chart"),
    CommandInfo("settings", "/settings", "choose which notifications you get"),
    CommandInfo("connect", "/connect", "add your exchange API keys (live accounts)"),
    CommandInfo("disconnect", "/disconnect", "remove your exchange API keys"),
    CommandInfo("cancel", "/cancel", "stop what you started (setup, connecting keys)"),
    CommandInfo(
        "backtest", "/backtest NAME SYMBOL DAYS", "try a strategy on recorded candles, e.g. /backtest ema_cross ETH 7"
    ),
    CommandInfo("help", "/help [guide]", "this list, and the guides below"),
)

ADMIN_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("status", "/status", "health of each part, users, positions, orders today, LLM spend"),
    CommandInfo("users", "/users [pending|active|paused|all]", "list users, a page at a time"),
    CommandInfo("user", "/user ID", "one user in detail"),
    CommandInfo("approve", "/approve ID", "let a waiting person in"),
    CommandInfo("pause_all", "/pause_all [reason]", "no new entries for anyone; exits continue"),
    CommandInfo("resume_all", "/resume_all", "let everyone trade again"),
    CommandInfo("close_all", "/close_all", "sell every user's positions (asks first)"),
    CommandInfo("phase", "/phase [internal|limited|open]", "see or move the rollout phase"),
    CommandInfo("broadcast", "/broadcast TEXT", "send a message to every user (asks first)"),
    CommandInfo("errors", "/errors [n]", "the latest processing errors"),
    CommandInfo("strategies", "/strategies", "strategies and their followers"),
    CommandInfo("strategy", "/strategy NAME on|off", "switch a strategy on or off"),
)

GUIDES = {
    "connect": (
        "<b>Connecting an exchange</b>\n"
        "1. On the exchange, create an API key for tradebot with <b>reading</b> and <b>spot trading</b> allowed "
        "and <b>withdrawals disabled</b> (keys that can withdraw are refused).\n"
        "2. Send /connect, then the key and the secret in one message, separated by a space. I delete that "
        "message at once, check the keys with a balance read, and store them encrypted.\n"
        "3. /portfolio then shows your live account. /disconnect removes the keys (close positions first)."
    ),
    "profiles": (
        "<b>Risk profiles</b>\nConservative risks 0.5% of your capital per trade with tight stops and stops for the "
        "day after a 2% loss. Moderate risks 1% per trade. Aggressive risks 2% with wider stops. Every order is "
        "checked against your profile's limits first; /why shows what was refused and why. /risk shows the "
        "numbers and changes the profile."
    ),
    "breakers": (
        "<b>Circuit breakers</b>\nA daily loss past your profile's limit switches you to exits only until the next "
        "UTC day. A drawdown past its limit halts your account until you /resume. Losing streaks start a short "
        "cooldown. Open positions keep their stops in every case, and you are told when a breaker trips."
    ),
    "portfolio": (
        "<b>Reading /portfolio</b>\nEquity is your cash plus open positions at the latest price. Today is the change "
        "since 00:00 UTC; Total is the change since you started. Each position shows its result so far, size, "
        "entry → current price, and the stop that protects it. ↻ Refresh updates it in place; "
        "/portfolio chart draws your equity curve."
    ),
    "fees": (
        "<b>Fees</b>\nPaper trading charges the exchange's taker fee (0.1%) and a little slippage on every fill, so "
        "paper results are close to live ones. Live accounts pay the exchange's own fees. Results shown after a "
        "sale are net of fees."
    ),
}


def help_message(*, admin: bool = False) -> str:
    lines = ["<b>Commands</b>", *(f"{c.usage} — {c.summary}" for c in USER_COMMANDS)]
    if admin:
        lines += ["", "<b>Operators</b>", *(f"{c.usage} — {c.summary}" for c in ADMIN_COMMANDS)]
    lines += ["", "<b>Guides</b>: " + " · ".join(f"/help {topic}" for topic in GUIDES)]
    return "\n".join(lines)
