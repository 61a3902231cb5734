"""The built-in rule strategies on the recorded candles: resumable bit for bit, causal, and explained."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import SimClock
from engine.domain.enums import SignalAction
from engine.market_data.candles import Candles, load_recorded, recorded_series
from engine.strategies.base import ENTER, EXIT, StrategyRunner
from engine.strategies.catalog import RULES, builtin_rules, rule_strategy
from engine.strategies.donchian import DonchianBreakout
from engine.strategies.indicators import AtrState, RsiState, atr, rsi
from engine.strategies.rsi_reversion import RsiReversion
from risk.sizing import entry_exit_prices
from tests.factories import ETH_MARKET

WILDER_CLOSES = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28]
WILDER_CLOSES += [46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03]


@cache
def recorded() -> dict[str, Candles]:
    return {s.symbol: load_recorded(s) for s in recorded_series()}


def in_pieces(strategy, candles: Candles, sizes: list[int]) -> np.ndarray:
    """Evaluate as a live feed would: a few candles at a time, resuming the state each time."""
    state, pieces, end, turn = None, [], 0, 0
    while end < len(candles):
        end = min(len(candles), end + sizes[turn % len(sizes)])
        actions, state = strategy.evaluate(candles.head(end), state)
        pieces.append(actions)
        turn += 1
    return np.concatenate(pieces)


def reference_rsi(closes: list[float], period: int) -> list[float]:
    """Wilder's RSI written the textbook way, as a check on the resumable one."""
    out = [math.nan] * len(closes)
    gains = [max(b - a, 0.0) for a, b in itertools.pairwise(closes)]
    losses = [max(a - b, 0.0) for a, b in itertools.pairwise(closes)]
    average_gain, average_loss = sum(gains[:period]) / period, sum(losses[:period]) / period
    for i in range(period, len(gains) + 1):
        if i > period:
            average_gain = (average_gain * (period - 1) + gains[i - 1]) / period
            average_loss = (average_loss * (period - 1) + losses[i - 1]) / period
        total = average_gain + average_loss
        out[i] = 100.0 * (average_gain / total) if total else 50.0
    return out


def test_rsi_matches_wilders_definition_and_the_hand_computed_first_value():
    values, _ = rsi(np.array(WILDER_CLOSES), RsiState(14))
    assert np.isnan(values[:14]).all()
    assert values[14] == pytest.approx(100 * (3.34 / 14) / (4.74 / 14), abs=1e-9)  # 70.46: gains 3.34, losses 1.40
    assert np.allclose(values[14:], reference_rsi(WILDER_CLOSES, 14)[14:], rtol=0, atol=1e-9)


def test_a_flat_stretch_reads_neutral_not_oversold():
    values, _ = rsi(np.full(30, 0.05), RsiState(14))
    assert (values[14:] == 50.0).all()


def test_atr_is_wilders_average_of_true_ranges():
    candles = recorded()["ETH/BTC"].head(200)
    values, _ = atr(candles.high, candles.low, candles.close, AtrState(14))
    high, low, close = candles.high, candles.low, candles.close
    true_range = np.maximum(high[1:] - low[1:], np.maximum(abs(high[1:] - close[:-1]), abs(low[1:] - close[:-1])))
    expected = true_range[:14].mean()
    assert np.isnan(values[:14]).all() and values[14] == pytest.approx(expected, rel=1e-12)
    expected = (expected * 13 + true_range[14]) / 14
    assert values[15] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", list(RULES))
def test_incremental_signals_equal_the_whole_series_bit_for_bit_on_every_recorded_series(name: str):
    for symbol, candles in recorded().items():
        strategy = rule_strategy(name, candles.timeframe)
        whole, _ = strategy.evaluate(candles, None)
        assert np.array_equal(in_pieces(strategy, candles, [1]), whole), symbol
        assert np.array_equal(in_pieces(strategy, candles, [37, 1, 250, 3]), whole), symbol
        assert (whole == ENTER).sum() >= 5 and (whole == EXIT).sum() >= 5, symbol
        assert not whole[: strategy.warmup - 1].any(), symbol


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=8), name=st.sampled_from(list(RULES))
)
def test_any_split_of_the_feed_gives_the_same_signals(sizes: list[int], name: str):
    candles = recorded()["LTC/BTC"].head(1500)
    strategy = rule_strategy(name, candles.timeframe)
    whole, _ = strategy.evaluate(candles, None)
    assert np.array_equal(in_pieces(strategy, candles, sizes), whole)


def test_rsi_reversion_enters_on_the_climb_out_of_oversold_and_exits_at_the_recovery_level():
    candles = recorded()["ETH/BTC"]
    strategy = RsiReversion(period=14, oversold=30, exit_level=55)
    actions, _ = strategy.evaluate(candles, None)
    values, _ = rsi(candles.close, RsiState(14))
    entries, exits = np.flatnonzero(actions == ENTER), np.flatnonzero(actions == EXIT)
    assert all(values[i - 1] < 30 <= values[i] for i in entries)
    assert all(values[i - 1] < 55 <= values[i] for i in exits)
    sequence = actions[actions != 0]
    assert (sequence[::2] == ENTER).all() and (sequence[1::2] == EXIT).all()  # entries and exits alternate


def test_donchian_enters_on_a_close_above_the_channel_and_exits_below_the_exit_channel():
    candles = recorded()["XMR/BTC"]
    strategy = DonchianBreakout(entry_period=20, exit_period=10)
    actions, _ = strategy.evaluate(candles, None)
    high, low, close = candles.high, candles.low, candles.close
    assert all(close[i] > high[i - 20 : i].max() for i in np.flatnonzero(actions == ENTER))
    assert all(close[i] < low[i - 10 : i].min() for i in np.flatnonzero(actions == EXIT))
    sequence = actions[actions != 0]
    assert (sequence[::2] == ENTER).all() and (sequence[1::2] == EXIT).all()


@pytest.mark.parametrize("name", list(RULES))
def test_entries_carry_a_stop_below_and_a_target_above_the_price_a_strength_and_a_reason(name: str):
    candles = recorded()["DASH/BTC"]
    strategy = rule_strategy(name, candles.timeframe)
    whole, _ = strategy.evaluate(candles, None)
    runner = StrategyRunner([strategy], SimClock(datetime(2018, 1, 1, tzinfo=UTC)))
    entries = np.flatnonzero(whole == ENTER)[:3].tolist()
    exit_index = int(np.flatnonzero(whole == EXIT)[0])
    last = max(entries[-1], exit_index)
    signals = {i: signal for i in range(last + 1) for signal in runner.on_close(candles.head(i + 1))}
    assert sorted(signals) == np.flatnonzero(whole[: last + 1]).tolist()
    for i in entries:
        signal = signals[i]
        assert signal.action is SignalAction.ENTER and signal.price == candles.price(candles.close, i)
        assert signal.stop_price is not None and signal.take_profit is not None
        assert signal.price * Decimal("0.75") <= signal.stop_price < signal.price < signal.take_profit
        assert Decimal(0) <= signal.strength <= Decimal(1)
        assert str(signal.price) in signal.rationale
    leave = signals[exit_index]
    assert leave.action is SignalAction.EXIT and leave.stop_price is None and leave.rationale


def test_a_disabled_strategy_keeps_its_state_but_signals_nothing():
    candles = recorded()["ETH/BTC"]
    strategies = builtin_rules(candles.timeframe)
    runner = StrategyRunner(strategies, SimClock(datetime(2018, 1, 1, tzinfo=UTC)))
    runner.set_enabled(strategies[1].id, False)
    produced = [s for i in range(300, 900) for s in runner.on_close(candles.head(i + 1))]
    assert produced and {s.strategy for s in produced} <= {strategies[0].id, strategies[2].id}
    assert {s.strategy for s in produced} == {strategies[0].id, strategies[2].id}


def test_the_profile_may_tighten_a_suggested_stop_but_never_widen_it():
    price = Decimal("1000")
    tight, target = entry_exit_prices(price, Decimal("0.03"), Decimal("0.06"), ETH_MARKET, Decimal("985.123"), None)
    assert tight == Decimal("985.12") and target == Decimal("1060.00")
    wide, _ = entry_exit_prices(price, Decimal("0.03"), Decimal("0.06"), ETH_MARKET, Decimal("900"), Decimal("1020"))
    assert wide == Decimal("970.00")
    nonsense, target = entry_exit_prices(price, Decimal("0.03"), Decimal("0.06"), ETH_MARKET, Decimal("1001"), price)
    assert nonsense == Decimal("970.00") and target == Decimal("1060.00")


@pytest.mark.parametrize("name", list(RULES))
def test_evaluating_again_without_new_candles_changes_nothing(name: str):
    candles = recorded()["ETC/BTC"].head(700)
    strategy = rule_strategy(name, candles.timeframe)
    _, state = strategy.evaluate(candles, None)
    actions, again = strategy.evaluate(candles, state)
    assert actions.shape == (0,) and repr(again) == repr(state)


def test_an_ema_crossover_made_not_to_suggest_exits_leaves_stop_and_target_to_the_profile():
    candles = load_recorded(next(s for s in recorded_series() if s.symbol == "LTC/BTC"))
    clock = SimClock(datetime(2018, 1, 1, tzinfo=UTC))
    quiet, hinting = rule_strategy("ema_cross", "5m", suggest_exits=False), rule_strategy("ema_cross", "5m")
    whole, _ = quiet.evaluate(candles, None)
    first_entry = int(np.argmax(whole == ENTER))
    (signal,) = StrategyRunner([quiet], clock).on_close(candles.head(first_entry + 1))
    (hinted,) = StrategyRunner([hinting], clock).on_close(candles.head(first_entry + 1))
    assert signal.stop_price is None and signal.take_profit is None
    assert hinted.stop_price is not None and hinted.take_profit is not None
    assert signal.strength == hinted.strength and np.array_equal(whole, hinting.evaluate(candles, None)[0])
