"""POST /webhook on the running product: a real HTTP server on loopback, the real pipeline and paper venue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select, text

from bot.main import Runtime
from bot.settings import WebhookConfig
from bot.telegram_standin import ChatUser, TelegramStandIn
from engine.domain.enums import AccountMode, RiskProfileName
from storage.config import DatabaseConfig
from storage.models import Base
from tests.bot.product import product_settings, running_product, say
from tests.bot.webhook_client import SECRET, payload, sign, signed

ANN = ChatUser(id=5252, first_name="Ann")


@contextlib.asynccontextmanager
async def webhook_product(
    database: DatabaseConfig, standin: TelegramStandIn, secret: str | None = SECRET
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    config = WebhookConfig(secret=SecretStr(secret) if secret else None)
    async with (
        running_product(product_settings(database, webhook=config), standin) as runtime,
        httpx.AsyncClient(base_url=runtime.http_url) as http,
    ):
        yield runtime, http


async def follower(runtime: Runtime, user: ChatUser = ANN) -> None:
    users = runtime.services.engine.users
    person = await users.arrive(user.id, user.id, user.first_name)
    await users.onboard(person, RiskProfileName.MODERATE, Decimal(1000), AccountMode.PAPER)


async def post(http: httpx.AsyncClient, document: dict[str, Any]) -> httpx.Response:
    body, headers = signed(document)
    return await http.post("/webhook", content=body, headers=headers)


async def query(runtime: Runtime, sql: str) -> list[tuple[Any, ...]]:
    async with runtime.services.engine.uow() as uow:
        return [tuple(row) for row in (await uow.session.execute(text(sql))).all()]


async def processed(runtime: Runtime, signal_id: int) -> str:
    for _ in range(500):
        ((status,),) = await query(runtime, f"SELECT status FROM signals WHERE id = {int(signal_id)}")
        if status != "received":
            return str(status)
        await asyncio.sleep(0.02)
    raise AssertionError(f"signal {signal_id} was never processed")


async def eventually(runtime: Runtime, sql: str, rows: int) -> list[tuple[Any, ...]]:
    """The query's rows once there are `rows` of them (orders are placed after the decision is stored)."""
    for _ in range(500):
        found = await query(runtime, sql)
        if len(found) == rows:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"{sql}: expected {rows} row(s), have {found}")


async def table_counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.services.engine.uow() as uow:
        return {
            table.name: (await uow.session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in Base.metadata.sorted_tables
        }


async def test_a_signed_buy_is_acted_on_for_followers_and_explained_then_an_exit_closes_it(database: DatabaseConfig):
    standin = TelegramStandIn()
    async with webhook_product(database, standin) as (runtime, http):
        await follower(runtime)
        market = runtime.services.engine.feed.last_price("ETH/USDT")  # type: ignore[arg-type]
        assert market is not None
        stop, target = (
            (market * Decimal("0.99")).quantize(Decimal("0.01")),
            (market * Decimal("1.05")).quantize(Decimal("0.01")),
        )
        document = payload(stop_loss=str(stop), take_profit=str(target), comment="breakout on volume")

        answer = await post(http, document)
        assert answer.status_code == 202
        body = answer.json()
        assert body["status"] == "ACCEPTED" and body["message"] and len(body["correlation_id"]) == 32
        assert isinstance(body["processing_time_ms"], float) and body["processing_time_ms"] > 0
        assert await processed(runtime, body["signal_id"]) == "accepted"

        why = "tv_macd (5m) via tradingview: buy ETH/USDT, confidence 0.70 — breakout on volume"
        ((outcome, rationale),) = await query(runtime, "SELECT outcome, rationale FROM decisions")
        assert (outcome, rationale) == ("accepted", why)
        ((held_stop, held_target, strategy),) = await eventually(
            runtime, "SELECT stop_price, take_profit, strategy FROM positions WHERE closed_at IS NULL", 1
        )
        assert (Decimal(held_stop), Decimal(held_target), strategy) == (stop, target, "webhook")
        filled = await standin.wait_for_messages(ANN.id, 1, timeout=10)
        assert "Bought" in filled[-1].displayed_text and f"Why: {why}" in filled[-1].displayed_text
        assert why in (await say(standin, ANN, "/why")).displayed_text

        leave = await post(http, payload(direction="exit", comment="momentum faded"))
        assert leave.status_code == 202 and await processed(runtime, leave.json()["signal_id"]) == "accepted"
        await eventually(runtime, "SELECT id FROM positions WHERE closed_at IS NULL", 0)
        sold = await standin.wait_for_messages(ANN.id, 1, timeout=10, predicate=lambda m: "Sold" in m.displayed_text)
        assert "Sold (strategy exit)" in sold[-1].displayed_text and "momentum faded" in sold[-1].displayed_text


async def test_duplicates_are_acknowledged_but_never_acted_on_twice_even_after_a_restart(database: DatabaseConfig):
    async with webhook_product(database, TelegramStandIn()) as (runtime, http):
        await follower(runtime)
        keyed = payload(idempotency_key="alert-42")
        first = await post(http, keyed)
        assert first.status_code == 202
        original = first.json()["signal_id"]
        await processed(runtime, original)
        resent = payload(idempotency_key="alert-42", timestamp=(datetime.now(UTC) + timedelta(seconds=5)).isoformat())
        duplicate = await post(http, resent)
        assert duplicate.status_code == 200
        assert duplicate.json()["status"] == "DUPLICATE" and duplicate.json()["signal_id"] == original
        assert f"signal {original} (accepted)" in duplicate.json()["message"]

        plain = payload(symbol="LTC/USDT")
        assert (await post(http, plain)).status_code == 202
        assert (await post(http, plain)).json()["status"] == "DUPLICATE"  # the very same body again
        later = payload(symbol="LTC/USDT", timestamp=(datetime.now(UTC) + timedelta(seconds=20)).isoformat())
        assert (await post(http, later)).json()["status"] == "DUPLICATE"  # same content within the window
        await asyncio.sleep(0.2)
        decisions = await query(runtime, "SELECT count(*) FROM decisions WHERE strategy = 'webhook'")

    async with webhook_product(database, TelegramStandIn()) as (runtime, http):
        after_restart = await post(http, keyed)
        assert after_restart.status_code == 200 and after_restart.json()["signal_id"] == original
        await asyncio.sleep(0.2)
        assert await query(runtime, "SELECT count(*) FROM decisions WHERE strategy = 'webhook'") == decisions == [(2,)]
        assert await query(runtime, "SELECT count(*) FROM signals WHERE source = 'webhook'") == [(2,)]


async def test_bad_requests_get_a_clear_4xx_naming_the_problem_and_change_nothing(database: DatabaseConfig):
    async with webhook_product(database, TelegramStandIn()) as (runtime, http):
        await follower(runtime)
        before = await table_counts(runtime)
        good, headers = signed(payload())

        async def send(body: bytes, signature: str | None) -> httpx.Response:
            return await http.post("/webhook", content=body, headers={"X-Signature": signature} if signature else {})

        unsigned = await send(good, None)
        assert unsigned.status_code == 401 and "missing X-Signature" in unsigned.json()["message"]
        assert (await send(good, sign(good, "another-secret-0123456789"))).status_code == 401
        assert (await send(good + b" ", headers["X-Signature"])).status_code == 401  # body changed after signing
        assert (await send(good, "sha256=" + headers["X-Signature"].upper())).status_code == 202  # accepted forms
        await asyncio.sleep(0.3)
        before = await table_counts(runtime)

        cases = {
            b"not json": (400, None),
            b"[1, 2]": (400, None),
            b'{"price": NaN}': (400, None),
            json.dumps(payload(symbol="DOGE/USDT")).encode(): (422, "symbol"),
            json.dumps(payload(direction="short")).encode(): (422, "direction"),
            json.dumps(payload(timestamp="2026-01-05T14:30:00")).encode(): (422, "timestamp"),
            json.dumps(payload(timestamp=(datetime.now(UTC) - timedelta(minutes=10)).isoformat())).encode(): (
                422,
                "timestamp",
            ),
            json.dumps(payload(stoploss=1)).encode(): (422, "stoploss"),
            json.dumps(payload(metadata={"confidence": 2})).encode(): (422, "metadata"),
            json.dumps(payload(comment="nul \x00 inside")).encode(): (422, "comment"),
            json.dumps(payload(price=-5)).encode(): (422, "price"),
            json.dumps({**payload(), "source": None}).encode(): (422, "source"),
            b"{" + b" " * 20_000 + b"}": (413, None),
        }
        for body, (status, field) in cases.items():
            answer = await send(body, sign(body))
            assert answer.status_code == status, (body[:80], answer.text)
            result = answer.json()
            assert result["status"] == "REJECTED" and result["message"] and result["correlation_id"]
            if field is not None:
                assert field in [e["field"].split(".")[0] for e in result["errors"]], answer.text
        short = (await send(json.dumps(payload(direction="short")).encode(), None)).json()
        assert short["status"] == "REJECTED" and "errors" not in short  # the signature is checked first
        assert (await http.get("/webhook")).status_code == 405
        assert await table_counts(runtime) == before


async def test_without_a_secret_every_signal_is_refused(database: DatabaseConfig):
    async with webhook_product(database, TelegramStandIn(), secret=None) as (runtime, http):
        answer = await post(http, payload())
        assert answer.status_code == 401 and "WEBHOOK_SECRET is not configured" in answer.json()["message"]
        assert await query(runtime, "SELECT count(*) FROM signals WHERE source = 'webhook'") == [(0,)]
