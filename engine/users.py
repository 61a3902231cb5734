"""Users' lifecycle: access, onboarding (profile, capital, account), pause and resume. Telegram-independent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import structlog

from engine.clock import Clock
from engine.domain.accounts import PAPER_VENUE, Account, User
from engine.domain.enums import AccountMode, RiskProfileName, TradingState, UserStatus
from engine.domain.ids import AccountId, StrategyId, TelegramId, UserId
from engine.domain.signals import Refusal
from engine.paper_exchange import PaperExchange
from engine.ports import UnitOfWork, UnitOfWorkFactory
from risk.phases import RolloutPhase
from risk.profiles import RiskProfile

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    admin_ids: frozenset[int]
    allowed_ids: frozenset[int]
    invite_codes: frozenset[str]


class UserService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        paper: PaperExchange,
        quote_currency: str,
        access: AccessPolicy,
        phase: Callable[[], RolloutPhase],
        profiles: Callable[[], dict[str, RiskProfile]],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._paper = paper
        self._quote = quote_currency
        self._access = access
        self._phase = phase
        self._profiles = profiles

    async def get(self, telegram_id: int) -> User | None:
        async with self._uow() as uow:
            return await uow.users.get_by_telegram(TelegramId(telegram_id))

    async def get_by_id(self, user_id: UserId) -> User | None:
        async with self._uow() as uow:
            return await uow.users.get(user_id)

    async def arrive(self, telegram_id: int, chat_id: int, name: str) -> User:
        """The person behind `telegram_id` opened the bot: register them, approved if policy lets them in."""
        async with self._uow() as uow:
            user = await uow.users.get_by_telegram(TelegramId(telegram_id))
            if user is not None:
                return user
            status = UserStatus.APPROVED if self._is_let_in(telegram_id) else UserStatus.PENDING
            now = self._clock.now()
            user = await uow.users.add(
                User(
                    id=UserId(0),
                    telegram_id=TelegramId(telegram_id),
                    chat_id=chat_id,
                    name=name[:128],
                    status=status,
                    created_at=now,
                )
            )
            await uow.audit.add(ts=now, actor=str(telegram_id), action="user.arrived", details={"status": status.value})
            await uow.commit()
        log.info("user.arrived", user=user.id, status=status.value)
        return user

    async def redeem_invite(self, user: User, code: str) -> User | None:
        if user.status is not UserStatus.PENDING or code.strip() not in self._access.invite_codes:
            return None
        return await self.approve(user.id, actor=f"invite:{code.strip()[:4]}…")

    async def approve(self, user_id: UserId, actor: str) -> User | None:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.status not in (UserStatus.PENDING, UserStatus.BLOCKED):
                return user
            approved = replace(user, status=UserStatus.APPROVED)
            await uow.users.save(approved)
            await uow.audit.add(ts=self._clock.now(), actor=actor, action="user.approved", target=str(user_id))
            await uow.commit()
            return approved

    def profile_refusal(self, profile: RiskProfileName) -> Refusal | None:
        return self._phase().profile_refusal(profile)

    def capital_refusal(self, capital: Decimal) -> Refusal | None:
        return self._phase().capital_refusal(capital)

    async def onboard(self, user: User, profile: RiskProfileName, capital: Decimal, mode: AccountMode) -> User:
        """Finish onboarding: the chosen profile and capital, a funded paper account (or a live one later)."""
        refusal = self.profile_refusal(profile) or self.capital_refusal(capital)
        if refusal is not None:
            raise ValueError(refusal.message)
        now = self._clock.now()
        async with self._uow() as uow:
            if not user.is_onboarded:
                trading = [u for u in await uow.users.list(UserStatus.ACTIVE) if u.id != user.id]
                refusal = self._phase().admission_refusal(len(trading))
                if refusal is not None:
                    raise ValueError(refusal.message)
            active = replace(user, profile=profile, capital=capital, mode=mode, status=UserStatus.ACTIVE)
            await uow.users.save(active)
            await uow.users.subscribe(user.id, await self._strategies_for(uow, profile), now)
            account = await uow.accounts.for_user(user.id)
            if account is None and mode is AccountMode.PAPER:
                account = await uow.accounts.add(
                    Account(
                        id=AccountId(0),
                        user_id=user.id,
                        venue=PAPER_VENUE,
                        created_at=now,
                        managed_cash=capital,
                        day_start_equity=capital,
                        day_started_on=now.date(),
                    )
                )
            await uow.audit.add(
                ts=now,
                actor=str(user.telegram_id),
                action="user.onboarded",
                details={"profile": profile.value, "capital": str(capital), "mode": mode.value},
            )
            await uow.commit()
        if account is not None and account.is_paper:
            await self._paper.deposit(account.id, self._quote, capital)
        return active

    async def change_profile(self, user: User, profile: RiskProfileName) -> User:
        refusal = self.profile_refusal(profile)
        if refusal is not None:
            raise ValueError(refusal.message)
        async with self._uow() as uow:
            changed = replace(user, profile=profile)
            await uow.users.save(changed)
            await uow.users.subscribe(user.id, await self._strategies_for(uow, profile), self._clock.now())
            await uow.audit.add(
                ts=self._clock.now(),
                actor=str(user.telegram_id),
                action="user.profile",
                details={"profile": profile.value},
            )
            await uow.commit()
            return changed

    async def set_paused(self, user: User, paused: bool) -> User:
        async with self._uow() as uow:
            current = await uow.users.get(user.id) or user
            changed = replace(current, is_paused=paused)
            await uow.users.save(changed)
            await uow.audit.add(
                ts=self._clock.now(), actor=str(user.telegram_id), action="user.paused" if paused else "user.resumed"
            )
            await uow.commit()
            return changed

    async def resume_after_halt(self, user: User) -> User:
        """The user confirmed they reviewed a halt: trading becomes active again."""
        async with self._uow() as uow:
            current = await uow.users.get(user.id) or user
            resumed = replace(
                current, is_paused=False, trading_state=TradingState.ACTIVE, state_reason="", state_until=None
            )
            await uow.users.save(resumed)
            await uow.risk_events.add(
                ts=self._clock.now(),
                user_id=user.id,
                kind="user_resumed",
                state=TradingState.ACTIVE,
                reason="resumed by the user",
            )
            await uow.commit()
            return resumed

    async def set_muted(self, user: User, muted: frozenset[str]) -> User:
        """Which kinds of notification the user chose not to receive."""
        async with self._uow() as uow:
            changed = replace(await uow.users.get(user.id) or user, notifications_muted=muted)
            await uow.users.save(changed)
            await uow.audit.add(
                ts=self._clock.now(),
                actor=str(user.telegram_id),
                action="user.notifications",
                details={"muted": sorted(muted)},
            )
            await uow.commit()
            return changed

    async def list(self, status: UserStatus | None = None) -> list[User]:
        async with self._uow() as uow:
            return await uow.users.list(status)

    async def account(self, user: User) -> Account | None:
        async with self._uow() as uow:
            return await uow.accounts.for_user(user.id)

    def _is_let_in(self, telegram_id: int) -> bool:
        if telegram_id in self._access.admin_ids or telegram_id in self._access.allowed_ids:
            return True
        return not self._phase().needs_invite

    async def _strategies_for(self, uow: UnitOfWork, profile: RiskProfileName) -> list[StrategyId]:
        """The strategies the profile follows, among those the product runs."""
        chosen = self._profiles().get(profile.value)
        available = {record.id for record in await uow.strategies.list()}
        return sorted(StrategyId(s) for s in (chosen.strategies if chosen else ()) if s in available)
