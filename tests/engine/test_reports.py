"""Reports computed from a known history: trades made through the real order manager and paper venue on a
simulated clock, then each report's figures checked against the arithmetic done by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.gateway_timing import GatewayTimings
from engine.reports import ReportBuilder
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.harness import Harness
from tests.engine.report_history import known_day

D = Decimal


@pytest.fixture
async def history(uow: SqlUnitOfWorkFactory) -> Harness:
    return await known_day(uow)


def builder(h: Harness, timings: GatewayTimings | None = None) -> ReportBuilder:
    return ReportBuilder(h.uow, h.prices, h.clock, timings, llm_budget=D(5), wall_clock=h.clock)


async def test_a_users_day_equity_pnl_trades_positions_and_chart_marks(history: Harness):
    h = history
    report = builder(h)
    ann = await report.user_day((await h.engine.users.get(601)).id)  # type: ignore[union-attr]
    assert ann is not None
    # cash 1000 + 9.79 − 5.215 − 105 − 0.105 = 899.47; 0.1 ETH at 1060 = 106
    assert ann.equity == D("1005.47") and ann.day_pnl == D("5.47")
    assert ann.day_pnl_ratio == D("0.00547")
    assert [(f.side, f.qty, f.price) for f in ann.fills] == [
        ("buy", D("0.1"), D(1000)),
        ("sell", D("0.1"), D(1100)),
        ("buy", D("0.1"), D(1100)),
        ("sell", D("0.1"), D(1050)),
        ("buy", D("0.1"), D(1050)),
    ]
    assert ann.realized_today == D("4.575")  # 9.79 − 5.215
    (held,) = ann.open_positions
    assert held.position.avg_entry == D(1050) and held.price == D(1060) and held.unrealized_pnl == D("1.0")
    # the hourly marks (12:00, 13:00; the one at 15:10 is now) and the equity now
    assert [equity for _, equity in ann.equity_marks] == [D(1000), D("1004.575"), D("1005.47")]
    assert ann.equity_marks[-1][0] == h.clock.now()


async def test_the_admin_day_volume_pnl_strategies_errors_incidents_orders_latency_and_llm(history: Harness):
    h = history
    timings = GatewayTimings(h.clock)
    for seconds in (0.04, 0.05, 0.06, 0.5):
        timings.record("binance", "GET /api/v3/ticker/24hr", seconds)
    day = await builder(h, timings).admin_day()
    assert day.users_active == 2 and day.users_paused == 0 and day.users_traded == 2
    assert day.volume == D("934.0")  # 100 + 110 + 110 + 105 + 105 (Ann) + 200 + 204 (Ben)
    assert day.fills == 7
    assert day.total_pnl == D("9.066") and day.average_pnl_per_user == D("4.533")  # 5.47 and 3.596
    ema, rsi = day.top_strategies
    assert (ema.strategy, ema.closed, ema.wins, ema.entries, ema.net_pnl) == ("ema_cross", 2, 1, 3, D("4.575"))
    assert (rsi.strategy, rsi.closed, rsi.wins, rsi.entries, rsi.net_pnl) == ("rsi_reversion", 1, 1, 1, D("3.596"))
    assert day.errors == 3 and day.errors_by_source == {"reconciliation": 2, "telegram": 1}
    assert [(a.severity, a.title, a.occurrences) for a in day.incidents] == [
        ("P1", "Job reconciliation keeps failing", 4)
    ]
    assert day.orders.failed == 1 and day.orders.by_status["rejected"] == 1
    assert day.orders.success_ratio == pytest.approx(day.orders.taken / (day.orders.taken + 1))
    binance = day.latency["binance"]
    assert binance.calls == 4 and binance.p50 == pytest.approx(0.055) and binance.p95 == pytest.approx(0.434)
    assert day.llm is not None and day.llm.cost_usd == D("1.25") and day.llm_budget == D(5)


async def test_the_weekly_review_per_strategy_win_rate_reward_risk_expectancy_and_drawdown(history: Harness):
    review = await builder(history).weekly_review()
    ema, rsi = (next(r for r in review.strategies if r.strategy == name) for name in ("ema_cross", "rsi_reversion"))
    assert review.strategies[0].strategy == "ema_cross"  # most profitable first
    assert (ema.stats.trades, ema.stats.wins, ema.stats.losses, ema.stats.win_rate) == (2, 1, 1, 0.5)
    assert ema.stats.reward_risk == pytest.approx(9.79 / 5.215)
    assert ema.stats.expectancy == D("2.29")  # (9.79 − 5.215) / 2 = 2.2875
    assert ema.stats.max_drawdown.amount == D("5.22")  # 9.79 → 4.575: 5.215, to the cent (half-even)
    assert ema.stats.total_pnl == D("4.58")  # 4.575, rounded to the cent (half-even)
    assert (rsi.stats.trades, rsi.stats.win_rate, rsi.stats.reward_risk) == (1, 1.0, None)
    assert review.overall.trades == 3 and review.overall.wins == 2
    assert review.agent is None and review.agent_usage is not None and review.agent_usage.calls == 1
