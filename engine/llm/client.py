"""The one place that talks to Anthropic: the real SDK (AsyncAnthropic, on httpx2), a forced tool call, token
usage and cost, and the SDK's errors translated once into ours (ordered by how the caller must react)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import anthropic
import httpx2

from engine.config import LlmConfig, ModelPrice
from engine.errors import OperationalError, TemporaryError
from engine.llm.decision import DECISION_TOOL, SYSTEM_PROMPT, TOOL_NAME

MILLION = Decimal(1_000_000)


class LlmUnavailable(TemporaryError):
    """Rate-limited, overloaded, timed out or unreachable, after the SDK's own retries: back off."""

    def __init__(self, reason: str, outcome: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.outcome = outcome  # rate_limited, timeout, unavailable
        self.retry_after = retry_after


class LlmRefused(OperationalError):
    """The API refused the request itself (bad key, no permission, malformed request): an operator must act."""


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def cost(self, price: ModelPrice) -> Decimal:
        """Exact USD cost from the per-million-token price table."""
        total = (
            self.input * price.input
            + self.output * price.output
            + self.cache_read * price.cache_read
            + self.cache_write * price.cache_write
        )
        return total / MILLION


@dataclass(frozen=True, slots=True)
class LlmReply:
    tool_input: object | None  # the forced tool call's input, None when the model did not call it
    usage: TokenUsage
    model: str
    stop_reason: str | None


def anthropic_client(config: LlmConfig, http_client: httpx2.AsyncClient | None = None) -> anthropic.AsyncAnthropic:
    """The SDK client from configuration; `http_client` points it at a stand-in in tests."""
    assert config.api_key is not None
    return anthropic.AsyncAnthropic(
        api_key=config.api_key.get_secret_value(),
        base_url=config.base_url,
        timeout=config.timeout_seconds,
        max_retries=config.max_retries,
        http_client=http_client,
    )


class LlmClient:
    def __init__(self, client: anthropic.AsyncAnthropic, model: str, max_tokens: int) -> None:
        self._client = client
        self.model = model
        self._max_tokens = max_tokens

    async def ask(self, prompt: str) -> LlmReply:
        """One decision through the forced `record_decision` tool call. Raises LlmUnavailable or LlmRefused."""
        with anthropic_errors():
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=self._max_tokens,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": prompt}],
                tools=[DECISION_TOOL],  # type: ignore[list-item]
                tool_choice={"type": "tool", "name": TOOL_NAME},
                thinking={"type": "disabled"},  # a forced tool call needs thinking off
            )
        calls = [b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME]
        usage = message.usage
        return LlmReply(
            tool_input=calls[0].input if calls else None,
            usage=TokenUsage(
                input=usage.input_tokens,
                output=usage.output_tokens,
                cache_read=usage.cache_read_input_tokens or 0,
                cache_write=usage.cache_creation_input_tokens or 0,
            ),
            model=message.model,
            stop_reason=message.stop_reason,
        )

    async def aclose(self) -> None:
        await self._client.close()


@contextlib.contextmanager
def anthropic_errors() -> Iterator[None]:
    """Translate the SDK's errors, most specific first."""
    try:
        yield
    except anthropic.RateLimitError as error:
        raise LlmUnavailable("rate limited", "rate_limited", _retry_after(error.response)) from error
    except anthropic.APITimeoutError as error:
        raise LlmUnavailable("timed out", "timeout") from error
    except anthropic.APIConnectionError as error:
        raise LlmUnavailable(f"unreachable: {error}", "unavailable") from error
    except anthropic.APIStatusError as error:
        if error.status_code >= 500 or error.status_code in (408, 409):
            raise LlmUnavailable(f"HTTP {error.status_code}", "unavailable", _retry_after(error.response)) from error
        raise LlmRefused(f"HTTP {error.status_code} {error.type or ''}: {error.api_message or ''}".strip()) from error
    except anthropic.APIResponseValidationError as error:
        raise LlmRefused(f"unreadable answer: {error}") from error


def _retry_after(response: httpx2.Response) -> float | None:
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        try:
            if value is not None:
                return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None
