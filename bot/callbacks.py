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


@dataclass(frozen=True, slots=True)
class ConfirmClose:
    """`/close SYMBOL`: sell that position (or not)."""

    symbol: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ChangeProfile:
    """Under `/risk`: switch to `profile` (asks once more), or confirm the switch."""

    profile: RiskProfileName
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class ToggleNotification:
    """Under `/settings`: mute or unmute one kind of notification."""

    kind: str


@dataclass(frozen=True, slots=True)
class UsersPage:
    """Under `/users`: another page of the list."""

    audience: str
    page: int


@dataclass(frozen=True, slots=True)
class ConfirmEveryoneClose:
    """Under an operator's `/close_all`: also pause everyone first (recommended), close only, or cancel."""

    confirmed: bool
    pause_first: bool = True


@dataclass(frozen=True, slots=True)
class ConfirmBroadcast:
    text: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ConfirmPhase:
    phase: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class DisconnectChoice:
    """Under `/disconnect`: remove the keys, or keep them."""

    confirmed: bool
