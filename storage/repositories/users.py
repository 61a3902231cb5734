"""Users and their exchange accounts (API keys encrypted at rest)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.accounts import Account, User
from engine.domain.enums import AccountMode, RiskProfileName, TradingState, UserStatus
from engine.domain.ids import AccountId, StrategyId, TelegramId, UserId
from engine.ports import Credentials
from storage.crypto import SecretBox
from storage.models import ExchangeAccountRow, SubscriptionRow, UserRow
from storage.repositories.base import SqlRepository, dec, dec_or_none

_users = UserRow.__table__
_accounts = ExchangeAccountRow.__table__
_subscriptions = SubscriptionRow.__table__
_following = _subscriptions.c.strategy_id == bindparam("strategy")
# Built once: the signal pipeline reads a strategy's followers for every signal.
_FOLLOWERS = (
    select(_users)
    .join(_subscriptions, _subscriptions.c.user_id == _users.c.id)
    .where(_following, _users.c.status == UserStatus.ACTIVE.value)
    .order_by(_users.c.id)
)
_FOLLOWER_ACCOUNTS = (
    select(_accounts).join(_subscriptions, _subscriptions.c.user_id == _accounts.c.user_id).where(_following)
)


class SqlUserRepository(SqlRepository):
    async def get(self, user_id: UserId) -> User | None:
        return await self._one(_users.c.id == user_id)

    async def get_by_telegram(self, telegram_id: TelegramId) -> User | None:
        return await self._one(_users.c.telegram_id == telegram_id)

    async def get_many(self, user_ids: Sequence[UserId]) -> dict[UserId, User]:
        ids = sorted(set(user_ids))
        found: dict[UserId, User] = {}
        for start in range(0, len(ids), 500):
            query = select(_users).where(_users.c.id.in_(ids[start : start + 500]))
            for row in (await self.session.execute(query)).mappings():
                found[UserId(row["id"])] = _user(row)
        return found

    async def add(self, user: User) -> User:
        values = _user_values(user)
        values.pop("id")
        new_id = (await self.session.execute(insert(_users).values(**values).returning(_users.c.id))).scalar_one()
        return replace(user, id=UserId(new_id))

    async def save(self, user: User) -> None:
        values = _user_values(user)
        await self.session.execute(update(_users).where(_users.c.id == values.pop("id")).values(**values))

    async def list(self, status: UserStatus | None = None) -> list[User]:
        query = select(_users).order_by(_users.c.id)
        if status is not None:
            query = query.where(_users.c.status == status.value)
        return [_user(row) for row in (await self.session.execute(query)).mappings()]

    async def count_by_pause(self) -> dict[bool, int]:
        """Onboarded users, paused (True) or not (False)."""
        query = (
            select(_users.c.is_paused, func.count())
            .where(_users.c.status == UserStatus.ACTIVE.value)
            .group_by(_users.c.is_paused)
        )
        return {bool(paused): count for paused, count in (await self.session.execute(query)).all()}

    async def followers(self, strategy: StrategyId) -> list[User]:
        """Active users subscribed to `strategy`, by id."""
        return [_user(row) for row in (await self.session.execute(_FOLLOWERS, {"strategy": strategy})).mappings()]

    async def subscribe(self, user_id: UserId, strategies: list[StrategyId], ts: datetime) -> None:
        await self.session.execute(delete(_subscriptions).where(_subscriptions.c.user_id == user_id))
        if strategies:
            rows = [{"user_id": user_id, "strategy_id": s, "created_at": ts} for s in strategies]
            await self.session.execute(insert(_subscriptions), rows)

    async def subscriptions(self, user_id: UserId) -> list[StrategyId]:
        query = select(_subscriptions.c.strategy_id).where(_subscriptions.c.user_id == user_id)
        return [StrategyId(s) for s in (await self.session.execute(query)).scalars()]

    async def _one(self, condition: object) -> User | None:
        row = (await self.session.execute(select(_users).where(condition))).mappings().first()  # type: ignore[arg-type]
        return None if row is None else _user(row)


class SqlAccountRepository(SqlRepository):
    def __init__(self, session: AsyncSession, secrets: SecretBox) -> None:
        super().__init__(session)
        self._secrets = secrets

    async def get(self, account_id: AccountId) -> Account | None:
        row = (await self.session.execute(select(_accounts).where(_accounts.c.id == account_id))).mappings().first()
        return None if row is None else _account(row)

    async def for_user(self, user_id: UserId) -> Account | None:
        query = select(_accounts).where(_accounts.c.user_id == user_id)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _account(row)

    async def add(self, account: Account, credentials: Credentials | None = None) -> Account:
        values = {
            "user_id": account.user_id,
            "venue": account.venue,
            "key_hint": account.key_hint,
            "is_reduce_only": account.is_reduce_only,
            "status_reason": account.status_reason,
            "managed_cash": account.managed_cash,
            "day_start_equity": account.day_start_equity,
            "day_started_on": account.day_started_on,
            "created_at": account.created_at,
            "api_key_encrypted": None,
            "secret_encrypted": None,
        }
        if credentials is not None:
            values["api_key_encrypted"] = self._secrets.encrypt(credentials.api_key)
            values["secret_encrypted"] = self._secrets.encrypt(credentials.secret)
        new_id = (await self.session.execute(insert(_accounts).values(**values).returning(_accounts.c.id))).scalar_one()
        return replace(account, id=AccountId(new_id))

    async def get_many(self, account_ids: Sequence[AccountId]) -> dict[AccountId, Account]:
        ids = sorted(set(account_ids))
        found: dict[AccountId, Account] = {}
        for start in range(0, len(ids), 500):
            query = select(_accounts).where(_accounts.c.id.in_(ids[start : start + 500]))
            for row in (await self.session.execute(query)).mappings():
                found[AccountId(row["id"])] = _account(row)
        return found

    async def of_followers(self, strategy: StrategyId) -> list[Account]:
        """The accounts of every user subscribed to `strategy` (whatever the user's status)."""
        rows = await self.session.execute(_FOLLOWER_ACCOUNTS, {"strategy": strategy})
        return [_account(row) for row in rows.mappings()]

    async def get_many_for_users(self, user_ids: Sequence[UserId]) -> list[Account]:
        ids = sorted(set(user_ids))
        found: list[Account] = []
        for start in range(0, len(ids), 500):
            query = select(_accounts).where(_accounts.c.user_id.in_(ids[start : start + 500]))
            found += [_account(row) for row in (await self.session.execute(query)).mappings()]
        return found

    async def save(self, account: Account) -> None:
        await self.save_many([account])

    async def save_many(self, accounts: Sequence[Account]) -> None:
        if not accounts:
            return
        rows = [
            {
                "b_id": a.id,
                "is_reduce_only": a.is_reduce_only,
                "status_reason": a.status_reason,
                "managed_cash": a.managed_cash,
                "day_start_equity": a.day_start_equity,
                "day_started_on": a.day_started_on,
            }
            for a in accounts
        ]
        await self.session.execute(update(_accounts).where(_accounts.c.id == bindparam("b_id")), rows)

    async def remove(self, account_id: AccountId) -> None:
        await self.session.execute(delete(_accounts).where(_accounts.c.id == account_id))

    async def credentials(self, account_id: AccountId) -> Credentials | None:
        query = select(_accounts.c.api_key_encrypted, _accounts.c.secret_encrypted).where(_accounts.c.id == account_id)
        row = (await self.session.execute(query)).first()
        if row is None or row[0] is None:
            return None
        return Credentials(api_key=self._secrets.decrypt(row[0]), secret=self._secrets.decrypt(row[1]))

    async def list(self) -> list[Account]:
        rows = (await self.session.execute(select(_accounts).order_by(_accounts.c.id))).mappings()
        return [_account(row) for row in rows]


def _user_values(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "telegram_id": user.telegram_id,
        "chat_id": user.chat_id,
        "name": user.name,
        "status": user.status.value,
        "profile": user.profile.value if user.profile else None,
        "capital": user.capital,
        "mode": user.mode.value,
        "is_paused": user.is_paused,
        "trading_state": user.trading_state.value,
        "state_reason": user.state_reason,
        "state_until": user.state_until,
        "peak_equity": user.peak_equity,
        "consecutive_losses": user.consecutive_losses,
        "cooldown_until": user.cooldown_until,
        "notifications_muted": sorted(user.notifications_muted),
        "created_at": user.created_at,
        "updated_at": datetime.now(UTC),
    }


def _user(row: RowMapping) -> User:
    return User(
        id=UserId(row["id"]),
        telegram_id=TelegramId(row["telegram_id"]),
        chat_id=row["chat_id"],
        name=row["name"],
        status=UserStatus(row["status"]),
        created_at=row["created_at"],
        profile=RiskProfileName(row["profile"]) if row["profile"] else None,
        capital=dec_or_none(row["capital"]),
        mode=AccountMode(row["mode"]),
        is_paused=row["is_paused"],
        trading_state=TradingState(row["trading_state"]),
        state_reason=row["state_reason"],
        state_until=row["state_until"],
        peak_equity=dec(row["peak_equity"]),
        consecutive_losses=row["consecutive_losses"],
        cooldown_until=row["cooldown_until"],
        notifications_muted=frozenset(row["notifications_muted"] or ()),
    )


def _account(row: RowMapping) -> Account:
    return Account(
        id=AccountId(row["id"]),
        user_id=UserId(row["user_id"]),
        venue=row["venue"],
        created_at=row["created_at"],
        is_reduce_only=row["is_reduce_only"],
        status_reason=row["status_reason"],
        key_hint=row["key_hint"],
        managed_cash=dec(row["managed_cash"]),
        day_start_equity=dec(row["day_start_equity"]),
        day_started_on=row["day_started_on"],
    )
