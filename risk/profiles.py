"""Risk profiles: what a user signs up for, in numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.enums import RiskProfileName


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskProfile:
    """Every limit is a fraction of the user's equity unless it says otherwise."""

    name: RiskProfileName
    summary: str
    risk_per_trade: Decimal  # equity lost if the stop is hit
    max_position_size: Decimal  # one position's value
    max_open_positions: int
    max_symbol_exposure: Decimal  # all positions in one symbol
    max_total_exposure: Decimal  # all positions together
    daily_loss_limit: Decimal  # today's loss that moves the user to exits-only until the next UTC day
    max_drawdown: Decimal  # fall from the equity peak that halts the user until they resume
    cooldown_after_losses: int  # consecutive losing trades that start a cooldown
    cooldown_minutes: int
    stop_loss: Decimal  # default distance below the entry
    take_profit: Decimal  # default distance above the entry
    trailing_stop: Decimal  # distance below the highest price since entry
    trailing_activation: Decimal  # gain from the entry before the trailing stop starts to follow
    break_even_after: Decimal  # gain after which the stop moves to the entry price
    max_holding_hours: int  # time-based exit
    strategies: frozenset[str]  # strategies this profile follows


DEFAULT_PROFILES: dict[RiskProfileName, RiskProfile] = {
    RiskProfileName.CONSERVATIVE: RiskProfile(
        name=RiskProfileName.CONSERVATIVE,
        summary="small positions, tight stops, stops early on a bad day",
        risk_per_trade=Decimal("0.005"),
        max_position_size=Decimal("0.10"),
        max_open_positions=3,
        max_symbol_exposure=Decimal("0.10"),
        max_total_exposure=Decimal("0.30"),
        daily_loss_limit=Decimal("0.02"),
        max_drawdown=Decimal("0.08"),
        cooldown_after_losses=2,
        cooldown_minutes=240,
        stop_loss=Decimal("0.02"),
        take_profit=Decimal("0.04"),
        trailing_stop=Decimal("0.02"),
        trailing_activation=Decimal("0.02"),
        break_even_after=Decimal("0.015"),
        max_holding_hours=48,
        strategies=frozenset({"ema_cross"}),
    ),
    RiskProfileName.MODERATE: RiskProfile(
        name=RiskProfileName.MODERATE,
        summary="balanced: medium positions, room for several trades at once",
        risk_per_trade=Decimal("0.01"),
        max_position_size=Decimal("0.20"),
        max_open_positions=5,
        max_symbol_exposure=Decimal("0.20"),
        max_total_exposure=Decimal("0.60"),
        daily_loss_limit=Decimal("0.04"),
        max_drawdown=Decimal("0.15"),
        cooldown_after_losses=3,
        cooldown_minutes=120,
        stop_loss=Decimal("0.03"),
        take_profit=Decimal("0.06"),
        trailing_stop=Decimal("0.03"),
        trailing_activation=Decimal("0.03"),
        break_even_after=Decimal("0.02"),
        max_holding_hours=72,
        strategies=frozenset({"ema_cross", "rsi_reversion", "donchian_breakout", "llm_agent", "webhook"}),
    ),
    RiskProfileName.AGGRESSIVE: RiskProfile(
        name=RiskProfileName.AGGRESSIVE,
        summary="larger positions and wider stops: bigger swings both ways",
        risk_per_trade=Decimal("0.02"),
        max_position_size=Decimal("0.35"),
        max_open_positions=8,
        max_symbol_exposure=Decimal("0.35"),
        max_total_exposure=Decimal("0.90"),
        daily_loss_limit=Decimal("0.08"),
        max_drawdown=Decimal("0.25"),
        cooldown_after_losses=4,
        cooldown_minutes=60,
        stop_loss=Decimal("0.05"),
        take_profit=Decimal("0.10"),
        trailing_stop=Decimal("0.05"),
        trailing_activation=Decimal("0.05"),
        break_even_after=Decimal("0.03"),
        max_holding_hours=168,
        strategies=frozenset({"ema_cross", "rsi_reversion", "donchian_breakout", "llm_agent", "webhook"}),
    ),
}
