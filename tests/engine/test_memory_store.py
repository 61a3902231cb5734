"""The in-memory unit of work behind the backtest: the same ports as the SQL one, and the same transactions."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from engine import ports
from engine.backtest.memory_store import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from engine.domain.accounts import PAPER_VENUE, Account, User
from engine.domain.enums import UserStatus
from engine.domain.ids import AccountId, StrategyId, TelegramId
from engine.domain.venue import Balance
from tests.factories import T0, make_user

REPOSITORY_PORTS = {
    name: getattr(ports, hint.removeprefix("ports."))
    for name, hint in inspect.get_annotations(ports.UnitOfWork).items()
}


def public_methods(cls: type) -> set[str]:
    return {name for name, value in inspect.getmembers(cls) if callable(value) and not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(REPOSITORY_PORTS))
async def test_every_repository_port_is_implemented_with_the_same_signatures(name: str) -> None:
    async with MemoryUnitOfWorkFactory()() as uow:
        repository = type(getattr(uow, name))
    port = REPOSITORY_PORTS[name]
    for method in public_methods(port):
        assert hasattr(repository, method), f"{repository.__name__} lacks {method}"
        wanted = list(inspect.signature(getattr(port, method)).parameters)
        assert list(inspect.signature(getattr(repository, method)).parameters) == wanted, method


def user(telegram_id: int = 7) -> User:
    return make_user(telegram_id, UserStatus.ACTIVE, "someone")


async def test_a_unit_of_work_left_without_commit_puts_everything_back() -> None:
    factory = MemoryUnitOfWorkFactory()
    async with factory() as uow:
        kept = await uow.users.add(user(1))
        await uow.users.subscribe(kept.id, [StrategyId("ema_cross")], T0)
        await uow.commit()
    async with factory() as uow:
        added = await uow.users.add(user(2))
        await uow.users.subscribe(kept.id, [StrategyId("donchian_breakout")], T0)
        account = await uow.accounts.add(Account(id=AccountId(0), user_id=added.id, venue=PAPER_VENUE, created_at=T0))
        await uow.paper.set_balances({account.id: {"USDT": Balance("USDT", Decimal(5))}})
        # no commit
    async with factory() as uow:
        assert await uow.users.get_by_telegram(TelegramId(2)) is None
        assert await uow.users.subscriptions(kept.id) == [StrategyId("ema_cross")]
        assert await uow.accounts.list() == []
        assert await uow.paper.balances_many([account.id]) == {}
        assert [u.id for u in await uow.users.followers(StrategyId("ema_cross"))] == [kept.id]


async def test_rollback_undoes_only_what_came_after_the_last_commit() -> None:
    factory = MemoryUnitOfWorkFactory()
    async with factory() as uow:
        first = await uow.users.add(user(1))
        await uow.commit()
        await uow.users.save(first.__class__(**{**_fields(first), "name": "renamed"}))
        await uow.rollback()
        assert (await uow.users.get(first.id)).name == "someone"


async def test_using_it_outside_async_with_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        await MemoryUnitOfWork(MemoryUnitOfWorkFactory().database).commit()


def _fields(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}  # type: ignore[attr-defined]
