"""One typed settings object, read once from the environment and `.env`, a section per package.

Variables are SECTION_FIELD (e.g. TELEGRAM_BOT_TOKEN, DATABASE_URL, RISK_PHASE); see `.env.example`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.config import ExchangeConfig, LlmConfig, MarketConfig, split_csv
from jobs.config import JobsConfig
from risk.config import RiskConfig
from storage.config import DatabaseConfig

TELEGRAM_API = "https://api.telegram.org/bot"


class TelegramConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    bot_token: SecretStr | None = None  # from @BotFather; without it only `tradebot demo` can chat
    base_url: str = TELEGRAM_API
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()  # Telegram user ids allowed to run admin commands
    admin_chat_id: int | None = None  # channel or group receiving alerts and the admin report
    allowed_ids: Annotated[frozenset[int], NoDecode] = frozenset()  # let in without an invite during closed phases
    invite_codes: Annotated[frozenset[str], NoDecode] = frozenset()
    rate_limit_per_minute: int = Field(30, ge=1)

    _split = field_validator("admin_ids", "allowed_ids", "invite_codes", mode="before")(split_csv)

    @property
    def base_file_url(self) -> str:
        return self.base_url.replace("/bot", "/file/bot", 1)


class WebhookConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    secret: SecretStr | None = None  # HMAC-SHA256 key for POST /webhook; the endpoint refuses all without it
    window_seconds: int = Field(300, ge=1)  # signals older or newer than this are refused (replay protection)
    duplicate_seconds: int = Field(60, ge=0)  # the same content again within this time is a duplicate
    max_body_bytes: int = Field(16_384, ge=1024, le=1_048_576)


class LogConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"  # auto: console on a terminal, JSON lines otherwise


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        frozen=True,
    )

    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    exchange: ExchangeConfig = ExchangeConfig()
    market: MarketConfig = MarketConfig()
    anthropic: LlmConfig = LlmConfig()
    risk: RiskConfig = RiskConfig()
    jobs: JobsConfig = JobsConfig()
    webhook: WebhookConfig = WebhookConfig()
    log: LogConfig = LogConfig()

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, values: Any) -> Any:
        """`NAME=` in .env or the environment means "not set", as in .env.example."""
        if isinstance(values, dict):
            return {k: cls._empty_means_default(v) for k, v in values.items() if v != ""}
        return values


def load_settings(**overrides: object) -> Settings:
    """Read the settings once at startup; nothing reads the environment after this."""
    return Settings(**overrides)  # type: ignore[arg-type]
