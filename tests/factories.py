"""Builders with fixed values for tests, and small real implementations of the market-data port."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.domain.accounts import Market, User
from engine.domain.commands import SubmitOrder
from engine.domain.enums import OrderPurpose, OrderType, Side, UserStatus
from engine.domain.ids import AccountId, ClientOrderId, Symbol, TelegramId, UserId
from engine.domain.orders import Order
from engine.domain.venue import PriceBar

T0 = datetime(2018, 1, 10, 12, 0, tzinfo=UTC)
ETH = Symbol("ETH/USDT")
ADA = Symbol("ADA/USDT")

ETH_MARKET = Market(
    symbol=ETH,
    base="ETH",
    quote="USDT",
    price_step=Decimal("0.01"),
    amount_step=Decimal("0.0001"),
    min_qty=Decimal("0.0001"),
    min_notional=Decimal(5),
)
ADA_MARKET = Market(
    symbol=ADA,
    base="ADA",
    quote="USDT",
    price_step=Decimal("0.00001"),
    amount_step=Decimal("0.1"),
    min_qty=Decimal("0.1"),
    min_notional=Decimal(5),
)


class SettablePrices:
    """Market data the test moves by hand: a real `MarketFeed`, just not fed by an exchange."""

    def __init__(self, prices: dict[Symbol, Decimal] | None = None) -> None:
        self.prices: dict[Symbol, Decimal] = dict(prices or {})
        self.symbols = list(self.prices)
        self._bars: dict[Symbol, PriceBar] = {}

    def last_price(self, symbol: Symbol) -> Decimal | None:
        return self.prices.get(symbol)

    def set(
        self,
        symbol: Symbol,
        price: Decimal | str,
        *,
        low: str | None = None,
        high: str | None = None,
        ts: datetime = T0,
    ) -> PriceBar:
        value = Decimal(price)
        previous = self.prices.get(symbol, value)
        self.prices[symbol] = value
        if symbol not in self.symbols:
            self.symbols.append(symbol)
        bar = PriceBar(
            symbol=symbol,
            open=previous,
            last=value,
            ts=ts,
            high=Decimal(high) if high else max(previous, value),
            low=Decimal(low) if low else min(previous, value),
        )
        self._bars[symbol] = bar
        return bar

    def take_bars(self) -> dict[Symbol, PriceBar]:
        bars, self._bars = self._bars, {}
        return bars


def make_user(telegram_id: int = 77, status: UserStatus = UserStatus.APPROVED, name: str = "Ann") -> User:
    """A user not stored yet (id 0): repositories give it its id."""
    return User(
        id=UserId(0),
        telegram_id=TelegramId(telegram_id),
        chat_id=telegram_id,
        name=name,
        status=status,
        created_at=T0,
    )


def make_order(**changes: object) -> Order:
    order = Order(
        client_order_id=ClientOrderId("tb-test-1"),
        user_id=UserId(1),
        account_id=AccountId(1),
        symbol=ETH,
        side=Side.BUY,
        type=OrderType.MARKET,
        qty=Decimal("1"),
        purpose=OrderPurpose.ENTRY,
        created_at=T0,
        updated_at=T0,
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def entry_order(
    user_id: UserId,
    account_id: AccountId,
    *,
    venue: str = "paper",
    qty: str = "0.1",
    origin: str = "signal:s1:entry",
    **changes: object,
) -> SubmitOrder:
    """The engine tests' usual entry: a market buy of ETH with its protective stop at 970; `changes` override."""
    command = SubmitOrder(
        user_id=user_id,
        account_id=account_id,
        venue=venue,
        symbol=ETH,
        side=Side.BUY,
        type=OrderType.MARKET,
        qty=Decimal(qty),
        purpose=OrderPurpose.ENTRY,
        origin=origin,
        protective_stop=Decimal("970"),
        strategy="ema_cross",
        rationale="test entry",
    )
    return replace(command, **changes)  # type: ignore[arg-type]


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
