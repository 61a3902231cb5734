"""Rollout phases: who may join, which profiles they may pick, and how much capital."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import RiskProfileName
from engine.domain.signals import Refusal


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
            return Refusal(
                "capital_bounds",
                f"During the {self.name.value} phase capital must be between ${self.min_capital:,} "
                f"and ${self.max_capital:,}; you have ${capital:,.2f}.",
            )
        return None

    def profile_refusal(self, profile: RiskProfileName) -> Refusal | None:
        if profile not in self.profiles:
            allowed = ", ".join(sorted(p.value for p in self.profiles))
            return Refusal(
                "profile_not_allowed",
                f"The {profile.value} profile is not open during the {self.name.value} phase (allowed: {allowed}).",
            )
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
