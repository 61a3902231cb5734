"""Random event sequences through the order state machine and the position ledger, checking invariants.

The machine places buy and sell orders for one account, drives each through random venue events (accepted,
filled in parts with fees in the quote or the base currency, a trade reported twice, cancelled, expired,
rejected, unknown), books every new trade into positions and cash exactly as the order manager does
(`position_ledger.apply_trades`, `FillOutcome.cash_delta` on `managed_cash`), and checks after each step:
quantities never negative, filled never above ordered, statuses agree with quantities, final orders never
change, and cash plus holdings equal the starting cash plus realized PnL net of fees plus unrealized PnL.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine.domain.enums import FINAL_STATUSES, OrderPurpose, OrderStatus, OrderType, Side
from engine.domain.ids import ClientOrderId, TradeId
from engine.domain.money import ZERO
from engine.domain.orders import (
    IllegalTransition,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    Overfill,
)
from engine.domain.positions import OversizedSell, Position
from engine.domain.venue import VenueTrade
from engine.position_ledger import apply_trades
from tests.factories import ETH, later, make_order

START_CASH = Decimal(10_000)
TOLERANCE = Decimal("1e-12")  # average entry prices are divisions, exact to 28 digits

prices = st.decimals(min_value=Decimal("50"), max_value=Decimal("150"), places=2)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("2"), places=3)
fractions = st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("1")])
status_events = st.sampled_from(["submit", "accept", "cancel", "expire", "reject", "unknown"])


class OrdersAndPositions(RuleBasedStateMachine):
    orders = Bundle("orders")

    @initialize()
    def start(self) -> None:
        self.book: dict[ClientOrderId, Order] = {}
        self.trades: dict[ClientOrderId, list[VenueTrade]] = {}
        self.cash = START_CASH
        self.open: Position | None = None
        self.closed: list[Position] = []
        self.mark = Decimal(100)
        self.coins = ZERO  # what the venue would hold for us: bought minus fees in coins minus sold
        self.count = 0

    # --- orders --------------------------------------------------------------------------------

    @rule(target=orders, side=st.sampled_from([Side.BUY, Side.SELL]), qty=quantities)
    def place(self, side: Side, qty: Decimal) -> ClientOrderId:
        self.count += 1
        order = make_order(
            client_order_id=ClientOrderId(f"tb-{self.count}"),
            side=side,
            type=OrderType.MARKET,
            qty=qty,
            purpose=OrderPurpose.ENTRY if side is Side.BUY else OrderPurpose.EXIT_SIGNAL,
        )
        self.book[order.client_order_id] = order
        self.trades[order.client_order_id] = []
        return order.client_order_id

    @rule(client_order_id=orders, kind=status_events)
    def venue_says(self, client_order_id: ClientOrderId, kind: str) -> None:
        event: OrderEvent = {
            "submit": OrderSubmitted(ts=later(1)),
            "accept": OrderAccepted(ts=later(2)),
            "cancel": OrderCancelled(ts=later(3), reason="cancelled"),
            "expire": OrderExpired(ts=later(3)),
            "reject": OrderRejected(ts=later(3), reason="refused"),
            "unknown": OrderStatusUnknown(ts=later(3), reason="timed out"),
        }[kind]
        self._apply(client_order_id, event)

    @rule(
        client_order_id=orders,
        fraction=fractions,
        price=prices,
        fee_rate=st.sampled_from([ZERO, Decimal("0.001"), Decimal("0.0075")]),
        fee_in_coins=st.booleans(),
    )
    def fill(
        self, client_order_id: ClientOrderId, fraction: Decimal, price: Decimal, fee_rate: Decimal, fee_in_coins: bool
    ) -> None:
        order = self.book[client_order_id]
        qty = (order.remaining_qty * fraction).quantize(Decimal("0.001"))
        if order.side is Side.SELL:
            qty = min(qty, self.open.qty if self.open else ZERO)  # a venue never sells coins we do not hold
        if qty <= 0:
            return
        fee_in_coins = fee_in_coins and order.side is Side.BUY  # Binance charges buys in the coin bought
        fee = qty * fee_rate if fee_in_coins else qty * price * fee_rate
        trade = VenueTrade(
            trade_id=TradeId(f"{client_order_id}-t{len(self.trades[client_order_id]) + 1}"),
            qty=qty,
            price=price,
            ts=later(4),
            fee=fee,
            fee_currency="ETH" if fee_in_coins else "USDT",
        )
        event = OrderFilled(
            ts=trade.ts, trade_id=trade.trade_id, qty=qty, price=price, fee=fee, fee_currency=trade.fee_currency
        )
        if self._apply(client_order_id, event):
            self.trades[client_order_id].append(trade)
            self._book(self.book[client_order_id], trade)

    @precondition(lambda self: any(self.trades.values()))
    @rule(data=st.data())
    def repeat_a_trade(self, data: st.DataObject) -> None:
        """The venue reports a trade we already have: the order and the books must not move."""
        client_order_id = data.draw(st.sampled_from(sorted(c for c, t in self.trades.items() if t)))
        trade = data.draw(st.sampled_from(self.trades[client_order_id]))
        before = self.book[client_order_id]
        event = OrderFilled(ts=later(9), trade_id=trade.trade_id, qty=trade.qty, price=trade.price, fee=trade.fee)
        assert before.apply(event) is before

    @rule(price=prices)
    def market_moves(self, price: Decimal) -> None:
        self.mark = price

    # --- the model ------------------------------------------------------------------------------

    def _apply(self, client_order_id: ClientOrderId, event: OrderEvent) -> bool:
        before = self.book[client_order_id]
        try:
            after = before.apply(event)
        except IllegalTransition:
            assert self.book[client_order_id] is before  # a refused event changes nothing
            return False
        except Overfill:
            raise AssertionError("fills are drawn within the remaining quantity") from None
        assert before.status not in FINAL_STATUSES, f"{before.status} is final yet took {type(event).__name__}"
        self.book[client_order_id] = after
        return after is not before

    def _book(self, order: Order, trade: VenueTrade) -> None:
        """What the order manager does with a new trade: the position, then the managed cash."""
        outcome = apply_trades(self.open, order, [trade])
        self.cash += outcome.cash_delta
        received = trade.qty - trade.fee if trade.fee_currency == "ETH" else trade.qty
        self.coins += received if order.side is Side.BUY else -trade.qty
        if outcome.position.is_open:
            self.open = outcome.position
        else:
            self.closed.append(outcome.position)
            self.open = None

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def quantities_stay_within_bounds(self) -> None:
        for order in self.book.values():
            assert ZERO <= order.filled_qty <= order.qty
            assert order.fee >= 0
            if order.status is OrderStatus.FILLED:
                assert order.filled_qty == order.qty
            if order.status is OrderStatus.PARTIALLY_FILLED:
                assert ZERO < order.filled_qty < order.qty
            if order.filled_qty == order.qty:
                assert order.status is OrderStatus.FILLED
            assert len(order.trade_ids) == len(self.trades[order.client_order_id])

    @invariant()
    def positions_are_never_negative_and_match_the_coins_held(self) -> None:
        held = self.open.qty if self.open else ZERO
        assert held >= 0
        assert held == self.coins
        for position in self.closed:
            assert position.qty == 0 and position.closed_at is not None

    @invariant()
    def pnl_agrees_with_cash_and_fees(self) -> None:
        positions = [*self.closed, *([self.open] if self.open else [])]
        realized_net = sum((p.realized_pnl - p.fees for p in positions), start=ZERO)
        unrealized = self.open.unrealized_pnl(self.mark) if self.open else ZERO
        equity = self.cash + (self.open.market_value(self.mark) if self.open else ZERO)
        assert abs(equity - (START_CASH + realized_net + unrealized)) <= TOLERANCE

    @invariant()
    def a_closed_round_trip_nets_what_the_cash_did(self) -> None:
        if self.open is None:
            realized_net = sum((p.realized_pnl - p.fees for p in self.closed), start=ZERO)
            assert abs(self.cash - START_CASH - realized_net) <= TOLERANCE


OrdersAndPositions.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestOrdersAndPositions = OrdersAndPositions.TestCase


def test_a_sell_larger_than_the_position_is_refused_and_changes_nothing() -> None:
    position = Position(
        user_id=make_order().user_id, account_id=make_order().account_id, symbol=ETH, opened_at=later(0)
    )
    bought = position.apply_fill(side=Side.BUY, qty=Decimal(1), price=Decimal(100), fee_quote=ZERO, ts=later(1))
    try:
        bought.apply_fill(side=Side.SELL, qty=Decimal("1.5"), price=Decimal(100), fee_quote=ZERO, ts=later(2))
    except OversizedSell:
        pass
    else:
        raise AssertionError("a spot account cannot sell more than it holds")
    assert bought.qty == 1


def test_unknown_then_accepted_keeps_partial_fills() -> None:
    order = make_order(qty=Decimal(2)).apply(OrderSubmitted(ts=later(0)))
    order = order.apply(OrderStatusUnknown(ts=later(1), reason="timed out"))
    order = order.apply(OrderFilled(ts=later(2), trade_id=TradeId("t1"), qty=Decimal(1), price=Decimal(100)))
    unknown_again = replace(order, status=OrderStatus.UNKNOWN)
    assert unknown_again.apply(OrderAccepted(ts=later(3))).status is OrderStatus.PARTIALLY_FILLED
    assert order.reason == ""  # an unknown outcome never overwrites the order's rationale
