"""`POST /webhook`: signals from outside (TradingView-style), signed with HMAC-SHA256 of the raw body.

Checks, in order, each answered with a clear 4xx and no state change: body size (413), signature in
`X-Signature` against `WEBHOOK_SECRET`, compared in constant time (401), JSON (400), fields (422, each
named), timestamp within the window (422, replay protection), a tradable symbol and a price (422).
A valid signal goes to the inbox: stored at once (202 ACCEPTED), or recognised as a duplicate (200
DUPLICATE). The payload and signing are documented in docs/WEBHOOK.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from pydantic import SecretStr, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.webhook_payload import WebhookPayload, field_errors, parse_json
from engine.clock import Clock
from engine.domain.enums import Side, SignalAction, SignalSource
from engine.domain.ids import Symbol
from engine.domain.signals import Signal
from engine.ports import PriceSource
from engine.signal_inbox import ErrorRecorder, InboxStatus, SignalInbox
from engine.strategy_control import WEBHOOK

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Signature"
REQUESTS = Counter("tradebot_webhook_requests", "Webhook requests by outcome", ["outcome"])
HANDLING = Histogram("tradebot_webhook_handling_seconds", "Time to answer a webhook request")
TO_DECISION = Histogram("tradebot_inbound_signal_seconds", "From a webhook signal's arrival to its decisions stored")
STATUS_CODES = {InboxStatus.ACCEPTED: 202, InboxStatus.DUPLICATE: 200, InboxStatus.IGNORED: 200, InboxStatus.BUSY: 429}


class Refused(Exception):
    """A request answered with a 4xx: nothing was stored."""

    def __init__(self, status_code: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.errors = status_code, message, errors or []


@dataclass(frozen=True, slots=True)
class WebhookContext:
    inbox: SignalInbox
    secret: SecretStr | None
    window: timedelta
    max_body_bytes: int
    symbols: Sequence[Symbol]
    prices: PriceSource
    engine_clock: Clock  # the engine's time (simulated in replays), for the signal
    wall_clock: Clock  # real time, for the sender's timestamp
    record_error: ErrorRecorder


def webhook_routes(context: WebhookContext) -> list[BaseRoute]:
    context.inbox.observers.append(lambda signal, status, seconds: TO_DECISION.observe(seconds))

    async def endpoint(request: Request) -> JSONResponse:
        return await receive(request, context)

    return [Route("/webhook", endpoint, methods=["POST"])]


async def receive(request: Request, context: WebhookContext) -> JSONResponse:
    started = time.perf_counter()
    correlation_id = uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        try:
            status_code, body = await _accept(request, context, correlation_id)
        except Refused as refusal:
            status_code, body = refusal.status_code, {"status": "REJECTED", "message": refusal.message}
            if refusal.errors:
                body["errors"] = refusal.errors
            log.info("webhook.refused", status=status_code, reason=refusal.message, errors=refusal.errors)
        except Exception as error:  # not the sender's fault: keep it, answer without details
            log.exception("webhook.failed")
            await context.record_error(
                "webhook", f"{type(error).__name__}: {error}", {"correlation_id": correlation_id}
            )
            status_code, body = 500, {"status": "ERROR", "message": "internal error; the operators have been told"}
    elapsed = time.perf_counter() - started
    REQUESTS.labels(outcome=str(body["status"]).lower()).inc()
    HANDLING.observe(elapsed)
    body |= {"correlation_id": correlation_id, "processing_time_ms": round(elapsed * 1000, 3)}
    headers = {"Retry-After": "1"} if status_code == 429 else None
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _accept(request: Request, context: WebhookContext, correlation_id: str) -> tuple[int, dict[str, Any]]:
    raw = await _read_body(request, context.max_body_bytes)
    _verify(raw, request.headers.get(SIGNATURE_HEADER), context.secret)
    payload = _payload(raw)
    signal, content_hash = _signal(payload, context, correlation_id)
    receipt = await context.inbox.receive(signal, content_hash)
    log.info("webhook.received", status=receipt.status.value, signal_id=receipt.signal_id, symbol=signal.symbol)
    body: dict[str, Any] = {"status": receipt.status.value, "message": receipt.message}
    if receipt.signal_id is not None:
        body["signal_id"] = receipt.signal_id
    return STATUS_CODES[receipt.status], body


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"the body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(400, "the body was cut off") from None
    return b"".join(chunks)


def _verify(raw: bytes, header: str | None, secret: SecretStr | None) -> None:
    if secret is None:
        raise Refused(401, "signed signals are not accepted here: WEBHOOK_SECRET is not configured")
    if not header:
        raise Refused(401, f"missing {SIGNATURE_HEADER}: hex HMAC-SHA256 of the raw body with the shared secret")
    provided = header.strip().removeprefix("sha256=").lower().encode("latin-1", errors="replace")
    expected = hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, provided):
        raise Refused(401, f"bad {SIGNATURE_HEADER}: it is not the HMAC-SHA256 of this body with the shared secret")


def _payload(raw: bytes) -> WebhookPayload:
    try:
        document = parse_json(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Refused(400, f"the body is not valid UTF-8 JSON ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise Refused(400, "the body must be a JSON object")
    try:
        return WebhookPayload.model_validate(document)
    except ValidationError as error:
        raise Refused(422, "some fields are wrong", field_errors(error)) from None


def _signal(payload: WebhookPayload, context: WebhookContext, correlation_id: str) -> tuple[Signal, str]:
    symbol = resolve_symbol(payload.symbol, context.symbols)
    now = context.wall_clock.now()
    if abs(now - payload.timestamp) > context.window:
        reason = f"is outside the accepted window of {int(context.window.total_seconds())} s around {now.isoformat()}"
        raise Refused(422, "stale or future signal (replay protection)", [{"field": "timestamp", "reason": reason}])
    price = payload.price or context.prices.last_price(symbol)
    if price is None:
        raise Refused(422, "no price", [{"field": "price", "reason": f"no market price for {symbol} now; send one"}])
    entry = payload.is_entry
    signal = Signal(
        strategy=WEBHOOK,
        symbol=symbol,
        action=SignalAction.ENTER if entry else SignalAction.EXIT,
        side=Side.BUY if entry else Side.SELL,
        price=price,
        ts=context.engine_clock.now(),
        source=SignalSource.WEBHOOK,
        strength=payload.confidence if payload.confidence is not None else Decimal(1),
        stop_price=payload.stop_loss if entry else None,
        take_profit=payload.take_profit if entry else None,
        rationale=_rationale(payload, symbol),
        timeframe=payload.timeframe,
        idempotency_key=payload.idempotency(symbol),
        metadata={
            "source": payload.source,
            "strategy": payload.strategy,
            "sent_at": payload.timestamp.isoformat(),
            "correlation_id": correlation_id,
            "metadata": payload.plain_metadata(),
        },
    )
    return signal, payload.content_hash(symbol)


def resolve_symbol(given: str, symbols: Sequence[Symbol]) -> Symbol:
    """ "ETH/USDT", "eth/usdt", "ETHUSDT" or "BINANCE:ETHUSDT" name the same market; anything else is refused."""
    wanted = given.rpartition(":")[2].upper()
    for symbol in symbols:
        if wanted in (symbol, symbol.replace("/", "")):
            return symbol
    reason = f"{given} is not traded here; known: {', '.join(symbols)}"
    raise Refused(422, "unknown symbol", [{"field": "symbol", "reason": reason}])


def _rationale(payload: WebhookPayload, symbol: Symbol) -> str:
    verb = "buy" if payload.is_entry else "exit"
    text = f"{payload.strategy} ({payload.timeframe}) via {payload.source}: {verb} {symbol}"
    if payload.confidence is not None:
        text += f", confidence {payload.confidence:.2f}"
    if payload.comment:
        text += f" — {payload.comment}"
    return text
