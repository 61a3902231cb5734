"""Closing positions on request: one of a user's positions, all of them, or everyone's (an operator's
`/close_all`). Each becomes a market sell through the order manager, which lifts the resting stop first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from engine.clock import Clock
from engine.domain.accounts import User
from engine.domain.commands import ClosePosition
from engine.domain.enums import OrderPurpose, OrderStatus
from engine.domain.ids import Symbol
from engine.domain.orders import Order
from engine.domain.positions import Position
from engine.order_manager import OrderManager
from engine.ports import UnitOfWorkFactory

log = structlog.get_logger(__name__)

BATCH = 500  # positions sent to the order manager at once by an operator's close-all


@dataclass(frozen=True, slots=True)
class CloseResult:
    requested: int  # positions asked to close
    orders: tuple[Order, ...]  # the sells placed (fewer when a position was dust, or closed meanwhile)

    @property
    def failed(self) -> list[Order]:
        return [o for o in self.orders if o.status is OrderStatus.REJECTED]


class PositionCloser:
    def __init__(self, uow: UnitOfWorkFactory, orders: OrderManager, clock: Clock) -> None:
        self._uow = uow
        self._orders = orders
        self._clock = clock

    async def open_positions(self, user: User) -> list[Position]:
        async with self._uow() as uow:
            return await uow.positions.open_for_user(user.id)

    async def close(self, user: User, symbols: Sequence[Symbol] | None = None, *, reason: str) -> CloseResult:
        """Sell the user's positions in `symbols` (all of them when None) at market."""
        wanted = set(symbols) if symbols is not None else None
        positions = [p for p in await self.open_positions(user) if wanted is None or p.symbol in wanted]
        return await self._close(positions, reason, actor=str(user.telegram_id))

    async def close_everyone(self, *, actor: str, reason: str) -> CloseResult:
        """Every open position of every user (an operator's decision), in batches."""
        async with self._uow() as uow:
            positions = await uow.positions.all_open()
        return await self._close(positions, reason, actor=actor)

    async def _close(self, positions: Sequence[Position], reason: str, actor: str) -> CloseResult:
        if not positions:
            return CloseResult(0, ())
        async with self._uow() as uow:
            await uow.audit.add(
                ts=self._clock.now(),
                actor=actor,
                action="positions.close",
                details={"positions": len(positions), "reason": reason},
            )
            await uow.commit()
        log.info("positions.closing", count=len(positions), actor=actor)
        placed: list[Order] = []
        for start in range(0, len(positions), BATCH):
            commands = [_close_command(p, reason) for p in positions[start : start + BATCH]]
            placed += await self._orders.close_positions(commands)
        return CloseResult(len(positions), tuple(placed))


def _close_command(position: Position, reason: str) -> ClosePosition:
    return ClosePosition(
        user_id=position.user_id,
        account_id=position.account_id,
        symbol=position.symbol,
        purpose=OrderPurpose.MANUAL_CLOSE,
        reason=reason,
    )
