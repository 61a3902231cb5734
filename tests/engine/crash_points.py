"""Crash injection for the submit path: the running task is cancelled at the N-th await point.

The await points are the seams where the path waits on something outside it: every repository call and
commit of a unit of work (the paper venue's own transactions included), and the venue call, before it is
sent and after the venue acted. A dry run (no target) lists them; a crash run cancels the task there, so
what was not committed is lost, as when the process dies.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from engine.domain.venue import OrderRequest, VenueOrder


class CrashPlan:
    def __init__(self, at: int | None = None) -> None:
        self.at = at  # 1-based index of the await point to crash at; None: count only
        self.armed = False
        self.points: list[str] = []

    @property
    def crashed(self) -> bool:
        return self.at is not None and len(self.points) >= self.at

    async def point(self, label: str) -> None:
        if not self.armed:
            return
        self.points.append(label)
        if self.at is not None and len(self.points) == self.at:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)  # the cancellation is delivered here, at this await point


class CrashingUnitOfWorkFactory:
    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self._inner = inner
        self._plan = plan

    def __call__(self) -> _CrashingUnitOfWork:
        return _CrashingUnitOfWork(self._inner(), self._plan)


class _CrashingUnitOfWork:
    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self._inner = inner
        self._plan = plan

    async def __aenter__(self) -> Self:
        await self._plan.point("begin")
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)  # uncommitted work is rolled back, as after a crash

    async def commit(self) -> None:
        await self._plan.point("commit")
        await self._inner.commit()

    async def rollback(self) -> None:
        await self._inner.rollback()

    def __getattr__(self, name: str) -> Any:
        return _CrashingRepository(getattr(self._inner, name), name, self._plan)


class _CrashingRepository:
    def __init__(self, inner: Any, name: str, plan: CrashPlan) -> None:
        self._inner = inner
        self._name = name
        self._plan = plan

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._inner, method)
        if not inspect.iscoroutinefunction(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            await self._plan.point(f"{self._name}.{method}")
            return await target(*args, **kwargs)

        return call


class CrashingGateway:
    """A venue whose calls are await points: before the request leaves, and after the venue acted."""

    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self.inner = inner
        self.name = inner.name
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[VenueOrder | Exception]:
        await self._plan.point("venue.place")
        results = await self.inner.place_orders(requests)
        await self._plan.point("venue.placed")  # the venue acted; its answer dies with us
        return results  # type: ignore[no-any-return]

    async def cancel_order(self, *args: Any) -> VenueOrder | None:
        await self._plan.point("venue.cancel")
        result = await self.inner.cancel_order(*args)
        await self._plan.point("venue.cancelled")
        return result  # type: ignore[no-any-return]
