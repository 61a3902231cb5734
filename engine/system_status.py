"""What the operators see in `/status`: the trading state and phase, users by state, open positions, today's
orders and how many went through, the LLM's spending today. Read from the books in one unit of work."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.clock import Clock
from engine.domain.enums import OrderStatus, TradingState, UserStatus
from engine.ports import UnitOfWorkFactory
from engine.system import SystemControl
from risk.phases import RolloutPhase

FAILED_ORDERS = frozenset({OrderStatus.REJECTED, OrderStatus.UNKNOWN})


@dataclass(frozen=True, slots=True)
class UserCounts:
    by_status: dict[UserStatus, int]
    trading: int  # onboarded, not paused, state active
    paused: int
    reducing: int
    halted: int


@dataclass(frozen=True, slots=True)
class OrderCounts:
    total: int
    filled: int
    failed: int  # refused by the venue, or outcome still unknown

    @property
    def success_rate(self) -> Decimal | None:
        """Share of today's orders that were not refused and not left unknown (None without orders)."""
        if self.total == 0:
            return None
        return Decimal(self.total - self.failed) / Decimal(self.total)


@dataclass(frozen=True, slots=True)
class SystemStatus:
    ts: datetime
    state: TradingState
    state_reason: str
    phase: RolloutPhase
    users: UserCounts
    open_positions: int
    orders_today: OrderCounts
    llm_cost_today: Decimal


class SystemStatusReader:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, system: SystemControl) -> None:
        self._uow = uow
        self._clock = clock
        self._system = system

    async def read(self) -> SystemStatus:
        now = self._clock.now()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        async with self._uow() as uow:
            users = await uow.users.list()
            positions = await uow.positions.all_open()
            orders = await uow.orders.since(day_start)
            llm = await uow.llm_usage.summary(day_start)
        onboarded = [u for u in users if u.is_onboarded]
        states = Counter(u.trading_state for u in onboarded if not u.is_paused)
        return SystemStatus(
            ts=now,
            state=self._system.state,
            state_reason=self._system.state_reason,
            phase=self._system.phase,
            users=UserCounts(
                by_status=dict(Counter(u.status for u in users)),
                trading=states[TradingState.ACTIVE],
                paused=sum(1 for u in onboarded if u.is_paused),
                reducing=states[TradingState.REDUCING],
                halted=states[TradingState.HALTED],
            ),
            open_positions=len(positions),
            orders_today=OrderCounts(
                total=len(orders),
                filled=sum(1 for o in orders if o.status is OrderStatus.FILLED),
                failed=sum(1 for o in orders if o.status in FAILED_ORDERS),
            ),
            llm_cost_today=llm.cost_usd,
        )
