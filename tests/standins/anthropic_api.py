"""An Anthropic Messages API stand-in for the real `anthropic` SDK: `POST /v1/messages` answered from a script
of tool-use replies (with usage numbers), plain text, errors (429 with retry-after, 5xx, 529 overloaded) and
slow answers (timeouts). It checks the request like the API does (key, version header, body) and records it.

In-process (no socket)::

    standin = AnthropicStandIn()
    client = anthropic.AsyncAnthropic(api_key=standin.api_key, max_retries=0,
                                      http_client=httpx2.AsyncClient(transport=standin.transport()))

On loopback (real timeouts; `ANTHROPIC_BASE_URL` for the product)::

    async with standin.serve() as base_url: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 1250
    output_tokens: int = 180
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ToolReply:
    """The model calls the forced tool with `input`."""

    input: dict[str, Any]
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True)
class TextReply:
    """The model answers in prose instead of calling the tool."""

    text: str
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    status: int
    message: str = "scripted error"
    retry_after_ms: int | None = 1  # keeps the SDK's own retries fast; None: no header


@dataclass(frozen=True, slots=True)
class SlowReply:
    """Wait `seconds` before answering with `then` (a client with a shorter timeout gives up)."""

    seconds: float
    then: ToolReply | TextReply | ErrorReply


Reply = ToolReply | TextReply | ErrorReply | SlowReply


@dataclass
class RecordedRequest:
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0


class AnthropicStandIn:
    def __init__(self, api_key: str = "sk-ant-test-key") -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.default: Reply = ToolReply({"action": "hold", "confidence": 0.5, "rationale": "Nothing clear to act on."})
        self._script: deque[Reply] = deque()
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    # --- scripting ----------------------------------------------------------------------------

    def then(self, *replies: Reply) -> AnthropicStandIn:
        """Answer the next requests with these replies, in order; afterwards with `default`."""
        self._script.extend(replies)
        return self

    def decide(self, times: int = 1, usage: Usage | None = None, **decision: Any) -> AnthropicStandIn:
        return self.then(*[ToolReply(decision, usage or Usage())] * times)

    def fail(self, status: int, times: int = 1, retry_after_ms: int | None = 1) -> AnthropicStandIn:
        return self.then(*[ErrorReply(status, retry_after_ms=retry_after_ms)] * times)

    @property
    def calls(self) -> int:
        return len(self.requests)

    # --- connecting the SDK -------------------------------------------------------------------

    def transport(self) -> httpx2.ASGITransport:
        return httpx2.ASGITransport(app=self.app)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 (a free port) until the block ends; yields the base URL."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self.app, log_config=None, lifespan="off", access_log=False)
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            await task
            sock.close()

    # --- the API ------------------------------------------------------------------------------

    async def _messages(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        recorded = RecordedRequest(body if isinstance(body, dict) else {}, dict(request.headers))
        self.requests.append(recorded)
        problem = self._check(request, body)
        if problem is not None:
            status, message = problem
            response = _error(status, message, None)
        else:
            response = await self._answer(self._script.popleft() if self._script else self.default, recorded.body)
        recorded.status = response.status_code
        return response

    def _check(self, request: Request, body: Any) -> tuple[int, str] | None:
        headers = request.headers
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if key != self.api_key:
            return 401, "invalid x-api-key"
        if not headers.get("anthropic-version"):
            return 400, "anthropic-version: header is required"
        if not isinstance(body, dict):
            return 400, "the body must be a JSON object"
        if not isinstance(body.get("model"), str) or not isinstance(body.get("max_tokens"), int):
            return 400, "model and max_tokens are required"
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, "messages: at least one message is required"
        choice = body.get("tool_choice") or {}
        names = {tool.get("name") for tool in body.get("tools") or []}
        if choice.get("type") == "tool" and choice.get("name") not in names:
            return 400, "tool_choice names a tool that is not in tools"
        thinking = (body.get("thinking") or {}).get("type", "disabled")
        if choice.get("type") in ("tool", "any") and thinking != "disabled":
            return 400, "Thinking may not be enabled when tool_choice forces tool use."
        return None

    async def _answer(self, reply: Reply, body: dict[str, Any]) -> JSONResponse:
        if isinstance(reply, SlowReply):
            await asyncio.sleep(reply.seconds)
            reply = reply.then
        if isinstance(reply, ErrorReply):
            return _error(reply.status, reply.message, reply.retry_after_ms)
        if isinstance(reply, ToolReply):
            tool = (body.get("tool_choice") or {}).get("name") or "tool"
            content = [{"type": "tool_use", "id": f"toolu_{next(self._ids):06d}", "name": tool, "input": reply.input}]
            stop_reason = "tool_use"
        else:
            content, stop_reason = [{"type": "text", "text": reply.text}], "end_turn"
        message = {
            "id": f"msg_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": f"{body['model']}-20250929",
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.usage.input_tokens,
                "output_tokens": reply.usage.output_tokens,
                "cache_read_input_tokens": reply.usage.cache_read_input_tokens,
                "cache_creation_input_tokens": reply.usage.cache_creation_input_tokens,
            },
        }
        return JSONResponse(message, headers={"request-id": f"req_{next(self._ids):06d}"})


def _error(status: int, message: str, retry_after_ms: int | None) -> JSONResponse:
    headers = {"request-id": "req_error"}
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    kind = ERROR_TYPES.get(status, "api_error")
    return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status, headers=headers)
