from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.charts import PNG_SIGNATURE, render_equity_chart
from tests.factories import T0


async def test_equity_chart_is_a_png_picture():
    points = [(T0 + timedelta(hours=i), Decimal(1000) + Decimal(i % 7) * 3 - i) for i in range(48)]
    png = await render_equity_chart(points, "Equity", Decimal(1000))
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000  # a real picture, not an empty canvas


async def test_an_empty_history_is_refused_clearly():
    with pytest.raises(ValueError, match="at least one point"):
        await render_equity_chart([], "Equity")
