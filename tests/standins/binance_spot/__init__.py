"""A Binance spot (REST v3) stand-in for tests: real HTTP on loopback, scripted prices, injectable faults.

In-process::

    async with BinanceSpotStandin(symbols=["BTC/USDT"], prices={"BTC/USDT": 30000}) as standin:
        standin.add_account("key", "secret", {"USDT": 10_000})
        exchange.urls["api"] = standin.ccxt_urls(exchange.urls["api"])

As a process: ``python -m tests.standins.binance_spot --api-key K --secret S --symbols BTC/USDT
--price BTC/USDT=30000 --balance USDT=10000`` prints its base URL on one line and serves until killed.
"""

from .errors import BinanceError
from .faults import FaultPlan, FaultRule, RecordedRequest
from .ledger import Account, ApiRestrictions, Balance
from .orders import Order, Trade
from .server import BinanceSpotStandin, rewrite_api_urls
from .symbols import SymbolSpec

__all__ = [
    "Account",
    "ApiRestrictions",
    "Balance",
    "BinanceError",
    "BinanceSpotStandin",
    "FaultPlan",
    "FaultRule",
    "Order",
    "RecordedRequest",
    "SymbolSpec",
    "Trade",
    "rewrite_api_urls",
]
