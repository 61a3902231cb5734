"""The log pipeline never lets a secret out: known values, secret-named fields at any depth, keys in URLs and
headers, passwords in database URLs, tracebacks — in JSON and on the console; counts named like secrets stay."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bot.log_setup import configure_logging
from engine.ports import Credentials

BOT_TOKEN = "987654321:AAF-another-secret-token-value-xyz123"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DB_PASSWORD = "s3cr3t-db-pass"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    yield out
    logging.getLogger().handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_secret_fields_at_any_depth_and_known_values_anywhere_are_replaced(stream: io.StringIO):
    configure_logging("INFO", "json", secrets=[API_KEY, API_SECRET], stream=stream)
    log = structlog.get_logger("test")
    log.info(
        "exchange.request",
        request={"headers": {"X-MBX-APIKEY": API_KEY}, "params": [{"secret": API_SECRET, "symbol": "ETHUSDT"}]},
        note=f"keys {API_KEY} / {API_SECRET}",
        credentials=repr(Credentials(API_KEY, API_SECRET)),
        input_tokens=1200,
        output_tokens=80,
    )
    (line,) = lines(stream)
    text = stream.getvalue()
    assert API_KEY not in text and API_SECRET not in text
    assert line["request"] == {"headers": {"X-MBX-APIKEY": "***"}, "params": [{"secret": "***", "symbol": "ETHUSDT"}]}
    assert line["note"] == "keys *** / ***" and line["credentials"] == "Credentials(api_key='…Eh8A', secret='***')"
    assert line["input_tokens"] == 1200 and line["output_tokens"] == 80  # counts, not secrets


def test_keys_in_urls_headers_and_database_urls_are_cut_even_when_unknown(stream: io.StringIO):
    configure_logging("INFO", "json", stream=stream)  # nothing told: the patterns alone must catch these
    logging.getLogger("aiohttp.client").warning(
        "GET https://api.binance.com/api/v3/account?timestamp=1&recvWindow=5000&signature=abc123def456 "
        "headers={'X-MBX-APIKEY': 'k3yk3yk3y', 'Authorization': 'Bearer eyJhbGciOi.payload.sig'}"
    )
    structlog.get_logger("test").error(
        "database.unreachable",
        url=f"postgresql+asyncpg://tradebot:{DB_PASSWORD}@db.internal:5432/tradebot",
        detail=f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates?token=t0k3n",
    )
    text = stream.getvalue()
    for secret in ("abc123def456", "k3yk3yk3y", "eyJhbGciOi", DB_PASSWORD, BOT_TOKEN, "t0k3n"):
        assert secret not in text, secret
    first, second = lines(stream)
    assert "signature=***" in str(first["event"]) and "'X-MBX-APIKEY': '***'" in str(first["event"])
    assert second["url"] == "postgresql+asyncpg://tradebot:***@db.internal:5432/tradebot"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_traceback_carrying_a_secret_is_redacted_in_both_formats(stream: io.StringIO, fmt: str):
    configure_logging("INFO", fmt, secrets=[API_SECRET], stream=stream)
    try:
        raise PermissionError(f"binance refused key with secret {API_SECRET}")
    except PermissionError:
        structlog.get_logger("test").exception("exchange.account_refused", account=7)
    text = stream.getvalue()
    assert "PermissionError" in text and "Traceback" in text
    assert API_SECRET not in text and "secret ***" in text
