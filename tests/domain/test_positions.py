from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.enums import Side
from engine.domain.ids import AccountId, UserId
from engine.domain.positions import OversizedSell, Position
from tests.factories import ETH, T0, later


def position() -> Position:
    return Position(user_id=UserId(1), account_id=AccountId(1), symbol=ETH, opened_at=T0)


def test_average_entry_realized_and_unrealized_pnl():
    p = position().apply_fill(side=Side.BUY, qty=Decimal(1), price=Decimal(100), fee_quote=Decimal("0.1"), ts=T0)
    p = p.apply_fill(side=Side.BUY, qty=Decimal(1), price=Decimal(110), fee_quote=Decimal("0.11"), ts=later(1))
    assert p.avg_entry == Decimal(105)
    assert p.unrealized_pnl(Decimal(120)) == Decimal(30)
    p = p.apply_fill(side=Side.SELL, qty=Decimal("0.5"), price=Decimal(120), fee_quote=Decimal("0.06"), ts=later(2))
    assert p.realized_pnl == Decimal("7.5")
    assert p.qty == Decimal("1.5")
    assert p.is_open
    p = p.apply_fill(side=Side.SELL, qty=Decimal("1.5"), price=Decimal(100), fee_quote=Decimal("0.15"), ts=later(3))
    assert p.realized_pnl == Decimal("0")  # +7.5 then -7.5
    assert p.fees == Decimal("0.42")
    assert p.net_realized_pnl == Decimal("-0.42")
    assert p.closed_at == later(3)


def test_selling_more_than_held_is_refused():
    p = position().apply_fill(side=Side.BUY, qty=Decimal(1), price=Decimal(100), fee_quote=Decimal(0), ts=T0)
    with pytest.raises(OversizedSell):
        p.apply_fill(side=Side.SELL, qty=Decimal(2), price=Decimal(100), fee_quote=Decimal(0), ts=T0)
