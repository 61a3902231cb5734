"""Objects carried by inline buttons (PTB arbitrary callback data): no hand-parsed strings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.enums import AccountMode, RiskProfileName


@dataclass(frozen=True, slots=True)
class ChooseProfile:
    profile: RiskProfileName


@dataclass(frozen=True, slots=True)
class ChooseCapital:
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ChooseMode:
    mode: AccountMode


@dataclass(frozen=True, slots=True)
class ConfirmOnboarding:
    confirmed: bool


@dataclass(frozen=True, slots=True)
class RefreshPortfolio:
    pass


@dataclass(frozen=True, slots=True)
class PauseChoice:
    """After /pause: also close every position (asks once more), or keep them."""

    close_all: bool


@dataclass(frozen=True, slots=True)
class ConfirmCloseAll:
    confirmed: bool
