"""Engine settings: the exchange, market data, and the LLM agent."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from engine.domain.ids import Symbol


def split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ExchangeConfig(BaseModel):
    """A live exchange through ccxt (optional) and the paper venue's fill model."""

    model_config = ConfigDict(frozen=True)

    id: str = "binance"  # ccxt exchange id used for live accounts
    base_url: str | None = None  # override the exchange's REST base URL (tests, stand-ins); None = the real one
    live_enabled: bool = False  # allow users to connect live API keys
    timeout_ms: int = Field(10_000, ge=500)
    fee_rate: Decimal = Field(Decimal("0.001"), ge=0, lt=1)  # paper taker fee
    slippage: Decimal = Field(Decimal("0.0005"), ge=0, lt=1)  # paper market-order slippage
    paper_volume_share: Decimal = Field(Decimal("0.1"), gt=0, le=1)  # paper limit orders fill this share of a bar
    reconcile_grace_seconds: float = Field(120.0, gt=0)  # an order unseen by its venue this long never reached it
    quote: str = "USDT"  # the currency accounts are kept in


class MarketConfig(BaseModel):
    """Where prices come from: recorded candles replayed (default) or the live exchange."""

    model_config = ConfigDict(frozen=True)

    source: Literal["replay", "live"] = "replay"
    symbols: Annotated[list[Symbol], NoDecode] = [
        Symbol(s) for s in ("ETH/USDT", "LTC/USDT", "XMR/USDT", "DASH/USDT", "ETC/USDT", "ADA/USDT")
    ]
    timeframe: str = "5m"
    replay_seconds_per_candle: float = Field(5.0, ge=0)  # wall seconds per replayed candle
    replay_rate: Decimal = Field(Decimal("11000"), gt=0)  # recorded prices are in BTC: 1 BTC = this many quote units
    replay_warmup: int = Field(60, ge=0)  # candles already closed when the replay starts
    poll_seconds: float = Field(5.0, gt=0)  # live ticker polling
    live_history: int = Field(200, ge=1, le=1000)  # live: closed candles loaded at start (indicator warm-up)

    _split = field_validator("symbols", mode="before")(split_csv)


class ModelPrice(BaseModel):
    """USD per million tokens, as Anthropic bills them."""

    model_config = ConfigDict(frozen=True)

    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cache_read: Decimal = Field(Decimal(0), ge=0)
    cache_write: Decimal = Field(Decimal(0), ge=0)


# Anthropic's published prices. The agent forces its decision tool, which needs thinking off: the 5.5
# generation (claude-sonnet-5-5, claude-opus-5-5) refuses forced tool choice, so it is not listed.
DEFAULT_PRICES = {
    "claude-haiku-4-5": ModelPrice(
        input=Decimal(1), output=Decimal(5), cache_read=Decimal("0.10"), cache_write=Decimal("1.25")
    ),
    "claude-sonnet-5": ModelPrice(
        input=Decimal(2), output=Decimal(10), cache_read=Decimal("0.20"), cache_write=Decimal("2.50")
    ),
    "claude-opus-5": ModelPrice(
        input=Decimal(5), output=Decimal(25), cache_read=Decimal("0.50"), cache_write=Decimal("6.25")
    ),
}


class LlmConfig(BaseModel):
    """The Anthropic agent strategy; off without an API key."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = None
    model: str = "claude-haiku-4-5"
    base_url: str | None = None  # None = Anthropic's API
    daily_budget_usd: Decimal = Field(Decimal("5"), ge=0)
    timeout_seconds: float = Field(30.0, gt=0)
    max_retries: int = Field(2, ge=0, le=5)
    prices: dict[str, ModelPrice] = DEFAULT_PRICES  # per model; a model without a price is refused
    interval_seconds: float = Field(900.0, ge=10)  # how often each symbol is looked at
    symbols: Annotated[list[Symbol], NoDecode] = []  # empty: every market symbol
    context_candles: int = Field(96, ge=30, le=500)  # candles summarised for the model
    cache_ttl_seconds: float = Field(600.0, ge=0)  # identical contexts within this time reuse the answer
    min_confidence: float = Field(0.6, ge=0, le=1)  # less confident answers are treated as "hold"
    max_tokens: int = Field(400, ge=64, le=4096)
    backoff_seconds: float = Field(30.0, gt=0)  # first pause after a rate limit or timeout; doubles after each
    max_backoff_seconds: float = Field(1800.0, gt=0)

    _split = field_validator("symbols", mode="before")(split_csv)

    @model_validator(mode="after")
    def _priced(self) -> LlmConfig:
        if self.model not in self.prices:
            raise ValueError(f"no price for model {self.model!r}: add it to ANTHROPIC_PRICES (USD per million tokens)")
        return self

    @property
    def is_enabled(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value())

    @property
    def price(self) -> ModelPrice:
        return self.prices[self.model]
