"""`/backtest NAME SYMBOL DAYS`: a built-in strategy over the last DAYS days of the recorded candles, run by the
product's own engine in a worker process, answered with the summary and the equity chart."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import structlog
from telegram import Update
from telegram.ext import CommandHandler

from bot.backtest_desk import BacktestDesk
from bot.context import BotContext
from bot.guards import for_user
from engine.backtest.session import BacktestRequest
from engine.domain.accounts import User
from engine.domain.enums import RiskProfileName
from engine.strategies.catalog import RULES

log = structlog.get_logger(__name__)

MAX_DAYS = 30
BASE_CAPITAL = Decimal(1000)  # for someone who has not chosen their capital yet
USAGE = (
    "Usage: /backtest NAME SYMBOL DAYS — e.g. /backtest ema_cross ETH 7\n"
    f"NAME: {', '.join(RULES)}. SYMBOL: ETH, LTC, XMR, DASH, ETC or ADA (recorded January 2018 candles). "
    f"DAYS: 1 to {MAX_DAYS}."
)
DESK_KEY = "backtests"


def parse(args: list[str], quote: str) -> tuple[str, str, int] | None:
    """NAME SYMBOL DAYS, or None when they do not read as such."""
    if len(args) != 3 or args[0] not in RULES or not args[2].isdigit():
        return None
    days = int(args[2])
    if not 1 <= days <= MAX_DAYS:
        return None
    symbol = args[1].upper()
    return args[0], symbol if "/" in symbol else f"{symbol}/{quote}", days


async def run_backtest(update: Update, context: BotContext, user: User) -> None:
    """`/backtest NAME SYMBOL DAYS`, for anyone who has started the bot (onboarded or not)."""
    message, person = update.effective_message, update.effective_user
    assert message is not None and person is not None
    services = context.services
    parsed = parse(context.args or [], services.settings.exchange.quote)
    if parsed is None:
        await message.reply_text(USAGE)
        return
    desk: BacktestDesk = services.extras[DESK_KEY]
    refusal = desk.refusal(person.id)
    if refusal is not None:
        await message.reply_text(refusal)
        return
    name, symbol, days = parsed
    profile = user.profile or RiskProfileName.MODERATE
    request = BacktestRequest(name, (symbol,), days=days, profile=profile, capital=user.capital or BASE_CAPITAL)
    await message.reply_text(f"Backtesting {name} on {symbol} over the last {days} day(s) of recorded candles…")
    try:
        report = await desk.run(person.id, request)
    except ValueError as error:
        await message.reply_text(f"{error}\n\n{USAGE}")
        return
    log.info("backtest.answered", user=user.id, strategy=name, symbol=symbol, days=days, trades=report.trades)
    await message.reply_html("<pre>" + escape("\n".join(report.lines)) + "</pre>")
    await message.reply_photo(report.chart_png, caption=report.title[:1024])


def backtest_handlers() -> list[CommandHandler[BotContext, None]]:
    # block=False: the bot goes on with other updates (everyone's) while a backtest runs
    return [CommandHandler("backtest", for_user(run_backtest, onboarded=False), block=False)]
