"""Every reason the risk engine can refuse: a stable code and the sentence a user reads in `/why`.

Codes never change once released (stored decisions, notifications and the admin report refer to them); the
sentences may be reworded. Each sentence is a template filled with the figures of the refusal.
"""

from __future__ import annotations

from types import MappingProxyType

from engine.domain.signals import Refusal

_SENTENCES = {
    # who may trade
    "user_paused": "You paused trading, so no new positions are opened. /resume to start again.",
    "user_halted": (
        "Your account is halted: {reason}. Open positions keep their stops; /resume once you have reviewed it."
    ),
    "user_reducing": "Your account only closes positions for now: {reason}.",
    "system_paused": "Trading is paused for everyone by the operators; open positions are still managed.",
    "system_reducing": (
        "New trades are stopped for everyone while the operators look into a problem ({reason}); "
        "open positions are still managed."
    ),
    "account_reduce_only": (
        "Your exchange account is in reduce-only mode until a difference with the exchange is resolved."
    ),
    # the rollout phase and the profile
    "capital_bounds": ("During the {phase} phase capital must be between {minimum} and {maximum}; you have {capital}."),
    "profile_not_allowed": "The {profile} profile is not open during the {phase} phase (allowed: {allowed}).",
    "phase_full": "The {phase} phase is full ({limit} people); an admin can let you in when a place opens.",
    "strategy_not_in_profile": "The {strategy} strategy is not part of your {profile} profile.",
    # the signal itself
    "no_market": "{symbol} cannot be traded on your account right now (no market or no price).",
    "duplicate_signal": "This signal was already acted on for you.",
    "already_in_position": "You already hold {symbol}; the bot does not add to a position.",
    "price_sanity": "The signal's price ({signal_price}) is {gap} away from the market ({price}); it looks stale.",
    "price_missing": "The signal carried no usable price.",
    # limits of the profile
    "max_open_positions": "You already hold {held} positions, the most your {profile} profile allows.",
    "max_position_size": "This order ({notional}) is larger than one position may be ({limit}).",
    "max_symbol_exposure": "It would put {after} in {symbol}; your profile allows at most {limit} in one coin.",
    "max_total_exposure": "It would put {after} in the market in total; your profile allows at most {limit}.",
    "daily_loss_limit": "Today's loss ({loss}) reached your daily limit ({limit}); new trades resume tomorrow (UTC).",
    "max_drawdown": "Your account is {drawdown} below its peak, past your {limit} drawdown limit.",
    "cooldown": "After {losses} losing trades in a row the bot waits; {minutes} min left.",
    # what the venue and the wallet allow
    "below_min_notional": (
        "The position your limits allow ({notional}) is below the exchange minimum ({minimum}) for {symbol}."
    ),
    "insufficient_balance": "The order needs {cost} with fees; you have {free} free.",
}

SENTENCES = MappingProxyType(_SENTENCES)
CODES = frozenset(_SENTENCES)


def refusal(code: str, **figures: object) -> Refusal:
    """The refusal `code` with its sentence filled in; an unknown code is a programming error."""
    return Refusal(code, _SENTENCES[code].format(**figures))


def money(amount: object) -> str:
    """An amount of the quote currency as users read it: $1,234.50."""
    return f"${amount:,.2f}"


def percent(fraction: object, decimals: int = 1) -> str:
    return f"{fraction:.{decimals}%}"
