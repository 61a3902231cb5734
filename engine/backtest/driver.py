"""The event-skipping driver: the engine's own market step, run only at the candles where something can happen.

A replay runs `TradingEngine.process_step` on every candle. Most candles change nothing: no strategy signals,
no open position's exit can trigger, no day begins. The driver finds the next candle where one of those may
happen and closes the candles before it at once (`ReplayFeed.skip_to`): the candle before the event is
stepped with the skipped ones folded into its bar (so the monitor sees their highs and moves stops as it
would have), then the event's candle is stepped on its own (so its fills see its own open, high and low).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.backtest.exit_search import ExitForecast, ExitPlan, forecast_exit
from engine.backtest.signals import PrecomputedRunner
from engine.domain.ids import Symbol
from engine.domain.positions import Position
from engine.market_data.candles import timeframe_ms
from engine.market_data.replay import ReplayFeed
from engine.runtime import TradingEngine

DAY_MS = 86_400_000

Progress = Callable[[int, int], None]  # candles done, candles in all


class EventDriver:
    def __init__(
        self,
        engine: TradingEngine,
        feed: ReplayFeed,
        runner: PrecomputedRunner,
        on_progress: Progress | None = None,
    ) -> None:
        self._engine = engine
        self._feed = feed
        self._runner = runner
        self._on_progress = on_progress
        self._step_ms = timeframe_ms(feed.timeframe)
        self._ticks = {symbol: float(engine.paper.market(symbol).price_step) for symbol in feed.symbols}
        self.steps = 0
        self._forecasts: dict[tuple[int | None, Symbol, tuple[float, ...]], ExitForecast] = {}

    async def run(self) -> None:
        signal_times = self._runner.signal_times()
        feed = self._feed
        while not feed.is_finished:
            cursor = feed.cursor_ms
            target, may_exit = await self._next_event(cursor, signal_times)
            if target is None:
                feed.skip_to(feed.end_ms + self._step_ms)
                break
            if target > cursor and may_exit:
                feed.skip_to(target - self._step_ms)
                await self._step()  # the candle before the event, with every skipped one in its bar
            else:  # no exit can trigger on the event's candle: the skipped ones can share its bar
                feed.skip_to(target)
            await self._step()
            self._report()
        self._report()

    async def _step(self) -> None:
        step = self._feed.advance()
        if step is not None:
            await self._engine.process_step(step, self._feed.candles)
            self.steps += 1

    async def _next_event(self, cursor: int, signal_times: np.ndarray) -> tuple[int | None, bool]:
        """The open time of the first candle at or after `cursor` where something can happen (None: nothing
        will), and whether an exit could trigger on it (its bar must then be its own: a stop filled at its
        open when it gapped)."""
        candidates = [self._next_day(cursor)]
        index = int(np.searchsorted(signal_times, cursor))
        if index < signal_times.shape[0]:
            candidates.append(int(signal_times[index]))
        exits = await self._next_exit(cursor, min(candidates))
        found = min(candidates) if exits is None else min(*candidates, exits)
        return (found, found == exits) if found <= self._feed.end_ms else (None, False)

    def _next_day(self, cursor: int) -> int:
        """The first candle whose step falls on a later UTC day than the last step (the engine rolls the day)."""
        last_step_ms = int(self._engine.clock.now().timestamp() * 1000)
        midnight = (last_step_ms // DAY_MS + 1) * DAY_MS
        candles = max(0, -(-(midnight - self._step_ms - cursor) // self._step_ms))
        return cursor + candles * self._step_ms

    async def _next_exit(self, cursor: int, before: int) -> int | None:
        """The first candle before `before` where an open position could exit (None if none), or `cursor` when a
        resting order is not a position's stop (no search knows its rules: every candle is stepped while it
        rests)."""
        engine = self._engine
        async with engine.uow() as uow:
            positions = [p for p in await uow.positions.all_open() if p.qty > 0]
            resting = await uow.paper.open_orders()
            users = await uow.users.get_many(list({p.user_id for p in positions}))
        stops = {p.stop_order_id for p in positions if p.stop_order_id}
        if any(order.client_order_id not in stops for _, order in resting):
            return cursor
        profiles = engine.system.profiles
        found: int | None = None
        for position in positions:
            user = users.get(position.user_id)
            profile = profiles.get(user.profile.value) if user and user.profile else None
            series = self._feed.full_series(position.symbol)
            start, until = (int(i) for i in np.searchsorted(series.ts, [cursor, before]))
            index = self._first_exit(position, ExitPlan.of(position, profile), start, until)
            if index is not None:
                at = int(series.ts[index])
                found = at if found is None else min(found, at)
        return found

    def _first_exit(self, position: Position, plan: ExitPlan, start: int, until: int) -> int | None:
        """The first candle where `position` could exit: the last forecast while the position evolved as it said
        (nothing but skipped candles happened), else a new search."""
        key = (position.id, position.symbol, plan.rules)
        tick = self._ticks[position.symbol]
        forecast = self._forecasts.get(key)
        if forecast is None or not forecast.holds_for(plan, start, until, tick):
            series = self._feed.full_series(position.symbol)
            forecast = forecast_exit(plan, series, start, self._step_ms / 1000, tick, until)
            if len(self._forecasts) > 10_000:
                self._forecasts.clear()
            self._forecasts[key] = forecast
        return forecast.index

    def _report(self) -> None:
        if self._on_progress is not None:
            done, total = self._feed.progress
            self._on_progress(done, total)
