"""The HTTP side of the process: `GET /health`, `GET /metrics`, and (with the signal issue) `POST /webhook`."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.health import DOWN, HealthChecker
from bot.metrics import MetricsFeed

log = structlog.get_logger(__name__)


def build_http_app(
    health: HealthChecker, extra_routes: list[BaseRoute] | None = None, metrics: MetricsFeed | None = None
) -> Starlette:
    async def health_endpoint(request: Request) -> JSONResponse:
        report = await health.check()
        return JSONResponse(report, status_code=503 if report["status"] == DOWN else 200)

    async def metrics_endpoint(request: Request) -> Response:
        if metrics is not None:
            try:
                await metrics.refresh()
            except Exception as error:  # the database is away: serve what is known, the rest stays as it was
                log.warning("metrics.refresh_failed", error=f"{type(error).__name__}: {error}"[:300])
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/health", health_endpoint, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes)


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our event loop: the process's own signal handling stays in charge."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: Starlette, host: str, port: int) -> tuple[EmbeddedServer, socket.socket]:
    """Bind first (port 0 picks a free one), so the caller knows the address before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        app, http="httptools", log_config=None, lifespan="off", access_log=False, timeout_graceful_shutdown=2
    )
    return EmbeddedServer(config), sock
