"""The recorded markets offered by the replay: which series, in which quote currency, with which trading rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from engine.clock import SimClock
from engine.domain.accounts import Market
from engine.domain.ids import Symbol, split_symbol
from engine.errors import ConfigurationError
from engine.market_data.candles import Candles, load_recorded, recorded_series
from engine.market_data.replay import ReplayFeed

REPLAY_PRICE_STEP = Decimal("0.00001")
MIN_NOTIONAL = Decimal(5)  # like Binance spot's 5 USDT


def load_replay_series(symbols: Sequence[Symbol], timeframe: str, quote: str, rate: Decimal) -> list[Candles]:
    """Load the recorded series for `symbols` (named in `quote`), re-quoted from BTC at `rate`."""
    available = {(s.symbol.split("/")[0], s.timeframe): s for s in recorded_series()}
    loaded = []
    for symbol in symbols:
        base, wanted_quote = split_symbol(symbol)
        series = available.get((base, timeframe))
        if series is None or wanted_quote != quote:
            names = sorted(f"{b}/{quote}" for b, tf in available if tf == timeframe)
            raise ConfigurationError(f"no recorded {timeframe} candles for {symbol}; available: {', '.join(names)}")
        step = REPLAY_PRICE_STEP if rate != 1 else Decimal("1e-8")
        loaded.append(load_recorded(series, quote=quote, quote_rate=rate, price_step=step))
    return loaded


def replay_markets(series: Sequence[Candles], quote: str) -> dict[Symbol, Market]:
    """Trading rules shaped like Binance's: one quantity step is worth at most about one quote unit."""
    markets = {}
    for candles in series:
        base, _ = split_symbol(candles.symbol)
        typical = float(candles.close[len(candles) // 2]) or 1.0
        amount_step = Decimal(1).scaleb(math.floor(math.log10(1.0 / typical)))
        amount_step = min(amount_step, Decimal(1))
        price_step = REPLAY_PRICE_STEP if quote != "BTC" else Decimal("1e-8")
        markets[candles.symbol] = Market(
            symbol=candles.symbol,
            base=base,
            quote=quote,
            price_step=price_step,
            amount_step=amount_step,
            min_qty=amount_step,
            min_notional=MIN_NOTIONAL if quote != "BTC" else Decimal("0.0001"),
        )
    return markets


def build_replay(series: Sequence[Candles], clock: SimClock, warmup: int, resume_ms: int | None = None) -> ReplayFeed:
    return ReplayFeed(series, clock, warmup=warmup, resume_ms=resume_ms)
