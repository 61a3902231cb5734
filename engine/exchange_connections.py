"""Connecting and disconnecting a user's exchange keys (`/connect`, `/disconnect`).

Keys are checked before anything is stored: a balance read must succeed, and keys that allow withdrawals
(where the exchange reports it) are refused. Accepted keys are stored through the account repository,
which encrypts them; they never appear in a log line, an audit entry or an answer (only the last four
characters of the API key, as a hint). A connected account replaces the user's paper account, which must
be flat first; disconnecting needs a flat account too, since without keys nothing could protect or sell
a position.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog

from engine.clock import Clock
from engine.domain.accounts import Account, User
from engine.domain.enums import AccountMode
from engine.domain.ids import AccountId
from engine.domain.money import ZERO
from engine.ports import Credentials, UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:  # ccxt (half a second to import) only where keys are checked: not in a backtest
    from engine.ccxt_gateway.credentials import KeyCheck

log = structlog.get_logger(__name__)

KeyChecker = Callable[[Credentials], Awaitable["KeyCheck"]]


@dataclass(frozen=True, slots=True)
class Connected:
    account: Account
    free_quote: Decimal  # what the exchange holds free in the quote currency
    managed: Decimal  # what the bot will manage: the capital, or less if the exchange holds less


@dataclass(frozen=True, slots=True)
class Disconnected:
    venue: str
    key_hint: str


@dataclass(frozen=True, slots=True)
class Refused:
    code: str
    message: str  # a sentence for the user


class ExchangeConnections:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        quote: str,
        checkers: Mapping[str, KeyChecker],
        forget: Callable[[AccountId], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._quote = quote
        self._checkers = dict(checkers)
        self._forget = forget

    @property
    def venues(self) -> list[str]:
        """Exchanges users may connect to (empty: this deployment trades on paper only)."""
        return list(self._checkers)

    async def connect(self, user: User, credentials: Credentials, venue: str | None = None) -> Connected | Refused:
        """Check the keys, then store them (encrypted) as the user's account on `venue` (the only one by default)."""
        venue = venue or (self.venues[0] if self.venues else "")
        if venue not in self._checkers:
            return Refused("live_disabled", "Live trading is not enabled on this bot: you trade on paper.")
        async with self._uow() as uow:
            current = await uow.accounts.for_user(user.id)
            refusal = await _connect_refusal(uow, current)
        if refusal is not None:
            return refusal
        check = await self._checkers[venue](credentials)
        if not check.is_ok:
            log.info("keys.refused", user=user.id, venue=venue, status=check.status.value)
            return Refused(check.status.value, check.message)
        balance = check.balances.get(self._quote)
        free = balance.free if balance is not None else ZERO
        managed = min(user.capital or ZERO, free)
        account = await self._store(user, venue, credentials, managed)
        log.info("keys.connected", user=user.id, venue=venue, account=account.id, key=account.key_hint)
        return Connected(account, free, managed)

    async def disconnect(self, user: User) -> Disconnected | Refused:
        """Remove the user's exchange keys (their account must hold no position and no open order)."""
        async with self._uow() as uow:
            account = await uow.accounts.for_user(user.id)
            if account is None or account.is_paper:
                return Refused("not_connected", "No exchange keys are connected: you trade on paper.")
            refusal = await _busy_refusal(uow, account, "disconnecting")
            if refusal is not None:
                return refusal
            await uow.accounts.remove(account.id)
            await uow.users.save(replace(await uow.users.get(user.id) or user, mode=AccountMode.PAPER))
            await uow.audit.add(
                ts=self._clock.now(),
                actor=str(user.telegram_id),
                action="account.disconnected",
                target=str(account.id),
                details={"venue": account.venue, "key": account.key_hint},
            )
            await uow.commit()
        if self._forget is not None:
            self._forget(account.id)
        log.info("keys.disconnected", user=user.id, venue=account.venue, account=account.id)
        return Disconnected(account.venue, account.key_hint)

    async def _store(self, user: User, venue: str, credentials: Credentials, managed: Decimal) -> Account:
        now = self._clock.now()
        async with self._uow() as uow:
            paper = await uow.accounts.for_user(user.id)
            if paper is not None:  # flat, checked above: its books go, its history stays with the user
                await uow.paper.clear_balances(paper.id)
                await uow.accounts.remove(paper.id)
            account = await uow.accounts.add(
                Account(
                    id=AccountId(0),
                    user_id=user.id,
                    venue=venue,
                    created_at=now,
                    key_hint=credentials.api_key[-4:],
                    managed_cash=managed,
                    day_start_equity=managed,
                    day_started_on=now.date(),
                ),
                credentials,
            )
            await uow.users.save(replace(await uow.users.get(user.id) or user, mode=AccountMode.LIVE))
            await uow.audit.add(
                ts=now,
                actor=str(user.telegram_id),
                action="account.connected",
                target=str(account.id),
                details={"venue": venue, "key": account.key_hint, "managed": str(managed)},
            )
            await uow.commit()
        return account


async def _connect_refusal(uow: UnitOfWork, current: Account | None) -> Refused | None:
    if current is None:
        return None
    if not current.is_paper:
        return Refused(
            "already_connected",
            f"Keys ending …{current.key_hint} are already connected to {current.venue}. "
            "/disconnect first to replace them.",
        )
    return await _busy_refusal(uow, current, "connecting an exchange")


async def _busy_refusal(uow: UnitOfWork, account: Account, doing: str) -> Refused | None:
    positions = await uow.positions.open_for_account(account.id)
    if positions:
        return Refused(
            "open_positions",
            f"You hold {len(positions)} open position(s). Close them first (/closeall) before {doing}: "
            "without the account I could not protect or sell them.",
        )
    if await uow.orders.non_final(account.id):
        return Refused("open_orders", f"Orders are still open on your account; try {doing} again in a minute.")
    return None
