"""The control endpoint (not part of Binance): POST/GET /__control/... to script a stand-in in a subprocess.

``POST /__control/<command>`` with a JSON object of keyword arguments calls the method of the same
name (``set_price``, ``faults/rate_limit``, …). ``GET /__control/requests|orders|balances`` reads state.
Answers ``{"result": …}`` or, with status 400, ``{"error": "…"}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from . import errors, render
from .orders import Trade

if TYPE_CHECKING:
    from .server import BinanceSpotStandin

_FAULT_COMMANDS: Final = (
    "respond",
    "rate_limit",
    "server_error",
    "delay",
    "drop_response",
    "reject",
    "insufficient_balance",
    "invalid_quantity",
    "partial_fills",
    "skew_clock",
    "clear",
)
_STANDIN_COMMANDS: Final = (
    "set_price",
    "run_path",
    "set_candles",
    "add_account",
    "set_balance",
    "set_api_restrictions",
)


def _jsonable(value: object) -> object:
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Trade):
        return render.my_trade(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"kind": type(value).__name__}
    return value


def control_routes(standin: BinanceSpotStandin) -> list[web.RouteDef]:
    commands: dict[str, Callable[..., Any]] = {name: getattr(standin, name) for name in _STANDIN_COMMANDS}
    commands |= {f"faults/{name}": getattr(standin.faults, name) for name in _FAULT_COMMANDS}

    async def run_command(request: web.Request) -> web.Response:
        command = commands.get(request.match_info["command"])
        if command is None:
            return web.json_response({"error": f"unknown command {request.match_info['command']!r}"}, status=404)
        try:
            kwargs = await request.json() if request.can_read_body else {}
            result = command(**kwargs)
        except (TypeError, ValueError, KeyError, errors.BinanceError) as error:
            return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        return web.json_response({"result": _jsonable(result)})

    async def read_requests(request: web.Request) -> web.Response:
        query = request.query
        entries = standin.requests(query.get("method"), query.get("path"), query.get("api_key"))
        return web.json_response({"result": [dataclasses.asdict(entry) for entry in entries]})

    async def read_orders(request: web.Request) -> web.Response:
        orders = standin.orders(request.query.get("api_key"), request.query.get("symbol"))
        return web.json_response({"result": [render.order_query(order) for order in orders]})

    async def read_balances(request: web.Request) -> web.Response:
        account = standin.venue.accounts.get(request.query.get("api_key", ""))
        if account is None:
            return web.json_response({"error": "unknown api_key"}, status=404)
        return web.json_response({"result": account.balances_payload()})

    return [
        web.get("/__control/requests", read_requests),
        web.get("/__control/orders", read_orders),
        web.get("/__control/balances", read_balances),
        web.post("/__control/{command:.+}", run_command),
    ]
