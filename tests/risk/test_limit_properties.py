"""Properties of sizing and the pre-trade checks, over generated accounts, profiles, phases and markets:
no accepted order takes a user past a limit of their profile or phase, and sizing never spends more than the
free cash."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from engine.domain.accounts import Market
from engine.domain.enums import RiskProfileName, TradingState
from engine.domain.ids import Symbol
from risk.checks import vet_entry
from risk.phases import DEFAULT_PHASES
from risk.profiles import DEFAULT_PROFILES, RiskProfile
from risk.sizing import entry_exit_prices, size_entry
from risk.snapshot import AccountSnapshot, EntryProposal, HeldPosition
from tests.factories import T0
from tests.risk.builders import snapshot

SYMBOLS = [Symbol(f"C{i}/USDT") for i in range(10)]
FEE = Decimal("0.001")
ACTIVE = TradingState.ACTIVE


def _decimals(low: str, high: str, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=places, allow_nan=False, allow_infinity=False)


markets = st.builds(
    lambda symbol, step, amount_step, min_notional: Market(
        symbol=symbol,
        base=symbol.split("/")[0],
        quote="USDT",
        price_step=step,
        amount_step=amount_step,
        min_qty=amount_step,
        min_notional=min_notional,
    ),
    st.sampled_from(SYMBOLS + [Symbol(f"N{i}/USDT") for i in range(10)]),  # held or not yet
    st.sampled_from([Decimal("0.01"), Decimal("0.0001"), Decimal("0.00001")]),
    st.sampled_from([Decimal("0.1"), Decimal("0.001"), Decimal("0.00001")]),
    st.sampled_from([Decimal(0), Decimal(5), Decimal(10)]),
)


@st.composite
def profiles(draw: st.DrawFn) -> RiskProfile:
    base = DEFAULT_PROFILES[draw(st.sampled_from(list(RiskProfileName)))]
    if draw(st.booleans()):
        return base
    total = draw(_decimals("0.05", "1"))
    return replace(
        base,
        risk_per_trade=draw(_decimals("0.001", "0.05", 3)),
        max_position_size=draw(_decimals("0.01", "1")).min(total),
        max_symbol_exposure=draw(_decimals("0.01", "1")),
        max_total_exposure=total,
        max_open_positions=draw(st.integers(1, 8)),
    )


ODDITIES = (
    "paused",
    "reducing",
    "halted",
    "system",
    "reduce_only",
    "cooldown",
    "daily_loss",
    "drawdown",
    "little_cash",
    "capital",
    "profile",
)


@st.composite
def accounts(draw: st.DrawFn, oddities: bool = True) -> AccountSnapshot:
    """A healthy account, or one with a single oddity (so that each rule is, now and then, the only one that can
    stop an entry)."""
    odd = draw(st.sampled_from([None, *ODDITIES])) if oddities else None
    phase = DEFAULT_PHASES[draw(st.sampled_from(list(DEFAULT_PHASES)))]
    profile = draw(profiles())
    if odd != "profile":
        profile = replace(profile, name=draw(st.sampled_from(sorted(phase.profiles))))
    capital = draw(_decimals(str(phase.min_capital), str(phase.max_capital)))
    if odd == "capital":
        capital = draw(st.sampled_from([phase.min_capital - 1, phase.max_capital + 1]))
    equity = capital * draw(_decimals("0.8", "1.2"))
    held = []
    for symbol in draw(st.lists(st.sampled_from(SYMBOLS), max_size=6, unique=True)):
        price = draw(_decimals("0.5", "500"))
        held.append(HeldPosition(symbol, equity * draw(_decimals("0", "0.15")) / price, price))
    cash = max(equity - sum((h.value for h in held), start=Decimal(0)), Decimal(0))
    return snapshot(
        profile=profile,
        phase=phase,
        capital=capital,
        equity=equity,
        free_cash=cash * (Decimal("0.05") if odd == "little_cash" else 1),
        positions=tuple(held),
        day_start_equity=equity * (Decimal("1.1") if odd == "daily_loss" else 1),
        peak_equity=equity * (Decimal("1.3") if odd == "drawdown" else 1),
        is_paused=odd == "paused",
        trading_state={"reducing": TradingState.REDUCING, "halted": TradingState.HALTED}.get(odd or "", ACTIVE),
        system_state=TradingState.REDUCING if odd == "system" else ACTIVE,
        is_reduce_only=odd == "reduce_only",
        cooldown_until=T0 + timedelta(minutes=5 if odd == "cooldown" else -5),
    )


def _within_every_limit(s: AccountSnapshot, p: EntryProposal) -> list[str]:
    """Every limit an accepted entry must respect, written out independently of the checks."""
    equity, profile = s.equity, s.profile
    symbols_after = {h.symbol for h in s.positions if h.qty > 0} | {p.symbol}
    symbol_after = sum((h.value for h in s.positions if h.symbol == p.symbol), start=Decimal(0)) + p.notional
    total_after = sum((h.value for h in s.positions), start=Decimal(0)) + p.notional
    broken = {
        "paused": s.is_paused,
        "state": s.trading_state is not TradingState.ACTIVE or s.system_state is not TradingState.ACTIVE,
        "reduce only": s.is_reduce_only,
        "capital": not s.phase.min_capital <= s.capital <= s.phase.max_capital,
        "profile in phase": s.profile.name not in s.phase.profiles,
        "strategy": p.strategy not in profile.strategies,
        "open positions": len(symbols_after) > profile.max_open_positions,
        "position size": p.notional > equity * profile.max_position_size,
        "symbol exposure": symbol_after > equity * profile.max_symbol_exposure,
        "total exposure": total_after > equity * profile.max_total_exposure,
        "free cash": p.notional * (1 + p.fee_rate) > s.free_cash,
        "daily loss": s.day_start_equity - equity >= s.day_start_equity * profile.daily_loss_limit > 0,
        "drawdown": s.peak_equity > 0 and (s.peak_equity - equity) >= s.peak_equity * profile.max_drawdown,
        "cooldown": s.cooldown_until is not None and s.now < s.cooldown_until,
        "minimum": p.notional < p.market.min_notional or p.qty < p.market.min_qty,
    }
    return [name for name, is_broken in broken.items() if is_broken]


def _proposal(s: AccountSnapshot, market: Market, price: Decimal, share: Decimal | None) -> EntryProposal:
    """The sized entry, or (with `share`) one worth that share of the equity, whatever the limits say."""
    stop, _ = entry_exit_prices(price, s.profile.stop_loss, s.profile.take_profit, market)
    if share is None:
        sized = size_entry(s, market.symbol, market, price, stop, FEE)
    else:
        sized = market.floor_qty(max(s.equity, Decimal(0)) * share / price)
    return EntryProposal(
        symbol=market.symbol,
        strategy="ema_cross",
        market=market,
        price=price,
        signal_price=price,
        qty=sized,
        stop_price=stop,
        fee_rate=FEE,
    )


def _share_near_a_limit(s: AccountSnapshot) -> st.SearchStrategy[Decimal | None]:
    """None (the sized entry), or a share of equity around one of the size limits, or any share."""
    limits = [s.profile.max_position_size, s.profile.max_symbol_exposure, s.profile.max_total_exposure]
    near = st.tuples(st.sampled_from(limits), st.sampled_from(["0.9", "1", "1.05"])).map(
        lambda pair: pair[0] * Decimal(pair[1])
    )
    return st.none() | near | _decimals("0", "1.2", 3)


def _vet_and_check(s: AccountSnapshot, market: Market, price: Decimal, share: Decimal | None) -> None:
    p = _proposal(s, market, price, share)
    refusals = vet_entry(s, p)
    event("accepted" if not refusals else "refused")
    if not refusals:
        assert _within_every_limit(s, p) == []


@settings(max_examples=500, deadline=None)
@given(accounts(), markets, _decimals("0.01", "5000", 4), st.data())
def test_no_accepted_entry_passes_a_limit(
    s: AccountSnapshot, market: Market, price: Decimal, data: st.DataObject
) -> None:
    _vet_and_check(s, market, price, data.draw(_share_near_a_limit(s)))


@settings(max_examples=300, deadline=None)
@given(accounts(oddities=False), markets, _decimals("1", "100", 2), st.data())
def test_no_accepted_entry_of_a_healthy_account_passes_a_size_limit(
    s: AccountSnapshot, market: Market, price: Decimal, data: st.DataObject
) -> None:
    _vet_and_check(s, market, price, data.draw(_share_near_a_limit(s)))


@settings(max_examples=400, deadline=None)
@given(accounts(), markets, _decimals("0.01", "5000", 4))
def test_sizing_never_spends_more_than_the_free_cash_nor_passes_a_size_limit(
    s: AccountSnapshot, market: Market, price: Decimal
) -> None:
    stop, _ = entry_exit_prices(price, s.profile.stop_loss, s.profile.take_profit, market)
    qty = size_entry(s, market.symbol, market, price, stop, FEE)
    assert qty >= 0 and market.floor_qty(qty) == qty
    assert qty * price * (1 + FEE) <= s.free_cash
    assert qty * price <= max(s.equity, Decimal(0)) * s.profile.max_position_size
    assert s.symbol_exposure(market.symbol) + qty * price <= max(
        s.symbol_exposure(market.symbol), s.equity * s.profile.max_symbol_exposure
    )
    if qty > 0 and stop < price:
        assert qty * (price - stop) <= s.equity * s.profile.risk_per_trade  # the loss at the stop


@settings(max_examples=150, deadline=None)
@given(
    profiles(),
    _decimals("100", "5000"),
    st.lists(st.tuples(markets, _decimals("0.01", "3000", 4)), min_size=1, max_size=15),
)
def test_a_run_of_accepted_entries_never_adds_up_past_a_limit(
    profile: RiskProfile, capital: Decimal, entries: list[tuple[Market, Decimal]]
) -> None:
    """Entries accepted one after the other (each counted before the next is sized) stay within the limits,
    valued at their entry prices."""
    s = snapshot(profile=profile, capital=capital, equity=capital, free_cash=capital, day_start_equity=capital)
    s = replace(s, peak_equity=capital, phase=replace(s.phase, min_capital=Decimal(1), max_capital=Decimal(10**6)))
    for market, price in entries:
        p = _proposal(s, market, price, None)
        if vet_entry(s, p):
            continue
        assert _within_every_limit(s, p) == []
        cost = p.notional * (1 + FEE)
        s = replace(
            s,
            positions=(*s.positions, HeldPosition(p.symbol, p.qty, price)),
            free_cash=s.free_cash - cost,
            equity=s.equity - (cost - p.notional),  # the fee leaves the account
        )
        assert s.free_cash >= 0
        assert len({h.symbol for h in s.positions}) <= profile.max_open_positions
        assert s.exposure <= s.equity * profile.max_total_exposure + p.notional * FEE
