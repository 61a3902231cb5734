"""Users, accounts, orders, fills and positions kept in memory, behind the same ports as the SQL repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from engine.backtest.journal import IdSequence, Journal
from engine.domain.accounts import Account, User
from engine.domain.enums import UserStatus
from engine.domain.ids import AccountId, ClientOrderId, StrategyId, TelegramId, UserId
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.domain.venue import VenueTrade
from engine.ports import Credentials, FillRecord, OrderOutcomes, OrderVersion


@dataclass
class TradingTables:
    users: dict[UserId, User] = field(default_factory=dict)
    users_by_telegram: dict[TelegramId, UserId] = field(default_factory=dict)
    subscriptions: dict[UserId, tuple[StrategyId, ...]] = field(default_factory=dict)
    accounts: dict[AccountId, Account] = field(default_factory=dict)
    accounts_by_user: dict[UserId, AccountId] = field(default_factory=dict)
    credentials: dict[AccountId, Credentials] = field(default_factory=dict)
    orders: dict[ClientOrderId, Order] = field(default_factory=dict)
    order_ids: IdSequence = field(default_factory=IdSequence)
    fills: dict[int, FillRecord] = field(default_factory=dict)
    fill_ids: IdSequence = field(default_factory=IdSequence)
    positions: dict[int, Position] = field(default_factory=dict)
    open_positions: dict[int, Position] = field(default_factory=dict)
    position_ids: IdSequence = field(default_factory=IdSequence)
    user_ids: IdSequence = field(default_factory=IdSequence)
    account_ids: IdSequence = field(default_factory=IdSequence)


class MemoryUserRepository:
    def __init__(self, tables: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def get(self, user_id: UserId) -> User | None:
        return self._t.users.get(user_id)

    async def get_by_telegram(self, telegram_id: TelegramId) -> User | None:
        user_id = self._t.users_by_telegram.get(telegram_id)
        return None if user_id is None else self._t.users.get(user_id)

    async def get_many(self, user_ids: Sequence[UserId]) -> dict[UserId, User]:
        users = self._t.users
        return {u: users[u] for u in sorted(set(user_ids)) if u in users}

    async def subscribe(self, user_id: UserId, strategies: list[StrategyId], ts: datetime) -> None:
        self._j.put(self._t.subscriptions, user_id, tuple(strategies))

    async def subscriptions(self, user_id: UserId) -> list[StrategyId]:
        return list(self._t.subscriptions.get(user_id, ()))

    async def add(self, user: User) -> User:
        added = replace(user, id=UserId(self._t.user_ids.next()))
        self._j.put(self._t.users, added.id, added)
        self._j.put(self._t.users_by_telegram, added.telegram_id, added.id)
        return added

    async def save(self, user: User) -> None:
        if user.id in self._t.users:
            self._j.put(self._t.users, user.id, user)

    async def list(self, status: UserStatus | None = None) -> list[User]:
        users = sorted(self._t.users.values(), key=lambda u: u.id)
        return [u for u in users if status is None or u.status is status]

    async def count_by_pause(self) -> dict[bool, int]:
        """Onboarded users, paused (True) or not (False)."""
        counts: dict[bool, int] = {}
        for user in self._t.users.values():
            if user.status is UserStatus.ACTIVE:
                counts[user.is_paused] = counts.get(user.is_paused, 0) + 1
        return counts

    async def followers(self, strategy: StrategyId) -> list[User]:
        users = self._t.users
        return sorted(
            (
                users[u]
                for u, chosen in self._t.subscriptions.items()
                if strategy in chosen and users[u].status is UserStatus.ACTIVE
            ),
            key=lambda u: u.id,
        )


class MemoryAccountRepository:
    def __init__(self, tables: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def get(self, account_id: AccountId) -> Account | None:
        return self._t.accounts.get(account_id)

    async def for_user(self, user_id: UserId) -> Account | None:
        account_id = self._t.accounts_by_user.get(user_id)
        return None if account_id is None else self._t.accounts.get(account_id)

    async def get_many(self, account_ids: Sequence[AccountId]) -> dict[AccountId, Account]:
        accounts = self._t.accounts
        return {a: accounts[a] for a in sorted(set(account_ids)) if a in accounts}

    async def of_followers(self, strategy: StrategyId) -> list[Account]:
        """The accounts of every user subscribed to `strategy` (whatever the user's status)."""
        by_user, accounts = self._t.accounts_by_user, self._t.accounts
        followers = sorted(u for u, chosen in self._t.subscriptions.items() if strategy in chosen)
        return [accounts[by_user[u]] for u in followers if u in by_user]

    async def get_many_for_users(self, user_ids: Sequence[UserId]) -> list[Account]:
        by_user, accounts = self._t.accounts_by_user, self._t.accounts
        return [accounts[by_user[u]] for u in sorted(set(user_ids)) if u in by_user]

    async def add(self, account: Account, credentials: Credentials | None = None) -> Account:
        added = replace(account, id=AccountId(self._t.account_ids.next()))
        self._j.put(self._t.accounts, added.id, added)
        self._j.put(self._t.accounts_by_user, added.user_id, added.id)
        if credentials is not None:
            self._j.put(self._t.credentials, added.id, credentials)
        return added

    async def save(self, account: Account) -> None:
        await self.save_many([account])

    async def save_many(self, accounts: Sequence[Account]) -> None:
        for account in accounts:
            stored = self._t.accounts.get(account.id)
            if stored is not None:  # as the SQL update: the venue, keys and creation time never change here
                changed = replace(
                    stored,
                    is_reduce_only=account.is_reduce_only,
                    status_reason=account.status_reason,
                    managed_cash=account.managed_cash,
                    day_start_equity=account.day_start_equity,
                    day_started_on=account.day_started_on,
                )
                self._j.put(self._t.accounts, account.id, changed)

    async def remove(self, account_id: AccountId) -> None:
        account = self._t.accounts.get(account_id)
        if account is not None:
            self._j.drop(self._t.accounts, account_id)
            self._j.drop(self._t.accounts_by_user, account.user_id)
            self._j.drop(self._t.credentials, account_id)

    async def credentials(self, account_id: AccountId) -> Credentials | None:
        return self._t.credentials.get(account_id)

    async def list(self) -> list[Account]:
        return sorted(self._t.accounts.values(), key=lambda a: a.id)


class MemoryOrderRepository:
    def __init__(self, tables: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, orders: Sequence[Order]) -> list[Order]:
        added = []
        for order in orders:
            if order.client_order_id in self._t.orders:
                raise ValueError(f"client order id {order.client_order_id} is taken")  # the unique constraint
            stored = replace(order, id=self._t.order_ids.next())
            self._j.put(self._t.orders, stored.client_order_id, stored)
            added.append(stored)
        return added

    async def versions(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, OrderVersion]:
        orders = self._t.orders
        return {c: OrderVersion.of(orders[c]) for c in client_order_ids if c in orders}

    async def existing(self, client_order_ids: Sequence[ClientOrderId]) -> set[ClientOrderId]:
        orders = self._t.orders
        return {c for c in client_order_ids if c in orders}

    async def save_many(self, orders: Sequence[Order]) -> None:
        for order in orders:
            stored = self._t.orders.get(order.client_order_id)
            if stored is not None:
                self._j.put(self._t.orders, order.client_order_id, replace(order, id=stored.id))

    async def get(self, client_order_id: ClientOrderId) -> Order | None:
        return self._t.orders.get(client_order_id)

    async def get_many(self, client_order_ids: Sequence[ClientOrderId]) -> dict[ClientOrderId, Order]:
        orders = self._t.orders
        return {c: orders[c] for c in client_order_ids if c in orders}

    async def non_final(self, account_id: AccountId | None = None) -> list[Order]:
        return [
            o for o in self._t.orders.values() if not o.is_final and (account_id is None or o.account_id == account_id)
        ]

    async def for_user(self, user_id: UserId, limit: int = 20) -> list[Order]:
        return [o for o in reversed(self._t.orders.values()) if o.user_id == user_id][:limit]  # newest first

    async def since(self, moment: datetime) -> list[Order]:
        return [o for o in self._t.orders.values() if o.created_at >= moment]  # in id order, as inserted

    async def outcome_counts(self, since: datetime) -> OrderOutcomes:
        counts: dict[str, int] = {}
        for order in self._t.orders.values():
            if order.created_at >= since:
                counts[order.status.value] = counts.get(order.status.value, 0) + 1
        return OrderOutcomes(counts)


class MemoryFillRepository:
    def __init__(self, tables: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def add_many(self, fills: Sequence[tuple[Order, VenueTrade]]) -> None:
        for order, trade in fills:
            record = FillRecord(
                client_order_id=order.client_order_id,
                user_id=order.user_id,
                symbol=order.symbol,
                side=order.side.value,
                qty=trade.qty,
                price=trade.price,
                fee=trade.fee,
                fee_currency=trade.fee_currency,
                ts=trade.ts,
                purpose=order.purpose.value,
                strategy=order.strategy,
            )
            self._j.put(self._t.fills, self._t.fill_ids.next(), record)

    async def for_user(self, user_id: UserId, since: datetime | None = None, limit: int = 50) -> list[FillRecord]:
        found = []
        for record in reversed(self._t.fills.values()):
            if record.user_id == user_id and (since is None or record.ts >= since):
                found.append(record)
                if len(found) == limit:
                    break
        return found

    async def since(self, moment: datetime) -> list[FillRecord]:
        return [f for f in self._t.fills.values() if f.ts >= moment]

    def all(self) -> list[FillRecord]:
        """Every fill in the order it was booked (the backtest's trade list)."""
        return list(self._t.fills.values())


class MemoryPositionRepository:
    def __init__(self, tables: TradingTables, journal: Journal) -> None:
        self._t = tables
        self._j = journal

    async def open_for_user(self, user_id: UserId) -> list[Position]:
        return [p for p in self._open() if p.user_id == user_id]

    async def open_for_account(self, account_id: AccountId) -> list[Position]:
        return [p for p in self._open() if p.account_id == account_id]

    async def open_of_followers(self, strategy: StrategyId) -> list[Position]:
        """Open positions (of any strategy) in the accounts of the users subscribed to `strategy`."""
        followers = {u for u, chosen in self._t.subscriptions.items() if strategy in chosen}
        return [p for p in self._open() if p.user_id in followers]

    async def open_for_accounts(self, account_ids: Sequence[AccountId]) -> list[Position]:
        wanted = set(account_ids)
        return [p for p in self._open() if p.account_id in wanted]

    async def all_open(self) -> list[Position]:
        return self._open()

    async def count_open(self) -> int:
        return len(self._t.open_positions)

    async def save_many(self, positions: Sequence[Position]) -> list[Position]:
        saved = []
        for position in positions:
            if position.id is None:
                position = replace(position, id=self._t.position_ids.next())
            self._j.put(self._t.positions, position.id, position)
            if position.is_open:
                self._j.put(self._t.open_positions, position.id, position)
            else:
                self._j.drop(self._t.open_positions, position.id)
            saved.append(position)
        return saved

    async def closed_for_user(self, user_id: UserId, since: datetime | None = None) -> list[Position]:
        return [
            p
            for p in self._t.positions.values()
            if p.user_id == user_id and p.closed_at is not None and (since is None or p.closed_at >= since)
        ]

    async def closed_since(self, moment: datetime) -> list[Position]:
        return [p for p in self._t.positions.values() if p.closed_at is not None and p.closed_at >= moment]

    def _open(self) -> list[Position]:
        return sorted(self._t.open_positions.values(), key=lambda p: p.id or 0)
