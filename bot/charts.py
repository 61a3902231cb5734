"""Charts sent as pictures: the equity curve with its drawdown. Rendered off the event loop (matplotlib is
blocking), headless (Agg), returned as PNG bytes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
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
