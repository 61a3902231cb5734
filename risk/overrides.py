"""Profiles and phases changed by the operator: a TOML file (`RISK_PROFILES_FILE`) over the documented defaults.

Only the values written in the file change; everything else keeps its default (docs/RISK.md lists them all).
A bad value stops the start with a sentence naming it, rather than trading on a limit nobody meant.

    [profiles.moderate]
    risk_per_trade = 0.008
    strategies = ["ema_cross", "donchian_breakout"]

    [phases.limited]
    max_capital = 3000
    max_users = 25
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.domain.enums import RiskProfileName
from risk.phases import DEFAULT_PHASES, PhaseName, RolloutPhase
from risk.profiles import DEFAULT_PROFILES, RiskProfile

# fractions of equity or of a price; zero turns the rule off where that makes sense
POSITIVE_FRACTIONS = frozenset(
    {
        "risk_per_trade",
        "max_position_size",
        "max_symbol_exposure",
        "max_total_exposure",
        "daily_loss_limit",
        "max_drawdown",
        "stop_loss",
        "take_profit",
    }
)
OPTIONAL_FRACTIONS = frozenset({"trailing_stop", "trailing_activation", "break_even_after"})
PROFILE_COUNTS = frozenset({"max_open_positions", "cooldown_after_losses", "cooldown_minutes", "max_holding_hours"})
PROFILE_FIELDS = POSITIVE_FRACTIONS | OPTIONAL_FRACTIONS | PROFILE_COUNTS | {"summary", "strategies"}
PHASE_FIELDS = frozenset({"min_capital", "max_capital", "max_users", "profiles", "needs_invite"})


class RiskFileError(ValueError):
    """The risk file asks for something that cannot be right; the message names the value."""


@dataclass(frozen=True, slots=True)
class RiskTables:
    profiles: dict[str, RiskProfile]  # by profile name
    phases: dict[PhaseName, RolloutPhase]


def default_tables() -> RiskTables:
    return RiskTables({name.value: p for name, p in DEFAULT_PROFILES.items()}, dict(DEFAULT_PHASES))


def load_risk_file(path: Path | None) -> RiskTables:
    """The defaults, changed by the file at `path` when there is one."""
    if path is None:
        return default_tables()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RiskFileError(f"RISK_PROFILES_FILE {path}: {error}") from error
    return apply_overrides(data)


def apply_overrides(data: Mapping[str, Any]) -> RiskTables:
    """The defaults with `data` (the parsed file) applied; raises `RiskFileError` on anything wrong."""
    unknown = set(data) - {"profiles", "phases"}
    if unknown:
        raise RiskFileError(f"unknown section(s) {sorted(unknown)}: only [profiles.NAME] and [phases.NAME]")
    tables = default_tables()
    profiles = dict(tables.profiles)
    for name, values in _tables(data, "profiles", {p.value for p in RiskProfileName}).items():
        profiles[name] = _profile(profiles[name], values)
    phases = dict(tables.phases)
    for name, values in _tables(data, "phases", {p.value for p in PhaseName}).items():
        phases[PhaseName(name)] = _phase(phases[PhaseName(name)], values)
    return RiskTables(profiles, phases)


def _tables(data: Mapping[str, Any], section: str, names: set[str]) -> dict[str, Mapping[str, Any]]:
    found = data.get(section, {})
    if not isinstance(found, Mapping):
        raise RiskFileError(f"[{section}] must hold tables like [{section}.NAME]")
    for name, values in found.items():
        if name not in names:
            raise RiskFileError(f"{section}.{name}: unknown name (known: {', '.join(sorted(names))})")
        if not isinstance(values, Mapping):
            raise RiskFileError(f"{section}.{name} must be a table")
    return dict(found)


def _profile(base: RiskProfile, values: Mapping[str, Any]) -> RiskProfile:
    where = f"profiles.{base.name.value}"
    _no_unknown(where, values, PROFILE_FIELDS)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        at = f"{where}.{key}"
        if key in POSITIVE_FRACTIONS:
            changes[key] = _fraction(at, value, allow_zero=False)
        elif key in OPTIONAL_FRACTIONS:
            changes[key] = _fraction(at, value, allow_zero=True)
        elif key in PROFILE_COUNTS:
            changes[key] = _count(at, value)
        elif key == "strategies":
            changes[key] = frozenset(_strings(at, value))
        else:
            changes[key] = _string(at, value)
    profile = replace(base, **changes)
    if profile.max_open_positions < 1:
        raise RiskFileError(f"{where}.max_open_positions must be at least 1")
    if profile.max_position_size > profile.max_total_exposure:
        raise RiskFileError(f"{where}: max_position_size is larger than max_total_exposure")
    return profile


def _phase(base: RolloutPhase, values: Mapping[str, Any]) -> RolloutPhase:
    where = f"phases.{base.name.value}"
    _no_unknown(where, values, PHASE_FIELDS)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        at = f"{where}.{key}"
        if key in ("min_capital", "max_capital"):
            changes[key] = _amount(at, value)
        elif key == "max_users":
            changes[key] = _count(at, value) or None  # 0: no limit
        elif key == "needs_invite":
            if not isinstance(value, bool):
                raise RiskFileError(f"{at} must be true or false")
            changes[key] = value
        else:
            changes[key] = frozenset(_profile_name(at, v) for v in _strings(at, value))
    phase = replace(base, **changes)
    if phase.min_capital > phase.max_capital:
        raise RiskFileError(f"{where}: min_capital {phase.min_capital} is above max_capital {phase.max_capital}")
    if not phase.profiles:
        raise RiskFileError(f"{where}.profiles must name at least one profile")
    return phase


def _no_unknown(where: str, values: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = set(values) - known
    if unknown:
        raise RiskFileError(f"{where}: unknown setting(s) {sorted(unknown)} (known: {', '.join(sorted(known))})")


def _number(at: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RiskFileError(f"{at} must be a number, got {value!r}")
    return Decimal(value)


def _fraction(at: str, value: Any, *, allow_zero: bool) -> Decimal:
    number = _number(at, value)
    if number > 1 or number < 0 or (number == 0 and not allow_zero):
        low = "0" if allow_zero else "more than 0"
        raise RiskFileError(f"{at} must be a fraction from {low} to 1 (0.02 is 2%), got {number}")
    return number


def _count(at: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RiskFileError(f"{at} must be a whole number of 0 or more, got {value!r}")
    return value


def _amount(at: str, value: Any) -> Decimal:
    number = _number(at, value)
    if number <= 0:
        raise RiskFileError(f"{at} must be a positive amount, got {number}")
    return number


def _string(at: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RiskFileError(f"{at} must be text, got {value!r}")
    return value


def _strings(at: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RiskFileError(f'{at} must be a list of names, like ["ema_cross"]')
    return list(value)


def _profile_name(at: str, value: str) -> Any:
    try:
        return RiskProfileName(value)
    except ValueError:
        raise RiskFileError(f"{at}: unknown profile {value!r}") from None
