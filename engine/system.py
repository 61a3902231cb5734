"""System-wide controls, persisted: the global trading state (admin pause-all) and the rollout phase."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import structlog

from engine.bus import EventBus
from engine.clock import Clock
from engine.domain.enums import TradingState
from engine.domain.events import TradingStateChanged
from engine.ports import UnitOfWorkFactory
from engine.trading import TradingPolicy
from risk.phases import PhaseName, RolloutPhase
from risk.profiles import RiskProfile

log = structlog.get_logger(__name__)

STATE_KEY = "trading_state"
PHASE_KEY = "rollout_phase"


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
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._phases = dict(phases)
        self._phase = self._phases[default_phase]
        self._profiles = dict(profiles)
        self._cost_rate = cost_rate
        self.state = TradingState.ACTIVE
        self.state_reason = ""

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
            self.state = TradingState(state["state"])
            self.state_reason = state.get("reason", "")
        if phase and phase in {p.value for p in self._phases}:
            self._phase = self._phases[PhaseName(phase)]

    async def set_state(self, state: TradingState, reason: str, actor: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.system.set(STATE_KEY, {"state": state.value, "reason": reason}, now)
            await uow.risk_events.add(ts=now, user_id=None, kind="system_state", state=state, reason=reason)
            await uow.audit.add(
                ts=now, actor=actor, action="system.state", details={"state": state.value, "reason": reason}
            )
            await uow.commit()
        self.state, self.state_reason = state, reason
        log.warning("system.state_changed", state=state.value, reason=reason, actor=actor)
        await self._bus.publish(TradingStateChanged(ts=now, user_id=None, state=state, reason=reason))

    async def set_phase(self, name: PhaseName, actor: str) -> RolloutPhase:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.system.set(PHASE_KEY, name.value, now)
            await uow.audit.add(ts=now, actor=actor, action="system.phase", details={"phase": name.value})
            await uow.commit()
        self._phase = self._phases[name]
        return self._phase

    def policy(self) -> TradingPolicy:
        return TradingPolicy(
            profiles=self._profiles, phase=self._phase, system_state=self.state, cost_rate=self._cost_rate
        )
