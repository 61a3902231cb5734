"""Snapshots and proposals with fixed, healthy values: each test changes only what it is about."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.domain.enums import RiskProfileName
from engine.domain.ids import Symbol, UserId
from risk.phases import DEFAULT_PHASES, PhaseName
from risk.profiles import DEFAULT_PROFILES
from risk.snapshot import AccountSnapshot, EntryProposal, HeldPosition
from tests.factories import ADA, ETH, ETH_MARKET, T0

MODERATE = DEFAULT_PROFILES[RiskProfileName.MODERATE]
OPEN = DEFAULT_PHASES[PhaseName.OPEN]


def snapshot(**changes: Any) -> AccountSnapshot:
    """A moderate user in the open phase with $1,000, all cash, nothing held, at T0."""
    base = AccountSnapshot(
        user_id=UserId(1),
        now=T0,
        profile=MODERATE,
        phase=OPEN,
        capital=Decimal(1000),
        equity=Decimal(1000),
        free_cash=Decimal(1000),
        day_start_equity=Decimal(1000),
        peak_equity=Decimal(1000),
    )
    return replace(base, **changes)


def proposal(**changes: Any) -> EntryProposal:
    """A $100 ETH buy at 1000 (0.1 ETH) from ema_cross, stop 3% below, priced like the signal."""
    base = EntryProposal(
        symbol=ETH,
        strategy="ema_cross",
        market=ETH_MARKET,
        price=Decimal(1000),
        signal_price=Decimal(1000),
        qty=Decimal("0.1"),
        stop_price=Decimal(970),
        signal_key="sig-1",
    )
    return replace(base, **changes)


def holding(symbol: Symbol = ADA, value: str = "100") -> HeldPosition:
    return HeldPosition(symbol, Decimal(value), Decimal(1))
