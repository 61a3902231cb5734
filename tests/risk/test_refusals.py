"""Every refusal code: a situation that produces it, the sentence the user reads, and nothing else refused.

`CASES` must name every code of the catalog; a new code without a case here fails `test_every_code_has_a_case`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.domain.enums import RiskProfileName, TradingState
from engine.domain.ids import Symbol
from engine.domain.signals import Refusal
from risk.checks import no_market, vet_entry
from risk.phases import DEFAULT_PHASES, PhaseName
from risk.refusals import CODES, SENTENCES, refusal
from tests.factories import ADA, ETH, T0
from tests.risk.builders import MODERATE, holding, proposal, snapshot

INTERNAL = DEFAULT_PHASES[PhaseName.INTERNAL]


def _vet(**changes: object) -> Callable[[], tuple[Refusal, ...]]:
    """Vet the standard proposal against a snapshot changed by the snapshot fields in `changes` and the
    proposal fields given as `p_*`."""
    s = {k: v for k, v in changes.items() if not k.startswith("p_")}
    p = {k[2:]: v for k, v in changes.items() if k.startswith("p_")}
    return lambda: vet_entry(snapshot(**s), proposal(**p))


CASES: dict[str, tuple[Callable[[], tuple[Refusal, ...]], str]] = {
    "user_paused": (_vet(is_paused=True), "You paused trading"),
    "user_halted": (
        _vet(trading_state=TradingState.HALTED, state_reason="your account fell 16% from its peak"),
        "Your account is halted: your account fell 16% from its peak.",
    ),
    "user_reducing": (
        _vet(trading_state=TradingState.REDUCING, state_reason="today's loss reached your limit"),
        "only closes positions for now: today's loss reached your limit",
    ),
    "system_paused": (
        _vet(system_state=TradingState.REDUCING, is_system_paused_by_admin=True),
        "paused for everyone by the operators",
    ),
    "system_reducing": (
        _vet(system_state=TradingState.REDUCING, system_reason="5 users tripped a circuit breaker"),
        "(5 users tripped a circuit breaker)",
    ),
    "account_reduce_only": (_vet(is_reduce_only=True), "reduce-only mode"),
    "capital_bounds": (
        _vet(capital=Decimal(6000), equity=Decimal(6000), free_cash=Decimal(6000), day_start_equity=Decimal(6000)),
        "capital must be between $100 and $5,000; you have $6,000.00",
    ),
    "profile_not_allowed": (
        _vet(phase=replace(INTERNAL, min_capital=Decimal(100), max_capital=Decimal(5000))),
        "The moderate profile is not open during the internal phase (allowed: conservative).",
    ),
    "phase_full": (
        lambda: tuple(r for r in (INTERNAL.admission_refusal(onboarded_users=5),) if r is not None),
        "The internal phase is full (5 people)",
    ),
    "strategy_not_in_profile": (_vet(p_strategy="martingale"), "The martingale strategy is not part of your moderate"),
    "no_market": (lambda: (no_market(Symbol("XYZ/USDT")),), "XYZ/USDT cannot be traded on your account right now"),
    "duplicate_signal": (_vet(recent_signal_keys=frozenset({"sig-1"})), "already acted on"),
    "already_in_position": (
        _vet(positions=(holding(ETH, "0.05"),), p_qty=Decimal("0.05")),
        "You already hold ETH/USDT",
    ),
    "price_sanity": (_vet(p_signal_price=Decimal(900)), "The signal's price (900) is 11.1% away from the market"),
    "price_missing": (_vet(p_signal_price=Decimal(0)), "no usable price"),
    "max_open_positions": (
        _vet(positions=tuple(holding(Symbol(f"C{i}/USDT"), "10") for i in range(5))),
        "You already hold 5 positions, the most your moderate profile allows.",
    ),
    "max_position_size": (
        _vet(
            profile=replace(MODERATE, max_symbol_exposure=Decimal("0.5"), max_total_exposure=Decimal("0.9")),
            p_qty=Decimal("0.25"),
        ),
        "This order ($250.00) is larger than one position may be ($200.00).",
    ),
    "max_symbol_exposure": (
        _vet(profile=replace(MODERATE, max_symbol_exposure=Decimal("0.05"))),
        "It would put $100.00 in ETH/USDT; your profile allows at most $50.00 in one coin.",
    ),
    "max_total_exposure": (
        _vet(positions=(holding(ADA, "550"),), free_cash=Decimal(450)),
        "It would put $650.00 in the market in total; your profile allows at most $600.00.",
    ),
    "daily_loss_limit": (
        _vet(day_start_equity=Decimal(1050), equity=Decimal(1000), peak_equity=Decimal(1050)),
        "Today's loss ($50.00) reached your daily limit ($42.00)",
    ),
    "max_drawdown": (
        _vet(peak_equity=Decimal(1200), equity=Decimal(1000), day_start_equity=Decimal(1000)),
        "Your account is 16.7% below its peak, past your 15% drawdown limit.",
    ),
    "cooldown": (
        _vet(cooldown_until=T0 + timedelta(minutes=30)),
        "After 3 losing trades in a row the bot waits; 31 min left.",
    ),
    "below_min_notional": (
        _vet(p_qty=Decimal("0.004")),
        "The position your limits allow ($4.00) is below the exchange minimum ($5.00) for ETH/USDT.",
    ),
    "insufficient_balance": (_vet(free_cash=Decimal(50)), "The order needs $100.10 with fees; you have $50.00 free."),
}


def test_every_code_has_a_case_and_a_sentence() -> None:
    assert set(CASES) == CODES
    assert all(SENTENCES[code].strip() for code in CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_is_given_with_its_sentence_and_alone(code: str) -> None:
    # Arrange
    vet, expected_text = CASES[code]
    # Act
    refusals = vet()
    # Assert
    assert [r.code for r in refusals] == [code]
    (found,) = refusals
    assert expected_text in found.message
    assert "{" not in found.message and "}" not in found.message


def test_a_healthy_entry_is_accepted() -> None:
    assert vet_entry(snapshot(), proposal()) == ()


def test_every_reason_is_given_at_once() -> None:
    refusals = vet_entry(snapshot(is_paused=True, free_cash=Decimal(10)), proposal(signal_price=Decimal(500)))
    assert [r.code for r in refusals] == ["user_paused", "price_sanity", "insufficient_balance"]


def test_a_reducing_state_whose_time_is_over_still_reads_from_the_snapshot() -> None:
    """The check trusts the snapshot's state; the pipeline passes the state as of `now` (tested in the engine)."""
    refusals = vet_entry(snapshot(trading_state=TradingState.REDUCING), proposal())
    assert [r.code for r in refusals] == ["user_reducing"]
    assert "a circuit breaker tripped" in refusals[0].message


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        refusal("made_up")


def test_the_conservative_profile_outside_the_internal_phase_is_fine() -> None:
    conservative = replace(MODERATE, name=RiskProfileName.CONSERVATIVE)
    assert vet_entry(snapshot(profile=conservative, phase=INTERNAL, capital=Decimal(400)), proposal()) == ()


def test_docs_list_every_refusal_code() -> None:
    text = (Path(__file__).parents[2] / "docs" / "RISK.md").read_text(encoding="utf-8")
    assert [code for code in sorted(CODES) if f"`{code}`" not in text] == []
