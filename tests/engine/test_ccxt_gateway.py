"""The ccxt gateway with the REAL ccxt binance class against the Binance stand-in, through the order manager."""

from __future__ import annotations

from decimal import Decimal

import pytest
import structlog

from engine.domain.enums import OrderStatus, OrderType, Side
from engine.domain.events import AlertRaised, OrderFailed, Severity, TradeFilled
from engine.domain.ids import ClientOrderId
from engine.domain.venue import OrderRequest
from engine.errors import DuplicateOrder, OrderRejected
from engine.ports import Credentials
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.live_harness import ETH, ETH_SPEC, KEY, SECRET, add_live_user, live_engine
from tests.standins.binance_spot import SymbolSpec

ORDER = "/api/v3/order"


async def test_happy_path_fills_books_the_coins_net_of_the_fee_and_rests_a_stop_loss(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        # Act
        (order,) = await live.h.orders.submit([live.entry("0.1")])
        # Assert: the order, sent once with our client order id
        assert order.status is OrderStatus.FILLED and order.avg_fill_price == Decimal(1000)
        (sent,) = live.standin.requests("POST", ORDER)[:1]
        assert sent.params["newClientOrderId"] == order.client_order_id
        assert sent.params["type"] == "MARKET" and sent.params["quantity"] == "0.1"
        # the position holds what Binance credited: 0.1 ETH less its 0.1% fee taken in ETH
        async with uow() as work:
            (position,) = await work.positions.open_for_user(live.user.id)
            account = await work.accounts.get(live.account.id)
            fills = await work.fills.for_user(live.user.id)
        assert position.qty == Decimal("0.0999") == live.held("ETH")
        assert account is not None and account.managed_cash == Decimal(900) == live.standin.balance(KEY, "USDT").free
        assert [(f.qty, f.fee, f.fee_currency) for f in fills if f.side == "buy"] == [
            (Decimal("0.1"), Decimal("0.0001"), "ETH")
        ]
        # the protective stop rests at the exchange as a stop-loss (stop-market) for the whole position
        stop_request = live.standin.requests("POST", ORDER)[1].params
        assert (stop_request["type"], stop_request["stopPrice"], stop_request["quantity"]) == (
            "STOP_LOSS",
            "970",
            "0.0999",
        )
        (resting,) = [o for o in live.standin.orders(KEY) if o.is_open]
        assert resting.client_order_id == position.stop_order_id and resting.type == "STOP_LOSS"
        assert any(isinstance(e, TradeFilled) for e in live.h.events)


async def test_markets_are_loaded_once_and_shared_by_every_account(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        live.standin.add_account("key-bob", "secret-bob", {"USDT": 500})
        bob, bob_account = await add_live_user(live.h, 602, "500", "key-bob", "secret-bob")
        # Act
        await live.h.orders.submit([live.entry("0.1")])
        entry = live.entry("0.1", user_id=bob.id, account_id=bob_account.id)
        await live.h.orders.submit([entry])
        # Assert
        assert live.standin.count_requests("GET", "/api/v3/exchangeInfo") == 1
        assert live.standin.count_requests("POST", ORDER, api_key=KEY) == 2  # entry and its stop
        assert live.standin.count_requests("POST", ORDER, api_key="key-bob") == 2


async def test_429_on_reads_is_retried_with_backoff_and_order_creation_is_never_retried(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        # Arrange: a resting limit order to read back
        (placed,) = await live.h.orders.submit([live.entry("0.1", type=OrderType.LIMIT, limit_price=Decimal(990))])
        live.standin.faults.rate_limit(path=ORDER, method="GET", times=2, retry_after=0)
        # Act: a read meets two 429s, then succeeds
        seen = await live.gateway.fetch_order(live.account.id, ETH, placed.client_order_id)
        # Assert
        assert seen is not None and seen.client_order_id == placed.client_order_id
        assert live.standin.count_requests("GET", ORDER) == 3
        # Arrange: creation meets a 429
        live.standin.faults.rate_limit(path=ORDER, method="POST")
        posts_before = live.standin.count_requests("POST", ORDER)
        # Act
        (refused,) = await live.h.orders.submit([live.entry("0.1", origin="signal:busy:entry")])
        # Assert: sent once, refused before processing, so settled as not placed with a reason
        assert live.standin.count_requests("POST", ORDER) == posts_before + 1
        assert refused.status is OrderStatus.REJECTED and "slow down" in refused.reason
        assert refused.client_order_id not in {o.client_order_id for o in live.standin.orders(KEY)}
        assert [e.reason for e in live.h.events if isinstance(e, OrderFailed)] == [refused.reason]


async def test_a_timeout_after_the_exchange_accepted_leaves_one_order_recorded_by_reconciliation(
    uow: SqlUnitOfWorkFactory,
):
    async with live_engine(uow, timeout_ms=400) as live:
        live.standin.faults.drop_response(mode="hang", seconds=2)
        # Act
        (order,) = await live.h.orders.submit([live.entry("0.1")])
        # Assert: we do not know; the exchange has it, once
        assert order.status is OrderStatus.UNKNOWN
        assert [(o.client_order_id, o.status) for o in live.standin.orders(KEY)] == [(order.client_order_id, "FILLED")]
        # Act: reconciliation asks by client order id, never resends
        report = await live.reconcile()
        # Assert
        async with uow() as work:
            stored = await work.orders.get(order.client_order_id)
            (position,) = await work.positions.open_for_user(live.user.id)
        assert stored is not None and stored.status is OrderStatus.FILLED and stored.filled_qty == Decimal("0.1")
        assert position.qty == Decimal("0.0999") == live.held("ETH")
        entry_posts = [
            r for r in live.standin.requests("POST", ORDER) if r.params["newClientOrderId"] == order.client_order_id
        ]
        assert len(entry_posts) == 1
        assert report.accounts[0].adopted == 1 and report.accounts[0].is_clean
        assert position.stop_order_id is not None  # the adopted entry got its protective stop


async def test_a_duplicate_client_order_id_is_never_a_second_order(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        request = OrderRequest(
            account_id=live.account.id,
            client_order_id=ClientOrderId("tbduplicate1"),
            symbol=ETH,
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=Decimal("0.1"),
            limit_price=Decimal(990),
        )
        first = await live.gateway.place_order(request)
        # Act
        with pytest.raises(DuplicateOrder):
            await live.gateway.place_order(request)
        # Assert
        assert first.status.value == "open"
        assert [o.client_order_id for o in live.standin.orders(KEY)] == ["tbduplicate1"]


async def test_insufficient_funds_stores_a_clear_reason_and_tells_the_user(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow, usdt="50", capital="1000") as live:
        # Act
        (order,) = await live.h.orders.submit([live.entry("0.1")])
        # Assert
        assert order.status is OrderStatus.REJECTED
        assert order.reason == "The exchange refused the order: your account does not have enough free funds for it."
        async with uow() as work:
            stored = await work.orders.get(order.client_order_id)
            assert await work.positions.open_for_user(live.user.id) == []
        assert stored is not None and stored.reason == order.reason
        (failed,) = [e for e in live.h.events if isinstance(e, OrderFailed)]
        assert failed.reason == order.reason and failed.user_id == live.user.id


async def test_a_partial_fill_then_cancel_keeps_the_filled_part_in_the_position(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        # Arrange: a resting limit buy fills 40% when the price comes down
        (placed,) = await live.h.orders.submit([live.entry("0.1", type=OrderType.LIMIT, limit_price=Decimal(990))])
        live.standin.faults.partial_fills("0.4")
        live.standin.set_price(ETH, 985)
        # Act
        await live.reconcile(after=1)
        async with uow() as work:
            partial = await work.orders.get(placed.client_order_id)
        (cancelled,) = await live.h.orders.cancel_orders([placed.client_order_id])
        # Assert
        assert partial is not None and partial.status is OrderStatus.PARTIALLY_FILLED
        assert partial.filled_qty == Decimal("0.04")
        assert cancelled.status is OrderStatus.CANCELLED and cancelled.filled_qty == Decimal("0.04")
        async with uow() as work:
            (position,) = await work.positions.open_for_user(live.user.id)
            account = await work.accounts.get(live.account.id)
        assert position.qty == Decimal("0.03996") == live.held("ETH")  # maker fee in ETH
        assert account is not None and account.managed_cash == Decimal("1000") - Decimal("39.6")
        assert live.held("USDT") == account.managed_cash
        assert (await live.reconcile(after=1)).accounts[0].is_clean


async def test_an_order_under_the_minimum_notional_is_refused_with_a_sentence(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        (order,) = await live.h.orders.submit([live.entry("0.001", protective_stop=None)])
        assert order.status is OrderStatus.REJECTED
        assert (
            order.reason
            == "The exchange refused the order: the order is worth less than the exchange's minimum order value."
        )


async def test_refused_keys_halt_the_account_to_reduce_only_and_alert_the_admin(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        live.standin.add_account("key-carol", "real-secret", {"USDT": 500})
        carol, account = await add_live_user(live.h, 603, "500", "key-carol", "wrong-secret")
        # Act
        with structlog.testing.capture_logs() as logs:
            (order,) = await live.h.orders.submit([live.entry("0.1", user_id=carol.id, account_id=account.id)])
        # Assert
        assert order.status is OrderStatus.REJECTED and "refused the account" in order.reason
        async with uow() as work:
            halted = await work.accounts.get(account.id)
        assert halted is not None and halted.is_reduce_only and "API key" in halted.status_reason
        (alert,) = [e for e in live.h.events if isinstance(e, AlertRaised)]
        assert alert.severity is Severity.P1 and str(account.id) in alert.title
        assert "wrong-secret" not in alert.detail + alert.title + halted.status_reason
        assert logs and not any("wrong-secret" in str(e) or "key-carol" in str(e) for e in logs)  # keys never logged


async def test_stop_limit_is_used_where_the_market_offers_no_stop_market(uow: SqlUnitOfWorkFactory):
    no_stop_market = SymbolSpec(
        symbol="ETH/USDT",
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        order_types=("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"),
    )
    async with live_engine(uow, specs=[no_stop_market]) as live:
        await live.h.orders.submit([live.entry("0.1")])
        stop = live.standin.requests("POST", ORDER)[1].params
        assert (stop["type"], stop["stopPrice"], stop["price"], stop["timeInForce"]) == (
            "STOP_LOSS_LIMIT",
            "970",
            "960.3",
            "GTC",
        )


async def test_key_check_for_connect(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        live.standin.add_account("key-risky", "secret-risky", {"USDT": 5}, enable_withdrawals=True)
        live.standin.add_account("key-readonly", "secret-ro", {}, enable_spot_and_margin_trading=False)
        # Act
        good = await live.gateway.check_credentials(Credentials(KEY, SECRET))
        bad = await live.gateway.check_credentials(Credentials(KEY, "nope"))
        risky = await live.gateway.check_credentials(Credentials("key-risky", "secret-risky"))
        readonly = await live.gateway.check_credentials(Credentials("key-readonly", "secret-ro"))
        # Assert
        assert good.is_ok and good.balances["USDT"].free == Decimal(1000)
        assert bad.status.value == "invalid" and not bad.balances
        assert risky.status.value == "withdrawals_enabled" and "withdrawals" in risky.message
        assert readonly.status.value == "invalid" and "spot" in readonly.message
        assert live.standin.count_requests("GET", "/sapi/v1/account/apiRestrictions") == 3


async def test_a_quantity_off_the_exchange_step_is_refused_without_being_sent(uow: SqlUnitOfWorkFactory):
    async with live_engine(uow) as live:
        request = OrderRequest(
            account_id=live.account.id,
            client_order_id=ClientOrderId("tbofftheStep"),
            symbol=ETH,
            side=Side.BUY,
            type=OrderType.MARKET,
            qty=Decimal("0.12345"),
        )
        with pytest.raises(OrderRejected, match="not a multiple of the step"):
            await live.gateway.place_order(request)
        assert live.standin.count_requests("POST", ORDER) == 0
        assert ETH_SPEC.step_size == live.gateway.market(ETH).amount_step


async def test_a_stop_loss_that_triggers_at_the_exchange_closes_the_position_at_reconciliation(
    uow: SqlUnitOfWorkFactory,
):
    async with live_engine(uow) as live:
        await live.h.orders.submit([live.entry("0.1")])
        # Act: the market falls through the stop at 970; the exchange sells 0.0999 ETH at 960
        live.standin.set_price(ETH, 960)
        report = await live.reconcile(after=1)
        # Assert
        async with uow() as work:
            assert await work.positions.open_for_user(live.user.id) == []
            (closed,) = await work.positions.closed_for_user(live.user.id)
            account = await work.accounts.get(live.account.id)
        assert closed.qty == 0 and closed.realized_pnl == Decimal("0.0999") * (960 - 1000)
        assert account is not None and account.managed_cash == live.held("USDT") == Decimal("995.808096")
        assert live.held("ETH") == 0 and report.accounts[0].adopted == 1 and report.accounts[0].is_clean
