from __future__ import annotations

import socket

from bot.health import HealthChecker
from bot.http_server import build_http_app, make_server


def test_the_listening_socket_is_tcp_so_each_connection_gets_tcp_nodelay():
    # asyncio turns Nagle's algorithm off only for sockets whose proto is IPPROTO_TCP; with proto 0 every response
    # written in two parts (headers, body) waited for the client's delayed ACK: about 40 ms per request.
    _, sock = make_server(build_http_app(HealthChecker({})), "127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
