"""Engine settings: the exchange, market data, and the LLM agent."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
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

    _split = field_validator("symbols", mode="before")(split_csv)


class LlmConfig(BaseModel):
    """The Anthropic agent strategy; off without an API key."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = None
    model: str = "claude-sonnet-4-5"
    base_url: str | None = None  # None = Anthropic's API
    daily_budget_usd: Decimal = Field(Decimal("5"), ge=0)
    timeout_seconds: float = Field(30.0, gt=0)
    max_retries: int = Field(2, ge=0, le=5)

    @property
    def is_enabled(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value())
