"""`tradebot backtest` as a person runs it: summary, trades CSV, chart; bad input gets a clear answer."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.charts import PNG_SIGNATURE
from bot.cli import main
from engine.backtest.metrics import round_trips
from engine.backtest.runner import BacktestRun
from engine.backtest.session import BacktestRequest, backtest, prepare
from engine.domain.enums import RiskProfileName
from engine.domain.ids import AccountId, ClientOrderId, Symbol, UserId
from engine.domain.positions import Position
from engine.market_data.candles import load_recorded, recorded_series
from engine.ports import FillRecord


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_backtest_prints_its_summary_and_writes_the_trades_and_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        [
            "--strategy", "donchian_breakout", "--symbols", "ETH/USDT", "LTC/USDT",
            "--from", "2018-01-15", "--to", "2018-01-20", "--profile", "aggressive", "--capital", "2500",
            "--out", str(tmp_path),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "100%" in err  # the progress bar went to stderr
    for label in ("return", "CAGR", "Sharpe", "Sortino", "max drawdown", "win rate", "avg reward/risk",
                  "profit factor", "trades", "exposure", "fees"):  # fmt: skip
        assert f"\n{label} " in out
    assert "2018-01-15 00:00 → 2018-01-20 00:00 UTC" in out
    assert "2,500.00 →" in out
    with (tmp_path / "trades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    traded = int(out.split("\ntrades")[1].split()[0])
    assert len(rows) == traded > 0
    assert {r["symbol"] for r in rows} == {"ETH/USDT", "LTC/USDT"}
    assert all("2018-01-15" <= r["opened_at"] < "2018-01-20" for r in rows)
    assert (tmp_path / "equity.png").read_bytes().startswith(PNG_SIGNATURE)


def test_an_ohlcv_csv_file_can_be_backtested(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (series,) = [s for s in recorded_series() if s.symbol == "XMR/BTC"]
    recorded = load_recorded(series)
    data = tmp_path / "xmr.csv"
    with data.open("w") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        for i in range(len(recorded)):
            row = (recorded.open[i], recorded.high[i], recorded.low[i], recorded.close[i], recorded.volume[i])
            handle.write(f"{recorded.ts[i]},{','.join(repr(float(v)) for v in row)}\n")
    code, out, err = run_cli(
        ["--strategy", "rsi_reversion", "--symbols", "XMR/BTC", "--capital", "0.5", "--data", str(data),
         "--out", str(tmp_path / "out")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "rsi_reversion on XMR/BTC (5m)" in out
    assert (tmp_path / "out" / "trades.csv").exists()


@pytest.mark.parametrize(
    ("argv", "answer"),
    [
        (["--strategy", "ema_cross", "--symbols", "DOGE/USDT"], "no recorded 5m candles for DOGE/USDT"),
        (["--strategy", "ema_cross", "--symbols", "ETH/USDT", "ETH/BTC"], "one quote currency"),
        (["--strategy", "ema_cross", "--symbols", "ETH/USDT", "--from", "2019-01-01"], "no candles in that period"),
        (["--strategy", "ema_cross", "--symbols", "ETH/USDT", "--capital", "0"], "capital must be more than zero"),
        (["--strategy", "ema_cross", "--symbols", "ETH/USDT", "--data", "/nowhere/x.csv"], "no such file"),
    ],
)
def test_bad_requests_get_a_sentence_and_exit_2(
    argv: list[str], answer: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli([*argv, "--out", str(tmp_path)], capsys)
    assert code == 2
    assert answer in err
    assert not (tmp_path / "trades.csv").exists()


def test_unknown_strategies_and_dates_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["backtest", "--strategy", "martingale", "--symbols", "ETH/USDT"])
    assert stopped.value.code == 2
    assert "invalid choice: 'martingale'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["backtest", "--strategy", "ema_cross", "--symbols", "ETH/USDT", "--from", "last week"])
    assert "not a date" in capsys.readouterr().err


async def test_the_equity_curve_ends_at_the_capital_plus_every_closed_trade_and_what_is_still_held() -> None:
    request = BacktestRequest("ema_cross", ("ETH/USDT", "XMR/USDT"), profile=RiskProfileName.AGGRESSIVE)
    outcome = await backtest(request)
    run = outcome.run
    closed = sum((t.net_pnl for t in outcome.trips), start=Decimal(0))
    still_open = [p for p in run.positions if p.closed_at is None]
    held = sum(
        float(p.qty) * float(next(c for c in run.spec.series if c.symbol == p.symbol).close[-1]) for p in still_open
    )
    open_costs = sum(float(p.qty * p.avg_entry + p.fees) for p in still_open)
    expected = float(request.capital + closed) + held - open_costs
    assert outcome.summary.final_equity == pytest.approx(expected, abs=1e-6)
    assert outcome.summary.trades == len(outcome.trips) > 20
    assert 0 < outcome.summary.max_drawdown < 1
    assert outcome.summary.fees == sum((f.fee for f in run.fills), start=Decimal(0))


def test_a_position_closed_and_another_opened_at_the_same_step_are_two_round_trips() -> None:
    spec = prepare(BacktestRequest("ema_cross", ("ETH/USDT",), days=2))
    t0, t1, t2 = (datetime(2018, 1, 28, h, tzinfo=UTC) for h in (1, 2, 3))

    def fill(ts: datetime, side: str, price: str, purpose: str) -> FillRecord:
        return FillRecord(
            client_order_id=ClientOrderId(f"{side}-{ts:%H}"),
            user_id=UserId(1),
            symbol=Symbol("ETH/USDT"),
            side=side,
            qty=Decimal(1),
            price=Decimal(price),
            fee=Decimal("0.1"),
            fee_currency="USDT",
            ts=ts,
            purpose=purpose,
            strategy="ema_cross",
        )

    fills = [
        fill(t0, "buy", "100", "entry"),
        fill(t1, "sell", "95", "stop_loss"),  # the stop filled at the step…
        fill(t1, "buy", "96", "entry"),  # …where a new entry was taken
        fill(t2, "sell", "99", "exit_signal"),
    ]
    base = Position(user_id=UserId(1), account_id=AccountId(1), symbol=Symbol("ETH/USDT"), opened_at=t0)
    positions = [
        replace(base, id=1, closed_at=t1, realized_pnl=Decimal(-5), fees=Decimal("0.2")),
        replace(base, id=2, opened_at=t1, closed_at=t2, realized_pnl=Decimal(3), fees=Decimal("0.2")),
    ]
    run = BacktestRun(spec, fills, positions, t0, t2, candles=0, steps=0, seconds=0.0)
    first, second = round_trips(run)
    assert (first.entry_price, first.exit_price, first.exit_reason) == (100, 95, "stop_loss")
    assert (second.entry_price, second.exit_price, second.exit_reason) == (96, 99, "exit_signal")
    assert first.fees == second.fees == Decimal("0.2") and first.net_pnl == Decimal("-5.2")
