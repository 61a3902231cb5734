"""Which strategies run: the rule strategies, the LLM agent and webhook signals, each enabled or disabled by the
admins, persisted in the strategies table. Users follow strategies through their risk profile."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from engine.clock import Clock
from engine.domain.enums import UserStatus
from engine.domain.ids import StrategyId, UserId
from engine.errors import BotError
from engine.ports import StrategyRecord, UnitOfWork, UnitOfWorkFactory
from engine.strategies.base import StrategyRunner
from risk.profiles import RiskProfile

log = structlog.get_logger(__name__)

LLM_AGENT = StrategyId("llm_agent")
WEBHOOK = StrategyId("webhook")

SIGNAL_SOURCES = (
    StrategyRecord(id=LLM_AGENT, kind="llm", description="An Anthropic model reading a summary of the market"),
    StrategyRecord(id=WEBHOOK, kind="webhook", description="Signed signals sent to POST /webhook (TradingView-style)"),
)


class UnknownStrategy(BotError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no strategy {name!r}; known: {', '.join(known)}")
        self.name = name
        self.known = known


@dataclass(frozen=True, slots=True)
class StrategyStatus:
    id: str
    kind: str
    enabled: bool
    description: str
    followers: int
    note: str = ""  # why an enabled strategy may still not produce signals


class StrategyControl:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        runner: StrategyRunner,
        profiles: Callable[[], Mapping[str, RiskProfile]],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._runner = runner
        self._profiles = profiles
        self._records = {r.id: r for r in self._known()}
        self._enabled = {name: True for name in self._records}
        self.notes: dict[str, str] = {}

    def _known(self) -> list[StrategyRecord]:
        rules = [StrategyRecord(id=s.id, kind="rule", description=s.description) for s in self._runner.strategies]
        return [*rules, *SIGNAL_SOURCES]

    async def load(self) -> None:
        """Register the strategies this process runs (new ones followed per profile) and read the admins' choices."""
        async with self._uow() as uow:
            added = await uow.strategies.ensure(list(self._records.values()), self._clock.now())
            for name in added:
                await self._follow_by_profile(uow, name)
            stored = {r.id: r.enabled for r in await uow.strategies.list()}
            await uow.commit()
        for name in self._records:
            self._apply(name, stored.get(name, True))

    def is_enabled(self, name: str) -> bool:
        return self._enabled.get(name, False)

    async def list(self) -> list[StrategyStatus]:
        async with self._uow() as uow:
            followers = await uow.strategies.follower_counts()
        return [self._status(name, followers.get(name, 0)) for name in self._records]

    async def set_enabled(self, name: str, enabled: bool, actor: str) -> StrategyStatus:
        """Turn a strategy on or off for everyone; persisted and audited. Raises UnknownStrategy."""
        if name not in self._records:
            raise UnknownStrategy(name, list(self._records))
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.strategies.set_enabled(name, enabled, now)
            await uow.audit.add(
                ts=now, actor=actor, action="strategy.enabled" if enabled else "strategy.disabled", target=name
            )
            followers = (await uow.strategies.follower_counts()).get(name, 0)
            await uow.commit()
        self._apply(name, enabled)
        log.warning("strategy.switched", strategy=name, enabled=enabled, actor=actor)
        return self._status(name, followers)

    def _apply(self, name: str, enabled: bool) -> None:
        self._enabled[name] = enabled
        if self._records[name].kind == "rule":
            self._runner.set_enabled(StrategyId(name), enabled)

    def _status(self, name: str, followers: int) -> StrategyStatus:
        record = self._records[name]
        return StrategyStatus(
            name, record.kind, self._enabled[name], record.description, followers, self.notes.get(name, "")
        )

    async def _follow_by_profile(self, uow: UnitOfWork, name: str) -> None:
        profiles = {p for p, profile in self._profiles().items() if name in profile.strategies}
        users = [u.id for u in await uow.users.list(UserStatus.ACTIVE) if u.profile and u.profile.value in profiles]
        if users:
            await uow.strategies.add_followers(name, [UserId(u) for u in users], self._clock.now())
            log.info("strategy.followers_added", strategy=name, users=len(users))
