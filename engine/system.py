"""System-wide controls, persisted: the global trading state (admin pause-all, the global circuit breaker) and
the rollout phase. Telegram-independent: admin commands call these methods and render what they return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.enums import TradingState, UserStatus
from engine.domain.events import PhaseChanged, TradingStateChanged
from engine.domain.ids import UserId
from engine.domain.signals import Refusal
from engine.ports import UnitOfWorkFactory
from engine.trading import TradingPolicy
from risk.phases import PhaseName, RolloutPhase, phase_refusals
from risk.profiles import RiskProfile

log = structlog.get_logger(__name__)

STATE_KEY = "trading_state"
PHASE_KEY = "rollout_phase"

ADMIN, BREAKER = "admin", "breaker"  # who put the system where it is


@dataclass(frozen=True, slots=True)
class SystemState:
    state: TradingState = TradingState.ACTIVE
    reason: str = ""
    cause: str = ""  # admin (pause-all) or breaker (the global circuit breaker)
    breaker: str = ""

    @property
    def is_paused_by_admin(self) -> bool:
        return self.state is not TradingState.ACTIVE and self.cause == ADMIN


@dataclass(frozen=True, slots=True)
class PhaseChange:
    """What moving the phase did: the phases before and after, and the users it puts outside their limits."""

    previous: RolloutPhase
    phase: RolloutPhase
    conflicts: tuple[tuple[UserId, tuple[Refusal, ...]], ...]

    @property
    def changed(self) -> bool:
        return self.previous.name is not self.phase.name


class SystemControl:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        bus: EventBus,
        phases: Mapping[PhaseName, RolloutPhase],
        default_phase: PhaseName,
        profiles: Mapping[str, RiskProfile],
        cost_rate: Decimal,
        price_tolerance: Decimal = Decimal("0.05"),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._phases = dict(phases)
        self._phase = self._phases[default_phase]
        self._profiles = {str(name): profile for name, profile in profiles.items()}
        self._cost_rate = cost_rate
        self._price_tolerance = price_tolerance
        self.current = SystemState()

    @property
    def state(self) -> TradingState:
        return self.current.state

    @property
    def state_reason(self) -> str:
        return self.current.reason

    @property
    def phase(self) -> RolloutPhase:
        return self._phase

    @property
    def phases(self) -> dict[PhaseName, RolloutPhase]:
        return dict(self._phases)

    @property
    def profiles(self) -> dict[str, RiskProfile]:
        return dict(self._profiles)

    async def load(self) -> None:
        """Read the persisted state and phase (they survive restarts)."""
        async with self._uow() as uow:
            state = await uow.system.get(STATE_KEY)
            phase = await uow.system.get(PHASE_KEY)
        if state:
            self.current = SystemState(
                TradingState(state["state"]),
                state.get("reason", ""),
                state.get("cause", ADMIN),
                state.get("breaker", ""),
            )
        if phase and phase in {p.value for p in self._phases}:
            self._phase = self._phases[PhaseName(phase)]

    async def pause_all(self, actor: str, reason: str = "") -> bool:
        """Kill switch: no new entries for anyone, exits continue. False when already paused by an admin."""
        if self.current.is_paused_by_admin:
            return False
        await self._set(SystemState(TradingState.REDUCING, reason or "paused by the operators", ADMIN), actor)
        return True

    async def resume_all(self, actor: str) -> bool:
        """Lift a pause-all or a global breaker; False when the system was already active."""
        if self.current.state is TradingState.ACTIVE:
            return False
        await self._set(SystemState(), actor)
        return True

    async def trip(self, breaker: str, reason: str) -> bool:
        """The global circuit breaker: exits only for everyone until an admin resumes. False when not active."""
        if self.current.state is not TradingState.ACTIVE:
            return False
        await self._set(SystemState(TradingState.REDUCING, reason, BREAKER, breaker), actor="breaker")
        return True

    async def set_state(self, state: TradingState, reason: str, actor: str) -> None:
        """Put the system in `state` by an admin's hand (halted: not even exits, only protective stops)."""
        await self._set(SystemState(state, reason, ADMIN if state is not TradingState.ACTIVE else ""), actor)

    async def _set(self, new: SystemState, actor: str) -> None:
        now = self._clock.now()
        value = {"state": new.state.value, "reason": new.reason, "cause": new.cause, "breaker": new.breaker}
        async with self._uow() as uow:
            await uow.system.set(STATE_KEY, value, now)
            await uow.risk_events.add(
                ts=now, user_id=None, kind=new.breaker or "system_state", state=new.state, reason=new.reason
            )
            await uow.audit.add(ts=now, actor=actor, action="system.state", details=value)
            await uow.commit()
        self.current = new
        log.warning("system.state_changed", actor=actor, **value)
        await self._bus.publish(
            TradingStateChanged(ts=now, user_id=None, state=new.state, reason=new.reason, breaker=new.breaker)
        )

    async def set_phase(self, name: PhaseName, actor: str) -> PhaseChange:
        """Move the rollout phase; every onboarded user's capital and profile are checked against it."""
        now = self._clock.now()
        previous, phase = self._phase, self._phases[name]
        async with self._uow() as uow:
            users = await uow.users.list(UserStatus.ACTIVE)
            await uow.system.set(PHASE_KEY, name.value, now)
            await uow.audit.add(
                ts=now, actor=actor, action="system.phase", details={"phase": name.value, "previous": previous.name}
            )
            await uow.commit()
        self._phase = phase
        conflicts = tuple(
            (user.id, refusals)
            for user in users
            if user.is_onboarded and (refusals := phase_refusals(phase, user.profile, user.capital))
        )
        log.warning("system.phase_changed", phase=name.value, previous=previous.name.value, conflicts=len(conflicts))
        await self._bus.publish(
            PhaseChanged(ts=now, phase=name.value, previous=previous.name.value, actor=actor, conflicts=conflicts)
        )
        return PhaseChange(previous, phase, conflicts)

    def policy(self) -> TradingPolicy:
        return TradingPolicy(
            profiles=self._profiles,
            phase=self._phase,
            system_state=self.current.state,
            cost_rate=self._cost_rate,
            system_reason=self.current.reason,
            is_system_paused_by_admin=self.current.is_paused_by_admin,
            price_tolerance=self._price_tolerance,
        )
