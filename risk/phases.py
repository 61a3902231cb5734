"""Rollout phases: who may join, which profiles they may pick, and how much capital."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import RiskProfileName
from engine.domain.signals import Refusal
from risk.refusals import money, refusal


class PhaseName(StrEnum):
    INTERNAL = "internal"
    LIMITED = "limited"
    OPEN = "open"


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutPhase:
    name: PhaseName
    min_capital: Decimal
    max_capital: Decimal
    max_users: int | None
    profiles: frozenset[RiskProfileName]
    needs_invite: bool  # unknown people must be on the allow-list, have an invite code, or be approved

    def capital_refusal(self, capital: Decimal) -> Refusal | None:
        if capital < self.min_capital or capital > self.max_capital:
            return refusal(
                "capital_bounds",
                phase=self.name.value,
                minimum=f"${self.min_capital:,}",
                maximum=f"${self.max_capital:,}",
                capital=money(capital),
            )
        return None

    def profile_refusal(self, profile: RiskProfileName) -> Refusal | None:
        if profile not in self.profiles:
            allowed = ", ".join(sorted(p.value for p in self.profiles))
            return refusal("profile_not_allowed", profile=profile.value, phase=self.name.value, allowed=allowed)
        return None

    def admission_refusal(self, onboarded_users: int) -> Refusal | None:
        """Whether one more person may finish onboarding, with `onboarded_users` already trading."""
        if self.max_users is not None and onboarded_users >= self.max_users:
            return refusal("phase_full", phase=self.name.value, limit=self.max_users)
        return None


ALL_PROFILES = frozenset(RiskProfileName)

DEFAULT_PHASES: dict[PhaseName, RolloutPhase] = {
    PhaseName.INTERNAL: RolloutPhase(
        name=PhaseName.INTERNAL,
        min_capital=Decimal(100),
        max_capital=Decimal(500),
        max_users=5,
        profiles=frozenset({RiskProfileName.CONSERVATIVE}),
        needs_invite=True,
    ),
    PhaseName.LIMITED: RolloutPhase(
        name=PhaseName.LIMITED,
        min_capital=Decimal(500),
        max_capital=Decimal(2000),
        max_users=10,
        profiles=ALL_PROFILES,
        needs_invite=True,
    ),
    PhaseName.OPEN: RolloutPhase(
        name=PhaseName.OPEN,
        min_capital=Decimal(100),
        max_capital=Decimal(5000),
        max_users=None,
        profiles=ALL_PROFILES,
        needs_invite=False,
    ),
}


def phase_refusals(
    phase: RolloutPhase, profile: RiskProfileName | None, capital: Decimal | None
) -> tuple[Refusal, ...]:
    """Everything `phase` refuses about a user's profile and capital (nothing when they fit)."""
    found = (
        phase.profile_refusal(profile) if profile is not None else None,
        phase.capital_refusal(capital) if capital is not None else None,
    )
    return tuple(r for r in found if r is not None)
