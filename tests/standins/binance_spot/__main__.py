"""Run the stand-in as a process: prints its base URL on one line, serves until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from .server import BinanceSpotStandin
from .symbols import SymbolSpec


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, separator, amount = value.partition("=")
        if not separator:
            raise SystemExit(f"{option} expects NAME=VALUE, got {value!r}")
        pairs[name] = amount
    return pairs


def _spec(text: str) -> SymbolSpec:
    """'BTC/USDT' or 'BTC/USDT:tick_size=0.01,step_size=0.001,min_notional=10'."""
    symbol, _, overrides = text.partition(":")
    return SymbolSpec.parse(symbol, **_pairs([item for item in overrides.split(",") if item], "--symbol"))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.standins.binance_spot", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--secret", default="test-secret")
    parser.add_argument("--symbols", default="BTC/USDT", help="comma-separated unified symbols")
    parser.add_argument("--symbol", action="append", default=[], help="SYMBOL:field=value,… filter overrides")
    parser.add_argument("--price", action="append", default=[], help="SYMBOL=PRICE, repeatable")
    parser.add_argument("--balance", action="append", default=[], help="ASSET=AMOUNT for --api-key, repeatable")
    parser.add_argument("--account", action="append", default=[], help="extra KEY:SECRET account, repeatable")
    parser.add_argument("--allow-withdrawals", action="store_true", help="the --api-key key may withdraw")
    parser.add_argument("--taker-fee", default="0.001")
    parser.add_argument("--maker-fee", default="0.001")
    parser.add_argument("--duplicate-window", type=float, default=0.0, help="seconds a used client id stays taken")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> BinanceSpotStandin:
    overrides = {spec.symbol: spec for spec in map(_spec, args.symbol)}
    symbols = [overrides.pop(name, None) or SymbolSpec(symbol=name) for name in args.symbols.split(",") if name]
    standin = BinanceSpotStandin(
        symbols=[*symbols, *overrides.values()],
        prices=_pairs(args.price, "--price"),
        taker_fee=args.taker_fee,
        maker_fee=args.maker_fee,
        duplicate_window_s=args.duplicate_window,
        host=args.host,
        port=args.port,
    )
    standin.add_account(
        args.api_key,
        args.secret,
        _pairs(args.balance, "--balance"),
        enable_withdrawals=args.allow_withdrawals,
    )
    for account in args.account:
        key, _, secret = account.partition(":")
        standin.add_account(key, secret)
    return standin


async def serve(args: argparse.Namespace) -> None:
    standin = build(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with standin:
        print(standin.base_url, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
