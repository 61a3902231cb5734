"""Charts sent as pictures: the equity curve with its drawdown. Rendered off the event loop (matplotlib is
blocking and holds the GIL, so many charts are drawn in worker processes), headless (Agg), as PNG bytes."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def equity_chart_png(points: Sequence[tuple[datetime, Decimal]], title: str, capital: Decimal | None = None) -> bytes:
    """Equity over time (top) and the fall from its running peak (bottom), as a PNG."""
    if not points:
        raise ValueError("an equity chart needs at least one point")
    times = [t for t, _ in points]
    equity = np.array([float(v) for _, v in points])
    peak = np.maximum.accumulate(equity)
    drawdown = np.where(peak > 0, equity / peak - 1.0, 0.0) * 100
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 4.2), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        top.plot(times, equity, color="#1f6feb", linewidth=1.6)
        if capital is not None:
            top.axhline(float(capital), color="#8b949e", linewidth=0.8, linestyle="--", label="capital")
            top.legend(loc="upper left", frameon=False, fontsize=8)
        top.set_title(title, fontsize=11)
        top.set_ylabel("equity")
        top.grid(alpha=0.25)
        bottom.fill_between(times, drawdown, 0, color="#d1242f", alpha=0.35, linewidth=0)
        bottom.set_ylabel("drawdown %")
        bottom.grid(alpha=0.25)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


async def render_equity_chart(
    points: Sequence[tuple[datetime, Decimal]], title: str, capital: Decimal | None = None
) -> bytes:
    """`equity_chart_png` in a worker thread, so the event loop keeps serving everyone else."""
    return await asyncio.to_thread(equity_chart_png, list(points), title, capital)


class ChartRenderer:
    """Draws charts in worker processes (started on first use, `spawn`ed: no copy of the event loop's threads),
    so hundreds of report charts leave the event loop and the engine's CPU share alone."""

    def __init__(self, workers: int = 1) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def equity_chart(
        self, points: Sequence[tuple[datetime, Decimal]], title: str, capital: Decimal | None = None
    ) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), equity_chart_png, list(points), title, capital)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
