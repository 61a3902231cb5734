"""What the daily and weekly reports say, computed from the books (no rendering, no delivery).

- Each user's day: equity, the day's PnL (since 00:00 UTC, as /portfolio counts it), the day's trades, open
  positions with their unrealized PnL, and the equity marks of the last days for the chart.
- The admins' day: volume traded, average PnL per user, top strategies, errors and incidents, order success
  rate, exchange latency p50/p95, LLM cost against its budget.
- The weekly review: per strategy (the LLM agent is one), win rate, average reward/risk, expectancy, maximum
  drawdown — `engine.analytics` over the positions closed in the week.

Users are read in batches, so thousands of reports never hold every user's data at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from engine.accounts_view import AccountValue, ValuedPosition, value_account
from engine.analytics import TradeStats, trade_stats
from engine.clock import Clock, SystemClock
from engine.domain.accounts import User
from engine.domain.enums import UserStatus
from engine.domain.ids import UserId
from engine.domain.money import ZERO
from engine.domain.positions import Position
from engine.gateway_timing import GatewayTimings, LatencySummary
from engine.ports import (
    AlertRecord,
    FillRecord,
    LlmUsageSummary,
    OrderOutcomes,
    PriceSource,
    UnitOfWork,
    UnitOfWorkFactory,
)
from engine.strategy_control import LLM_AGENT

CHART_DAYS = 7  # the equity chart of a daily report
BATCH = 250  # users read and reported together


@dataclass(frozen=True, slots=True)
class UserDay:
    """One user's daily report."""

    user: User
    day_start: datetime
    at: datetime
    value: AccountValue
    fills: tuple[FillRecord, ...]
    closed: tuple[Position, ...]  # positions closed today
    equity_marks: tuple[tuple[datetime, Decimal], ...]  # hourly, the last days, ending with now

    @property
    def equity(self) -> Decimal:
        return self.value.equity

    @property
    def day_pnl(self) -> Decimal:
        return self.value.day_pnl

    @property
    def day_pnl_ratio(self) -> Decimal:
        start = self.value.equity - self.value.day_pnl
        return self.value.day_pnl / start if start > 0 else ZERO

    @property
    def realized_today(self) -> Decimal:
        return sum((p.net_realized_pnl for p in self.closed), start=ZERO)

    @property
    def open_positions(self) -> tuple[ValuedPosition, ...]:
        return self.value.positions

    def figures(self) -> dict[str, str | int]:
        return {
            "equity": str(self.equity),
            "day_pnl": str(self.day_pnl),
            "trades": len(self.fills),
            "open_positions": len(self.open_positions),
        }


@dataclass(frozen=True, slots=True)
class StrategyDay:
    strategy: str
    closed: int
    net_pnl: Decimal
    wins: int
    entries: int  # entry orders filled today


@dataclass(frozen=True, slots=True)
class AdminDay:
    """The admins' daily report."""

    day_start: datetime
    at: datetime
    users_active: int
    users_paused: int
    users_traded: int
    volume: Decimal  # quote currency (USDT, reported as USD)
    fills: int
    average_pnl_per_user: Decimal
    total_pnl: Decimal
    top_strategies: tuple[StrategyDay, ...]
    errors_by_source: dict[str, int]
    incidents: tuple[AlertRecord, ...]
    orders: OrderOutcomes
    latency: dict[str, LatencySummary]  # per exchange, the last 24 h
    llm: LlmUsageSummary | None  # today (UTC), None without the agent
    llm_budget: Decimal | None

    @property
    def errors(self) -> int:
        return sum(self.errors_by_source.values())

    def figures(self) -> dict[str, str | int | float]:
        return {
            "volume": str(self.volume),
            "average_pnl_per_user": str(self.average_pnl_per_user),
            "errors": self.errors,
            "incidents": len(self.incidents),
            "order_success_ratio": self.orders.success_ratio,
            "llm_cost_usd": str(self.llm.cost_usd) if self.llm else "0",
        }


@dataclass(frozen=True, slots=True)
class StrategyReview:
    strategy: str
    stats: TradeStats


@dataclass(frozen=True, slots=True)
class WeeklyReview:
    week_start: datetime
    at: datetime
    strategies: tuple[StrategyReview, ...]  # most profitable first
    overall: TradeStats
    agent: StrategyReview | None  # the LLM agent's trades (also among `strategies`)
    agent_usage: LlmUsageSummary | None  # its calls and cost over the week

    def figures(self) -> dict[str, str | int | float]:
        return {
            "trades": self.overall.trades,
            "win_rate": self.overall.win_rate,
            "expectancy": str(self.overall.expectancy),
            "strategies": len(self.strategies),
        }


@dataclass
class ReportBuilder:
    uow: UnitOfWorkFactory
    prices: PriceSource
    clock: Clock  # the engine's clock: the time stamped on orders, fills and equity marks
    timings: GatewayTimings | None = None
    llm_budget: Decimal | None = None  # set when the LLM agent runs
    wall_clock: Clock = field(default_factory=SystemClock)  # LLM usage is stamped with wall time

    def day_start(self, at: datetime | None = None) -> datetime:
        at = at or self.clock.now()
        return datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)

    # --- users ---------------------------------------------------------------------------------------

    async def user_days(self, user_ids: Sequence[UserId] | None = None) -> AsyncIterator[list[UserDay]]:
        """Daily reports of onboarded users (all, or those named), a batch at a time."""
        at = self.clock.now()
        async with self.uow() as uow:
            users = await self._onboarded(uow, user_ids)
        for start in range(0, len(users), BATCH):
            async with self.uow() as uow:  # closed before the batch is handed out: never held across a yield
                batch = await self._user_batch(uow, users[start : start + BATCH], at)
            yield batch

    async def user_day(self, user_id: UserId) -> UserDay | None:
        """One user's report now (`/report`); None if they are not onboarded."""
        at = self.clock.now()
        async with self.uow() as uow:
            days = await self._user_batch(uow, await self._onboarded(uow, [user_id]), at)
        return days[0] if days else None

    async def _onboarded(self, uow: UnitOfWork, user_ids: Sequence[UserId] | None) -> list[User]:
        if user_ids is None:
            return [u for u in await uow.users.list(UserStatus.ACTIVE) if u.is_onboarded]
        return [u for u in (await uow.users.get_many(list(user_ids))).values() if u.is_onboarded]

    async def _user_batch(self, uow: UnitOfWork, users: list[User], at: datetime) -> list[UserDay]:
        start = self.day_start(at)
        ids = [u.id for u in users]
        values = await self._values(uow, users)
        wanted = set(ids)
        fills: dict[UserId, list[FillRecord]] = defaultdict(list)
        for fill in await uow.fills.since(start):
            if fill.user_id in wanted:
                fills[fill.user_id].append(fill)
        closed: dict[UserId, list[Position]] = defaultdict(list)
        for position in await uow.positions.closed_since(start):
            if position.user_id in wanted:
                closed[position.user_id].append(position)
        marks = await uow.equity.hourly(ids, at - timedelta(days=CHART_DAYS))
        days = []
        for user in users:
            value = values.get(user.id)
            if value is None:
                continue
            days.append(
                UserDay(
                    user=user,
                    day_start=start,
                    at=at,
                    value=value,
                    fills=tuple(fills[user.id]),
                    closed=tuple(closed[user.id]),
                    equity_marks=(*[m for m in marks.get(user.id, []) if m[0] < at], (at, value.equity)),
                )
            )
        return days

    async def _values(self, uow: UnitOfWork, users: Sequence[User]) -> dict[UserId, AccountValue]:
        """Each user's account valued at the latest prices."""
        accounts = {a.user_id: a for a in await uow.accounts.get_many_for_users([u.id for u in users])}
        positions: dict[UserId, list[Position]] = defaultdict(list)
        for position in await uow.positions.open_for_accounts([a.id for a in accounts.values()]):
            positions[position.user_id].append(position)
        return {
            user.id: value_account(user, accounts[user.id], positions[user.id], self.prices)
            for user in users
            if user.id in accounts
        }

    async def _day_pnls(self) -> list[Decimal]:
        """Every onboarded user's PnL since 00:00 UTC, read a batch at a time."""
        async with self.uow() as uow:
            users = await self._onboarded(uow, None)
        pnls: list[Decimal] = []
        for start in range(0, len(users), BATCH):
            async with self.uow() as uow:
                pnls += [v.day_pnl for v in (await self._values(uow, users[start : start + BATCH])).values()]
        return pnls

    # --- the admins ------------------------------------------------------------------------------------

    async def admin_day(self) -> AdminDay:
        at = self.clock.now()
        start = self.day_start(at)
        pnls = await self._day_pnls()
        pnl_total = sum(pnls, start=ZERO)
        async with self.uow() as uow:
            pauses = await uow.users.count_by_pause()
            fills = await uow.fills.since(start)
            closed = await uow.positions.closed_since(start)
            errors = await uow.errors.count_by_source(start)
            incidents = await uow.alerts.since(self.wall_clock.now() - timedelta(days=1))
            orders = await uow.orders.outcome_counts(start)
            llm = await uow.llm_usage.summary(self.day_start(self.wall_clock.now())) if self.llm_budget else None
        return AdminDay(
            day_start=start,
            at=at,
            users_active=pauses.get(False, 0),
            users_paused=pauses.get(True, 0),
            users_traded=len({f.user_id for f in fills}),
            volume=sum((f.qty * f.price for f in fills), start=ZERO),
            fills=len(fills),
            average_pnl_per_user=pnl_total / len(pnls) if pnls else ZERO,
            total_pnl=pnl_total,
            top_strategies=_top_strategies(fills, closed),
            errors_by_source=errors,
            incidents=tuple(sorted(incidents, key=lambda a: (a.severity, a.first_seen))),
            orders=orders,
            latency=self.timings.summary(self.wall_clock.now() - timedelta(days=1)) if self.timings else {},
            llm=llm,
            llm_budget=self.llm_budget,
        )

    # --- the week --------------------------------------------------------------------------------------

    async def weekly_review(self, days: int = 7) -> WeeklyReview:
        at = self.clock.now()
        start = at - timedelta(days=days)
        async with self.uow() as uow:
            closed = sorted(
                (p for p in await uow.positions.closed_since(start) if p.closed_at is not None),
                key=lambda p: p.closed_at,  # type: ignore[arg-type,return-value]
            )
            usage = await uow.llm_usage.summary(self.wall_clock.now() - timedelta(days=days))
        by_strategy: dict[str, list[Position]] = defaultdict(list)
        for position in closed:
            by_strategy[position.strategy or "manual"].append(position)
        reviews = sorted(
            (StrategyReview(name, _stats(positions)) for name, positions in by_strategy.items()),
            key=lambda r: r.stats.total_pnl,
            reverse=True,
        )
        agent = next((r for r in reviews if r.strategy == LLM_AGENT), None)
        return WeeklyReview(
            week_start=start,
            at=at,
            strategies=tuple(reviews),
            overall=_stats(closed),
            agent=agent,
            agent_usage=usage if (usage.calls or usage.cache_hits or agent) else None,
        )


def _stats(positions: Sequence[Position]) -> TradeStats:
    return trade_stats([p.net_realized_pnl for p in positions], [p.cost_basis_total for p in positions])


def _top_strategies(fills: Sequence[FillRecord], closed: Sequence[Position], limit: int = 3) -> tuple[StrategyDay, ...]:
    entries = Counter(f.strategy or "manual" for f in fills if f.purpose == "entry")
    results: dict[str, list[Position]] = defaultdict(list)
    for position in closed:
        results[position.strategy or "manual"].append(position)
    days = [
        StrategyDay(
            strategy=name,
            closed=len(results[name]),
            net_pnl=sum((p.net_realized_pnl for p in results[name]), start=ZERO),
            wins=sum(1 for p in results[name] if p.net_realized_pnl > 0),
            entries=entries[name],
        )
        for name in {*entries, *results}
    ]
    return tuple(sorted(days, key=lambda d: (d.net_pnl, d.entries), reverse=True)[:limit])
