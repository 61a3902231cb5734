"""Random and malformed bodies, headers and signatures thrown at POST /webhook: never a 5xx, and a refused
request changes no table. Many bodies are signed correctly, so the checks behind the signature are reached."""

from __future__ import annotations

import asyncio
import json
import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from sqlalchemy import text

from bot.health import HealthChecker
from bot.http_server import build_http_app
from bot.webhook import WebhookContext, webhook_routes
from bot.webhook_payload import WebhookPayload, field_errors
from engine.clock import SystemClock
from engine.domain.enums import RiskProfileName
from engine.signal_inbox import SignalInbox
from storage.config import DatabaseConfig
from storage.crypto import SecretBox
from storage.db import create_engine, create_session_factory
from storage.models import Base
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.bot.webhook_client import SECRET, payload, sign
from tests.conftest import ENCRYPTION_KEY
from tests.engine.harness import build_harness

FIELDS = ["source", "symbol", "direction", "timeframe", "timestamp", "strategy", "metadata", "idempotency_key"]
FIELDS += ["price", "stop_loss", "take_profit", "comment"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
awkward_text = st.text(alphabet=st.characters(codec=None), max_size=60) | st.sampled_from(
    ["", " ", "\x00", "\ud800", "ETH/USDT\x00", "1e999999", "NaN", "Infinity", "-0", "0" * 400, "ETHUSDT", "eth/usdt"]
)
field_values = json_values | awkward_text | st.integers(min_value=-(10**30), max_value=10**30)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A valid signal, then a few mutations: fields dropped, replaced with junk, or added."""
    document: dict[str, Any] = payload(
        symbol=draw(st.sampled_from(["ETH/USDT", "ADA/USDT", "ETHUSDT", "BINANCE:ADAUSDT", "XRP/USDT"])),
        direction=draw(st.sampled_from(["buy", "long", "sell", "exit", "short", "BUY"])),
        timestamp=(datetime.now(UTC) + timedelta(seconds=draw(st.integers(-900, 900)))).isoformat(),
    )
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["drop", "replace", "add", "metadata"]))
        name = draw(st.sampled_from(FIELDS))
        if action == "drop":
            document.pop(name, None)
        elif action == "replace":
            document[name] = draw(field_values)
        elif action == "add":
            document[draw(st.text(max_size=12))] = draw(field_values)
        else:
            document["metadata"] = draw(st.dictionaries(awkward_text, field_values, max_size=25))
    return document


bodies = st.one_of(
    st.binary(max_size=600),
    json_values.map(lambda v: json.dumps(v).encode()),
    documents().map(lambda d: json.dumps(d).encode()),
    documents().map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", errors="surrogatepass")),
    st.sampled_from([b"", b"{", b'{"a":1e999999}', b'{"timestamp": NaN}', b"[" * 5000, b"\xff\xfe{}"]),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    body = draw(bodies)
    how = draw(st.sampled_from(["good", "good", "good", "prefixed", "none", "random", "other_body", "empty"]))
    signature = {
        "good": sign(body),
        "prefixed": "sha256=" + sign(body).upper(),
        "none": None,
        "random": draw(st.text(alphabet=string.printable.strip(), max_size=80)),
        "other_body": sign(body + b"x"),
        "empty": "",
    }[how]
    headers = {"X-Signature": signature} if signature is not None else {}
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(["application/json", "text/plain", "x/y", "multipart/form-data"])
        )
    extra = draw(
        st.dictionaries(
            st.sampled_from(["X-Forwarded-For", "X-Request-Id", "Accept"]), st.text(string.ascii_letters, max_size=20)
        )
    )
    return body, {**headers, **extra}


async def counts(uow: SqlUnitOfWorkFactory) -> tuple[int, ...]:
    columns = ", ".join(f'(SELECT count(*) FROM "{t.name}")' for t in Base.metadata.sorted_tables)
    async with uow() as work:
        return tuple((await work.session.execute(text(f"SELECT {columns}"))).one())


async def build_app(database: DatabaseConfig) -> tuple[Any, SqlUnitOfWorkFactory, Any]:
    engine = create_engine(database)
    uow = SqlUnitOfWorkFactory(create_session_factory(engine), SecretBox(ENCRYPTION_KEY))
    harness = await build_harness(uow)
    await harness.onboarded_user(801, profile=RiskProfileName.MODERATE)
    inbox = SignalInbox(  # no worker runs: whatever a request stores, it stores before answering
        uow,
        harness.engine.pipeline,
        SystemClock(),
        is_enabled=harness.engine.strategy_control.is_enabled,
        duplicate_ttl=timedelta(seconds=60),
        max_age=timedelta(seconds=300),
        record_error=harness.engine.record_error,
    )
    context = WebhookContext(
        inbox=inbox,
        secret=SecretStr(SECRET),
        window=timedelta(seconds=300),
        max_body_bytes=16_384,
        symbols=harness.prices.symbols,
        prices=harness.prices,
        engine_clock=harness.clock,
        wall_clock=SystemClock(),
        record_error=harness.engine.record_error,
    )
    return build_http_app(HealthChecker({}), webhook_routes(context)), uow, engine


def test_random_requests_never_get_a_5xx_and_refused_ones_change_nothing(database: DatabaseConfig):
    loop = asyncio.new_event_loop()
    app, uow, engine = loop.run_until_complete(build_app(database))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://signals.test")
    outcomes: dict[int, int] = {}

    async def one(body: bytes, headers: dict[str, str]) -> None:
        before = await counts(uow)
        answer = await client.post("/webhook", content=body, headers=headers)
        assert answer.status_code < 500, answer.text
        result = answer.json()
        assert result["status"] and result["correlation_id"] and result["processing_time_ms"] >= 0
        if answer.status_code >= 400:
            assert result["status"] == "REJECTED" and await counts(uow) == before, answer.text
        outcomes[answer.status_code] = outcomes.get(answer.status_code, 0) + 1

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(request=requests())
    def check(request: tuple[bytes, dict[str, str]]) -> None:
        loop.run_until_complete(one(*request))

    try:
        check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(engine.dispose())
        loop.close()
    assert {401, 422}.issubset(outcomes) and (202 in outcomes or 200 in outcomes), outcomes


@pytest.mark.parametrize("value", ["1e-999999", "1E+30", "0.0000000000001", "-1", "0"])
def test_awkward_prices_are_refused_with_the_field_named(value: str):
    with pytest.raises(ValidationError) as raised:
        WebhookPayload.model_validate(payload(price=Decimal(value)))
    assert [e["field"] for e in field_errors(raised.value)] == ["price"]
