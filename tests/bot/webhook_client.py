"""Signing and sending webhook signals the way a sender does (also used by bench/webhook.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

SECRET = "test-webhook-secret-0123456789abcdef"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "tradingview",
        "symbol": "ETH/USDT",
        "direction": "buy",
        "timeframe": "5m",
        "timestamp": datetime.now(UTC).isoformat(),
        "strategy": "tv_macd",
        "metadata": {"score": 0.82, "confidence": 0.7},
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def signed(document: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    return body, {"X-Signature": sign(body, secret), "Content-Type": "application/json"}
