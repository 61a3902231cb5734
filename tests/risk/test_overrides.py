"""RISK_PROFILES_FILE: the operator changes some values; the rest keep the documented defaults; a wrong value
stops the start with a sentence naming it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import load_settings
from engine.domain.enums import RiskProfileName
from risk.overrides import PHASE_FIELDS, PROFILE_FIELDS, RiskFileError, load_risk_file
from risk.phases import DEFAULT_PHASES, PhaseName, RolloutPhase
from risk.profiles import DEFAULT_PROFILES, RiskProfile

DOCS = Path(__file__).parents[2] / "docs" / "RISK.md"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "risk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_the_defaults_are_in_force() -> None:
    tables = load_risk_file(None)
    assert tables.profiles == {name.value: p for name, p in DEFAULT_PROFILES.items()}
    assert tables.phases == DEFAULT_PHASES


def test_the_file_changes_only_what_it_names(tmp_path: Path) -> None:
    # Arrange
    path = _file(
        tmp_path,
        """
        [profiles.moderate]
        risk_per_trade = 0.008
        max_open_positions = 4
        strategies = ["ema_cross", "donchian_breakout"]

        [phases.limited]
        max_capital = 3000
        max_users = 0
        profiles = ["conservative", "moderate"]
        """,
    )
    # Act
    tables = load_risk_file(path)
    # Assert
    moderate = tables.profiles["moderate"]
    assert moderate.risk_per_trade == Decimal("0.008") and isinstance(moderate.risk_per_trade, Decimal)
    assert moderate.max_open_positions == 4
    assert moderate.strategies == frozenset({"ema_cross", "donchian_breakout"})
    assert moderate.max_drawdown == DEFAULT_PROFILES[RiskProfileName.MODERATE].max_drawdown
    assert tables.profiles["aggressive"] == DEFAULT_PROFILES[RiskProfileName.AGGRESSIVE]
    limited = tables.phases[PhaseName.LIMITED]
    assert limited.max_capital == Decimal(3000) and limited.max_users is None
    assert limited.profiles == {RiskProfileName.CONSERVATIVE, RiskProfileName.MODERATE}
    assert limited.min_capital == DEFAULT_PHASES[PhaseName.LIMITED].min_capital


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.moderate]\nmax_drawdown = 15", "profiles.moderate.max_drawdown must be a fraction"),
        ("[profiles.moderate]\nrisk_per_trade = 0", "profiles.moderate.risk_per_trade must be a fraction"),
        ("[profiles.moderate]\nmax_open_positions = 0", "max_open_positions must be at least 1"),
        ("[profiles.moderate]\nmax_open_positions = 2.5", "must be a whole number"),
        ("[profiles.moderate]\nstop_los = 0.02", "unknown setting(s) ['stop_los']"),
        ("[profiles.yolo]\nrisk_per_trade = 0.5", "profiles.yolo: unknown name"),
        ('[profiles.moderate]\nstrategies = "ema_cross"', "must be a list of names"),
        ("[profiles.moderate]\nmax_position_size = 0.9\nmax_total_exposure = 0.5", "larger than max_total_exposure"),
        ("[phases.open]\nmin_capital = 9000", "min_capital 9000 is above max_capital 5000"),
        ('[phases.open]\nprofiles = ["reckless"]', "unknown profile 'reckless'"),
        ('[phases.open]\nneeds_invite = "no"', "must be true or false"),
        ("[limits]\nx = 1", "unknown section(s) ['limits']"),
        ("[profiles.moderate\n", "RISK_PROFILES_FILE"),
    ],
)
def test_a_wrong_value_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RiskFileError) as raised:
        load_risk_file(_file(tmp_path, text))
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RiskFileError, match="RISK_PROFILES_FILE"):
        load_risk_file(tmp_path / "absent.toml")


def test_settings_read_the_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, "[profiles.conservative]\ndaily_loss_limit = 0.01\n")
    monkeypatch.setenv("RISK_PROFILES_FILE", str(path))
    monkeypatch.setenv("RISK_TRAILING_MIN_STEP", "0.005")
    settings = load_settings(_env_file=None)
    assert settings.risk.trailing_min_step == Decimal("0.005")
    assert settings.risk.tables().profiles["conservative"].daily_loss_limit == Decimal("0.01")


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    fields = {f.name for f in dataclasses.fields(RiskProfile)} - {"name"}
    assert fields == PROFILE_FIELDS
    assert {f.name for f in dataclasses.fields(RolloutPhase)} - {"name"} == PHASE_FIELDS
    from risk.config import RiskConfig

    env = {f"RISK_{name.upper()}" for name in RiskConfig.model_fields}
    missing = [name for name in sorted(fields | PHASE_FIELDS | env) if f"`{name}`" not in text]
    assert missing == []
