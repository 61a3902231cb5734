"""Fixtures for the engine tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.engine.live_harness import ETH_SPEC
from tests.factories import ETH
from tests.standins.binance_spot import BinanceSpotStandin


@pytest.fixture
async def standin() -> AsyncIterator[BinanceSpotStandin]:
    """The Binance stand-in on loopback with ETH/USDT at 1000; tests add their accounts."""
    async with BinanceSpotStandin(symbols=[ETH_SPEC], prices={ETH: 1000}) as server:
        yield server
