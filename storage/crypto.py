"""Encryption of secrets at rest (exchange API keys): Fernet, with the key from the environment."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretsUnavailable(Exception):
    """No encryption key is configured, so secrets cannot be stored or read."""


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    @property
    def is_available(self) -> bool:
        return self._fernet is not None

    def encrypt(self, plaintext: str) -> str:
        return self._require().encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._require().decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable("stored secret cannot be decrypted with the configured key") from None

    def _require(self) -> Fernet:
        if self._fernet is None:
            raise SecretsUnavailable("DATABASE_ENCRYPTION_KEY is not set; exchange keys cannot be stored")
        return self._fernet

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
