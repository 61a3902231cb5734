"""Start the whole product (bot.main.run) in-process against the Telegram stand-in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from bot.main import Runtime, run
from bot.settings import Settings, TelegramConfig
from bot.telegram_standin import ChatUser, SentMessage, TelegramStandIn
from engine.config import MarketConfig
from engine.domain.accounts import User
from engine.domain.commands import SubmitOrder
from engine.domain.enums import AccountMode, OrderPurpose, OrderType, RiskProfileName, Side
from engine.domain.ids import Symbol
from engine.domain.orders import Order
from risk.config import RiskConfig
from risk.phases import PhaseName
from storage.config import DatabaseConfig

ADMIN = ChatUser(id=9001, first_name="Ada", username="ops")
ADMIN_CHAT = -1002000000001


def product_settings(database: DatabaseConfig, **changes: Any) -> Settings:
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        host="127.0.0.1",
        port=0,
        database=database,
        telegram=TelegramConfig(admin_ids=frozenset({ADMIN.id}), admin_chat_id=ADMIN_CHAT),
        market=MarketConfig(replay_seconds_per_candle=3600.0),  # the market stands still unless a test moves it
        risk=RiskConfig(phase=PhaseName.OPEN),
    )
    return base.model_copy(update=changes)


@contextlib.asynccontextmanager
async def running_product(settings: Settings, standin: TelegramStandIn) -> AsyncIterator[Runtime]:
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    task = asyncio.create_task(run(settings, stop=stop, telegram=standin.configure, on_ready=on_ready))
    done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if task in done:
        task.result()
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def say(standin: TelegramStandIn, user: ChatUser, text: str) -> SentMessage:
    """Send a line as `user`, wait until the bot is quiet, return the bot's latest message to them."""
    standin.send_text(user, text)
    await standin.wait_idle(quiet=0.3, timeout=10)
    return standin.messages(user.id)[-1]


async def press(standin: TelegramStandIn, user: ChatUser, message: SentMessage, label: str) -> SentMessage:
    """Press the button whose text contains `label`; return the bot's latest message afterwards."""
    buttons = [(text, data) for row in message.keyboard for text, data in row if data]
    exact = [data for text, data in buttons if text.lower() == label.lower()]
    matches = exact or [data for text, data in buttons if label.lower() in text.lower()]
    assert matches, f"no button {label!r} in {message.keyboard}"
    standin.press_button(user, message, matches[0])
    await standin.wait_idle(quiet=0.3, timeout=10)
    return standin.messages(user.id)[-1]


async def onboard(runtime: Runtime, person: ChatUser, capital: Decimal = Decimal(1000)) -> User:
    """`person` set up with the moderate profile and a funded paper account, as /start leaves them."""
    users = runtime.services.engine.users
    user = await users.arrive(person.id, person.id, person.first_name)
    return await users.onboard(user, RiskProfileName.MODERATE, capital, AccountMode.PAPER)


async def buy(runtime: Runtime, user: User, symbol: str, value: Decimal = Decimal(100), origin: str = "") -> Order:
    """A market buy of about `value` worth of `symbol` on the user's account, with a stop 5% below."""
    engine = runtime.services.engine
    account = await engine.users.account(user)
    price = engine.feed.last_price(Symbol(symbol))
    assert account is not None and price is not None
    market = engine.gateways.for_account(account).market(Symbol(symbol))
    (order,) = await engine.orders.submit(
        [
            SubmitOrder(
                user_id=user.id,
                account_id=account.id,
                venue=account.venue,
                symbol=Symbol(symbol),
                side=Side.BUY,
                type=OrderType.MARKET,
                qty=market.floor_qty(value / price),
                purpose=OrderPurpose.ENTRY,
                origin=origin or f"test:{user.id}:{symbol}",
                protective_stop=market.round_price(price * Decimal("0.95")),
                strategy="ema_cross",
                rationale="a test entry",
            )
        ]
    )
    return order


def current(standin: TelegramStandIn, message: SentMessage) -> SentMessage:
    """`message` as it is now (after edits)."""
    (found,) = [m for m in standin.messages(message.chat_id) if m.message_id == message.message_id]
    return found


def now_reads(standin: TelegramStandIn, message: SentMessage) -> str:
    """What `message` shows now (after edits)."""
    return current(standin, message).displayed_text
