"""Report statistics from known numbers, and exchange request timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.analytics import max_drawdown, percentile, trade_stats
from engine.clock import SimClock
from engine.gateway_timing import GatewayTimings, endpoint_of

D = Decimal


def test_trade_statistics_from_a_known_set_of_trades():
    # four wins of 30, 10, 20, 20 and two losses of 15 and 5, in this closing order
    pnls = [D(30), D(-15), D(10), D(-5), D(20), D(20)]
    stats = trade_stats(pnls, invested=[D(200)] * 6)
    assert (stats.trades, stats.wins, stats.losses) == (6, 4, 2)
    assert stats.win_rate == pytest.approx(4 / 6)
    assert stats.average_win == D("20.00") and stats.average_loss == D("10.00")
    assert stats.reward_risk == pytest.approx(2.0)
    assert stats.expectancy == D("10.00")  # (80 - 20) / 6
    assert stats.expectancy_ratio == pytest.approx(60 / 1200)
    assert stats.total_pnl == D("60.00")
    # cumulative PnL: 30, 15, 25, 20, 40, 60 -> deepest fall 15 from the peak of 30
    assert stats.max_drawdown.amount == D("15.00") and stats.max_drawdown.ratio == pytest.approx(0.5)


def test_no_trades_and_no_losses_are_answered_without_dividing_by_zero():
    empty = trade_stats([])
    assert not empty.has_trades and empty.win_rate == 0.0 and empty.reward_risk is None
    winners = trade_stats([D(5), D(7)])
    assert winners.reward_risk is None and winners.win_rate == 1.0 and winners.max_drawdown.amount == 0


def test_drawdown_of_an_equity_curve_and_percentiles():
    curve = [D(1000), D(1100), D(880), D(990), D(1200)]
    drawdown = max_drawdown(curve, start=curve[0])
    assert max_drawdown([]).amount == 0
    assert drawdown.amount == D("220.00") and drawdown.ratio == pytest.approx(0.2)
    assert percentile([], 95) == 0.0
    assert percentile([float(v) for v in range(1, 101)], 50) == pytest.approx(50.5)
    assert percentile([float(v) for v in range(1, 101)], 95) == pytest.approx(95.05)


async def test_every_request_of_a_client_is_timed_by_endpoint_and_a_failure_recorded():
    clock = SimClock(datetime(2026, 3, 2, tzinfo=UTC))
    timings = GatewayTimings(clock)
    heard = []
    timings.observe(heard.append)

    class Client:  # what GatewayTimings needs of a ccxt client: its `fetch`
        async def fetch(self, url: str, method: str = "GET", headers: object = None, body: object = None) -> str:
            if "order" in url and method == "DELETE":
                raise TimeoutError("no answer")
            return "ok"

    client = Client()
    timings.instrument(client, "binance")
    assert await client.fetch("https://api.binance.com/api/v3/ticker/24hr?symbols=x", "GET") == "ok"
    with pytest.raises(TimeoutError):
        await client.fetch("https://api.binance.com/api/v3/order?orderId=1", "DELETE")
    assert [(c.venue, c.endpoint, c.error) for c in heard] == [
        ("binance", "GET /api/v3/ticker/24hr", ""),
        ("binance", "DELETE /api/v3/order", "TimeoutError"),
    ]
    summary = timings.summary(clock.now() - timedelta(hours=1))["binance"]
    assert summary.calls == 2 and summary.errors == 1 and summary.error_ratio == 0.5
    clock.advance(timedelta(days=2))
    timings.record("binance", "GET /api/v3/time", 0.01)
    assert timings.summary(clock.now() - timedelta(days=3))["binance"].calls == 1  # older than a day: forgotten
    assert endpoint_of("GET", "https://x.io/v2/orders/123456/fills") == "GET /v2/orders/:id/fills"
