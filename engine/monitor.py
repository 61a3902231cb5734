"""The position monitor: one pass prices every open position, judges exits for all at once (vectorised),
closes what must close, moves trailing stops, and keeps each account's equity marks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import structlog

from engine.accounts_view import value_account
from engine.clock import Clock
from engine.domain.accounts import Market, User
from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose
from engine.domain.ids import AccountId, Symbol, UserId
from engine.domain.money import to_decimal
from engine.domain.positions import Position
from engine.domain.venue import PriceBar
from engine.gateways import GatewayRegistry
from engine.order_manager import OrderManager
from engine.ports import MarketFeed, UnitOfWorkFactory
from risk.profiles import RiskProfile
from risk.stops import ExitReason, PositionArrays, evaluate_exits

log = structlog.get_logger(__name__)

_PURPOSE = {
    ExitReason.STOP_LOSS: OrderPurpose.STOP_LOSS,
    ExitReason.TAKE_PROFIT: OrderPurpose.TAKE_PROFIT,
    ExitReason.TIME: OrderPurpose.TIME_EXIT,
}


@dataclass(frozen=True, slots=True)
class MonitorReport:
    positions: int
    exits: int
    stops_moved: int


class PositionMonitor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        orders: OrderManager,
        feed: MarketFeed,
        gateways: GatewayRegistry,
        clock: Clock,
        profiles: Callable[[], Mapping[str, RiskProfile]],
    ) -> None:
        self._uow = uow
        self._orders = orders
        self._feed = feed
        self._gateways = gateways
        self._clock = clock
        self._profiles = profiles

    async def run_pass(self, bars: Mapping[Symbol, PriceBar] | None = None) -> MonitorReport:
        bars = dict(bars if bars is not None else self._feed.take_bars())
        async with self._uow() as uow:
            positions = [p for p in await uow.positions.all_open() if p.qty > 0]
            users = await uow.users.get_many(list({p.user_id for p in positions}))
        priced = [p for p in positions if p.symbol in bars or self._feed.last_price(p.symbol) is not None]
        exits, moves, marks = self._judge(priced, users, bars)
        if marks:
            async with self._uow() as uow:
                await uow.positions.save_many(marks)
                await uow.commit()
        await self._orders.close_positions(exits)
        if moves:
            await self._orders.move_stops(moves)
        return MonitorReport(len(priced), len(exits), len(moves))

    async def mark_equity(self) -> None:
        """Roll each account's day at UTC midnight, raise equity peaks, and record an equity point per user."""
        now = self._clock.now()
        async with self._uow() as uow:
            users = {u.id: u for u in await uow.users.list() if u.is_onboarded}
            accounts = await uow.accounts.get_many_for_users(list(users))
            positions: dict[AccountId, list[Position]] = {}
            for p in await uow.positions.open_for_accounts([a.id for a in accounts]):
                positions.setdefault(p.account_id, []).append(p)
            points, rolled, peaked = [], [], []
            for account in accounts:
                user = users[account.user_id]
                equity = value_account(user, account, positions.get(account.id, []), self._feed).equity
                points.append((user.id, now, equity))
                if account.day_started_on != now.date():
                    rolled.append(replace(account, day_start_equity=equity, day_started_on=now.date()))
                if equity > user.peak_equity:
                    peaked.append(replace(user, peak_equity=equity))
            await uow.equity.add_many(points)
            await uow.accounts.save_many(rolled)
            for user in peaked:
                await uow.users.save(user)
            await uow.commit()

    def _judge(
        self, positions: list[Position], users: Mapping[UserId, User], bars: Mapping[Symbol, PriceBar]
    ) -> tuple[list[ClosePosition], list[tuple[Position, Decimal]], list[Position]]:
        if not positions:
            return [], [], []
        profiles = self._profiles()
        arrays, high, low, last = _columns(positions, users, profiles, bars, self._feed)
        verdicts = evaluate_exits(arrays, high, low, last, self._clock.now().timestamp())
        exits, moves, marks = [], [], []
        for i, position in enumerate(positions):
            reason = ExitReason(int(verdicts.reason[i]))
            user = users.get(position.user_id)
            if user is None:
                continue
            if reason is not ExitReason.NONE and not (reason is ExitReason.STOP_LOSS and position.stop_order_id):
                if user.trading_state.allows_exits:
                    exits.append(_close(position, reason, float(verdicts.trigger_price[i])))
                continue
            highest = to_decimal(float(verdicts.highest[i]))
            if highest > position.highest_price:
                marks.append(replace(position, highest_price=highest))
            if verdicts.stop_moved[i]:
                level = self._stop_level(position, float(verdicts.stop[i]))
                if level is not None and (position.stop_price is None or level > position.stop_price):
                    moves.append((replace(position, highest_price=max(highest, position.highest_price)), level))
        return exits, moves, marks

    def _stop_level(self, position: Position, raw: float) -> Decimal | None:
        market = self._market(position)
        if market is None or not np.isfinite(raw):
            return None
        return market.round_price(to_decimal(raw))

    def _market(self, position: Position) -> Market | None:
        for gateway in self._gateways.all():
            try:
                return gateway.market(position.symbol)
            except Exception:
                continue
        return None


def _close(position: Position, reason: ExitReason, trigger: float) -> ClosePosition:
    words = {ExitReason.STOP_LOSS: "stop-loss", ExitReason.TAKE_PROFIT: "take-profit", ExitReason.TIME: "time limit"}
    return ClosePosition(
        user_id=position.user_id,
        account_id=position.account_id,
        symbol=position.symbol,
        purpose=_PURPOSE[reason],
        reason=f"{words[reason]} reached at {to_decimal(trigger):f}",
        trigger_price=to_decimal(trigger),
    )


def _columns(
    positions: list[Position],
    users: Mapping[UserId, User],
    profiles: Mapping[str, RiskProfile],
    bars: Mapping[Symbol, PriceBar],
    feed: MarketFeed,
) -> tuple[PositionArrays, np.ndarray, np.ndarray, np.ndarray]:
    n = len(positions)
    nan = float("nan")
    columns = {
        name: np.full(n, nan) for name in ("entry", "stop", "tp", "highest", "trail", "act", "be", "opened", "hold")
    }
    high, low, last = np.empty(n), np.empty(n), np.empty(n)
    for i, p in enumerate(positions):
        user = users.get(p.user_id)
        profile = profiles.get(user.profile.value) if user and user.profile else None
        columns["entry"][i] = float(p.avg_entry)
        columns["stop"][i] = float(p.stop_price) if p.stop_price is not None else nan
        columns["tp"][i] = float(p.take_profit) if p.take_profit is not None else nan
        columns["highest"][i] = float(p.highest_price)
        columns["opened"][i] = p.opened_at.timestamp()
        if profile is not None:
            columns["trail"][i] = float(p.trailing_distance or profile.trailing_stop)
            columns["act"][i] = float(profile.trailing_activation)
            columns["be"][i] = float(profile.break_even_after)
            columns["hold"][i] = profile.max_holding_hours * 3600.0
        bar = bars.get(p.symbol)
        price = float(bar.last) if bar else float(feed.last_price(p.symbol) or p.avg_entry)
        high[i] = float(bar.high) if bar else price
        low[i] = float(bar.low) if bar else price
        last[i] = price
    columns["hold"] = np.where(np.isnan(columns["hold"]), np.inf, columns["hold"])
    arrays = PositionArrays(
        entry=columns["entry"],
        stop=columns["stop"],
        take_profit=columns["tp"],
        highest=columns["highest"],
        trailing_distance=columns["trail"],
        trailing_activation=columns["act"],
        break_even_after=columns["be"],
        opened_at=columns["opened"],
        max_holding=columns["hold"],
    )
    return arrays, high, low, last
