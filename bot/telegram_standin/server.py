"""Serve an ASGI app with uvicorn on a real loopback socket, inside the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_asgi(
    app: Any, host: str = "127.0.0.1", port: int = 0, on_shutdown: Callable[[], None] | None = None
) -> AsyncIterator[str]:
    """Run `app` on host:port (port 0 picks a free one) and yield "http://host:port".

    `on_shutdown` runs before the server stops, e.g. to release pending long polls so the
    graceful shutdown does not wait for them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    config = uvicorn.Config(
        app,
        lifespan="off",
        ws="none",
        http="h11",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"standin-server-{host}")
    try:
        await _wait_started(server, task)
        bound_port = sock.getsockname()[1]
        yield f"http://[{host}]:{bound_port}" if family == socket.AF_INET6 else f"http://{host}:{bound_port}"
    finally:
        if on_shutdown is not None:
            on_shutdown()
        server.should_exit = True
        await task
        sock.close()


async def _wait_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the stand-in HTTP server stopped during startup")
        await asyncio.sleep(0.01)
