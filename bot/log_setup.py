"""structlog for everything (our logs and the libraries'): JSON lines in production, readable on a terminal,
with a processor that removes secrets wherever they would appear."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

REDACTED = "***"
# field names whose values are secrets ("input_tokens" is a count, not a token)
_SECRET_KEYS = re.compile(r"(secret|token(?!s)|password|api_?key|passphrase|authorization|encryption_key)", re.I)
_TELEGRAM_TOKEN = re.compile(r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}")  # also inside ".../bot<token>/..."
_PATTERNS = (
    # key=value in URLs and forms: ?apiKey=…&signature=…
    (re.compile(r"(?i)\b(api[_-]?key|secret|token|password|passphrase|signature)=([^&\s\"']+)"), r"\1=***"),
    # headers: Authorization: Bearer …, X-MBX-APIKEY: …, x-api-key: …
    (
        re.compile(r"(?i)\b(authorization|x-mbx-apikey|x-api-key)([\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?[^\"',\s}]+"),
        r"\1\2***",
    ),
    # credentials in URLs: postgresql://user:password@host
    (re.compile(r"://([^:/@\s]+):([^@\s/]+)@"), r"://\1:***@"),
)


class SecretRedactor:
    """Replace known secret values and secret-looking fields in every log event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if _SECRET_KEYS.search(key) and value not in (None, "", False):
                event[key] = REDACTED
            else:
                event[key] = self.scrub(value)
        return event

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            for pattern, replacement in _PATTERNS:
                value = pattern.sub(replacement, value)
            return _TELEGRAM_TOKEN.sub(REDACTED, value)
        if isinstance(value, dict):
            return {k: (REDACTED if _SECRET_KEYS.search(str(k)) else self.scrub(v)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(v) for v in value)
        return value


def configure_logging(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = (), stream: Any = None) -> None:
    """Route structlog and the standard library through one pipeline that ends in the redactor and a renderer."""
    stream = stream or sys.stderr
    as_json = fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    redactor = SecretRedactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,  # tracebacks become text before the redactor reads them
        redactor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        # below the level, an event is dropped before any processor runs (DEBUG lines in hot paths cost nothing)
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "aiosqlite", "asyncio", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
