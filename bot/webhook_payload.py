"""The JSON body of `POST /webhook`: validated field by field, so every refusal names the field and the reason.

Every text that reaches the database is checked to be storable (no NUL, valid UTF-8), numbers are bounded
and exact (JSON numbers are parsed as `Decimal`), unknown fields are refused rather than silently ignored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, field_validator

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$"
ENTER_WORDS = frozenset({"buy", "long"})
EXIT_WORDS = frozenset({"sell", "exit", "close", "flat"})

Name = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NAME)]
Price = Annotated[Decimal, Field(gt=0, lt=Decimal(10) ** 12, decimal_places=12, allow_inf_nan=False)]
Number = Annotated[Decimal, Field(gt=-(Decimal(10) ** 15), lt=Decimal(10) ** 15, allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(max_length=256)]
Scalar = StrictBool | Annotated[int, Field(ge=-(10**15), le=10**15)] | Number | Text | None
Metadata = Annotated[dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Scalar], Field(max_length=20)]


class WebhookPayload(BaseModel):
    """What a sender posts. `direction`: buy/long opens a long; sell/exit/close/flat closes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    source: Name  # who sent it, e.g. "tradingview"
    symbol: Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9:/._\-]+$")]
    direction: str
    timeframe: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}[mhdw]$")]
    timestamp: datetime  # ISO 8601 with a zone, or Unix seconds (milliseconds accepted)
    strategy: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NAME)]
    metadata: Metadata = {}  # e.g. score, confidence (0..1); at most 20 scalar values
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NAME)] | None = None
    price: Price | None = None  # the price the sender saw; the market price is used when absent
    stop_loss: Price | None = None
    take_profit: Price | None = None
    comment: Annotated[str, StringConstraints(max_length=280)] | None = None

    @field_validator("direction")
    @classmethod
    def _direction(cls, value: str) -> str:
        word = value.lower()
        if word == "short":
            raise ValueError('short selling is not supported (long-only spot trading); send "exit" to close a long')
        if word not in ENTER_WORDS | EXIT_WORDS:
            raise ValueError("must be one of buy, long, sell, exit, close, flat")
        return word

    @field_validator("timestamp", mode="before")
    @classmethod
    def _epoch(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be an ISO 8601 time with a zone, or Unix seconds")
        if isinstance(value, int | Decimal):
            seconds = value / 1000 if value > 10**11 else value
            try:
                return datetime.fromtimestamp(float(seconds), UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError("is not a time this century") from None
        return value

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-01-05T14:30:00Z")
        return value.astimezone(UTC)

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            storable(key)
            if isinstance(item, str):
                storable(item)
        for key in ("confidence", "score"):
            if key in value and (isinstance(value[key], bool) or not isinstance(value[key], int | Decimal)):
                raise ValueError(f"{key} must be a number")
        if "confidence" in value and not 0 <= value["confidence"] <= 1:
            raise ValueError("confidence must be between 0 and 1")
        return value

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str | None) -> str | None:
        return None if value is None else storable(value)

    @property
    def is_entry(self) -> bool:
        return self.direction in ENTER_WORDS

    @property
    def confidence(self) -> Decimal | None:
        value = self.metadata.get("confidence")
        return None if value is None else Decimal(value)

    def plain_metadata(self) -> dict[str, object]:
        """The metadata as JSON-storable values (numbers as floats: they are never money)."""
        return {k: float(v) if isinstance(v, Decimal) else v for k, v in self.metadata.items()}

    def content_hash(self, symbol: str) -> str:
        """What makes two signals "the same content": everything but the timestamp and the idempotency key."""
        content = self.model_dump(mode="json", exclude={"timestamp", "idempotency_key"}) | {"symbol": symbol}
        return _digest(content)

    def idempotency(self, symbol: str) -> str:
        """The sender's key when given, namespaced by source; otherwise the digest of the whole signal."""
        if self.idempotency_key is not None:
            return f"webhook:{self.source}:{self.idempotency_key}"
        return "webhook:sha256:" + _digest(self.model_dump(mode="json") | {"symbol": symbol})


def storable(text: str) -> str:
    """Refuse what a database column cannot hold: NUL characters and unpaired surrogates."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    return text


def parse_json(body: bytes) -> Any:
    """JSON with exact numbers; NaN and Infinity refused. Raises ValueError."""
    text = body.decode("utf-8")
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as [{"field": "metadata.confidence", "reason": "..."}], without echoing the input."""
    errors = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        reason = item["msg"].removeprefix("Value error, ")
        errors.append({"field": field, "reason": reason})
    return errors


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
