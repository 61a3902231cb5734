from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from engine.domain.accounts import Account, User
from engine.domain.enums import OrderStatus, TradingState
from engine.domain.ids import AccountId, ClientOrderId
from engine.domain.orders import OrderSubmitted
from engine.domain.positions import Position
from engine.ports import Credentials
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.factories import ETH, T0, make_order, make_user


async def add_user(uow: SqlUnitOfWorkFactory, telegram_id: int = 77) -> tuple[User, Account]:
    async with uow() as work:
        user = await work.users.add(make_user(telegram_id))
        account = await work.accounts.add(
            Account(id=AccountId(0), user_id=user.id, venue="paper", created_at=T0, managed_cash=Decimal("1000"))
        )
        await work.commit()
    return user, account


async def test_decimals_round_trip_exactly(uow: SqlUnitOfWorkFactory):
    user, account = await add_user(uow)
    precise = Decimal("0.123456789012345678")
    order = make_order(user_id=user.id, account_id=account.id, qty=precise)
    async with uow() as work:
        await work.orders.add_many([order])
        await work.commit()
    async with uow() as work:
        stored = await work.orders.get(order.client_order_id)
    assert stored is not None and stored.qty == precise
    assert str(stored.qty) == "0.123456789012345678"


async def test_unit_of_work_rolls_back_unless_committed(uow: SqlUnitOfWorkFactory):
    user, _ = await add_user(uow)
    async with uow() as work:
        await work.users.save(replace(user, is_paused=True))  # no commit
    async with uow() as work:
        assert (await work.users.get(user.id)).is_paused is False  # type: ignore[union-attr]


async def test_order_state_is_saved_and_listed_while_not_final(uow: SqlUnitOfWorkFactory):
    user, account = await add_user(uow)
    order = make_order(user_id=user.id, account_id=account.id)
    async with uow() as work:
        (saved,) = await work.orders.add_many([order])
        await work.orders.save_many([saved.apply(OrderSubmitted(ts=T0))])
        await work.commit()
    async with uow() as work:
        pending = await work.orders.non_final(account.id)
        again = await work.orders.get_many([order.client_order_id, ClientOrderId("missing")])
    assert [o.status for o in pending] == [OrderStatus.SUBMITTED]
    assert list(again) == [order.client_order_id]


async def test_one_open_position_per_account_and_symbol(uow: SqlUnitOfWorkFactory):
    user, account = await add_user(uow)
    position = Position(user_id=user.id, account_id=account.id, symbol=ETH, opened_at=T0, qty=Decimal(1))
    async with uow() as work:
        await work.positions.save_many([position])
        await work.commit()
    with pytest.raises(IntegrityError):
        async with uow() as work:
            await work.positions.save_many([replace(position, opened_at=T0.replace(hour=13))])
            await work.commit()


async def test_api_keys_are_encrypted_at_rest(uow: SqlUnitOfWorkFactory):
    user, _ = await add_user(uow, 78)
    async with uow() as work:
        await work.accounts.remove((await work.accounts.for_user(user.id)).id)  # type: ignore[union-attr]
        account = await work.accounts.add(
            Account(id=AccountId(0), user_id=user.id, venue="binance", created_at=T0, key_hint="CDEF"),
            Credentials(api_key="live-key-ABCDEF", secret="very-secret-value"),
        )
        await work.commit()
    async with uow() as work:
        raw = (
            await work.session.execute(text("SELECT api_key_encrypted, secret_encrypted FROM exchange_accounts"))
        ).all()
        credentials = await work.accounts.credentials(account.id)
    assert all("live-key" not in row[0] and "very-secret" not in row[1] for row in raw)
    assert credentials == Credentials(api_key="live-key-ABCDEF", secret="very-secret-value")
    assert "very-secret" not in repr(credentials)


async def test_user_state_survives_a_new_session(uow: SqlUnitOfWorkFactory):
    user, _ = await add_user(uow)
    async with uow() as work:
        await work.users.save(replace(user, trading_state=TradingState.HALTED, state_reason="drawdown"))
        await work.commit()
    async with uow() as work:
        again = await work.users.get(user.id)
    assert again is not None and again.trading_state is TradingState.HALTED and again.state_reason == "drawdown"
