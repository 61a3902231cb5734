"""Storage settings: where the database is and the key that encrypts secrets at rest."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./tradebot.db"


class DatabaseConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)  # may carry a password
    encryption_key: SecretStr | None = None  # Fernet key (urlsafe base64, 32 bytes) for API keys at rest
    search_path: str | None = None  # PostgreSQL schema to use (search_path); None = the server's default
    pool_size: int = 10
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_secret_value().startswith("sqlite")
