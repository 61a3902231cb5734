from __future__ import annotations

from decimal import Decimal

import numpy as np

from engine.clock import SimClock
from engine.market_data.candles import fill_gaps, load_recorded, recorded_series
from engine.market_data.replay import ReplayFeed, ms_to_datetime
from engine.strategies.base import ENTER, EXIT, StrategyRunner
from engine.strategies.ema_cross import EmaCrossover


def eth():
    (series,) = [s for s in recorded_series() if s.symbol == "ETH/BTC"]
    return load_recorded(series)


def test_recorded_data_is_packaged_and_gap_filled_on_a_regular_grid():
    candles = eth()
    assert len(candles) == 5760
    assert np.all(np.diff(candles.ts) == 300_000)
    assert candles.price(candles.close, 0) == Decimal("0.0994766")


def test_gaps_become_flat_candles_at_the_previous_close():
    full = eth()
    holed = full.slice(0, 10)
    keep = np.array([0, 1, 2, 5, 6, 7, 8, 9])
    from engine.market_data.candles import Candles

    sparse = Candles(
        holed.symbol,
        holed.timeframe,
        holed.ts[keep],
        holed.open[keep],
        holed.high[keep],
        holed.low[keep],
        holed.close[keep],
        holed.volume[keep],
    )
    filled = fill_gaps(sparse)
    assert len(filled) == 10
    assert filled.open[3] == filled.high[4] == filled.close[4] == holed.close[2]
    assert filled.volume[3] == 0.0


def test_incremental_signals_equal_the_whole_series_run_bit_for_bit():
    candles = eth()
    strategy = EmaCrossover(12, 26, "5m")
    whole, _ = strategy.evaluate(candles, None)
    state = None
    pieces = []
    for end in range(1, len(candles) + 1, 37):
        actions, state = strategy.evaluate(candles.head(min(end + 36, len(candles))), state)
        pieces.append(actions)
    assert np.array_equal(np.concatenate(pieces), whole)
    assert (whole == ENTER).sum() > 50 and (whole == EXIT).sum() > 50
    assert not whole[: strategy.slow].any()  # nothing before the slow EMA exists


def test_replay_closes_candles_in_order_and_the_price_moves_to_the_next_open():
    candles = eth()
    clock = SimClock(ms_to_datetime(int(candles.ts[0])))
    feed = ReplayFeed([candles], clock, warmup=30)
    step = feed.advance()
    assert step is not None and step.closed == {candles.symbol: 30}
    assert clock.now() == ms_to_datetime(int(candles.ts[30]) + 300_000)
    assert feed.last_price(candles.symbol) == candles.price(candles.open, 31)
    assert len(feed.candles(candles.symbol)) == 31
    bars = feed.take_bars()
    assert bars[candles.symbol].low == candles.price(candles.low, 30)
    assert feed.take_bars() == {}


def test_the_runner_turns_the_last_candle_into_one_signal_with_a_reason():
    candles = eth()
    strategy = EmaCrossover(12, 26, "5m")
    whole, _ = strategy.evaluate(candles, None)
    first_entry = int(np.argmax(whole == ENTER))
    runner = StrategyRunner([strategy], SimClock(ms_to_datetime(int(candles.ts[0]))))
    produced = [runner.on_close(candles.head(i + 1)) for i in range(first_entry + 1)]
    assert all(not p for p in produced[:-1])
    (signal,) = produced[-1]
    assert signal.action.value == "enter" and signal.price == candles.price(candles.close, first_entry)
    assert "crossed above" in signal.rationale
