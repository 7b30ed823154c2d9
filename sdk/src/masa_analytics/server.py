"""A small asyncio HTTPS server for /metrics and /health, one per endpoint.

asyncio keeps hundreds of endpoints cheap in one process, which the fleet simulator needs.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Callable, Dict, FrozenSet, Optional, Set, Tuple

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

MAX_HEADER_BYTES = 16 * 1024
IDLE_TIMEOUT = 30.0

Response = Tuple[int, str, bytes]


class MetricsEndpoint:
    """Serves ``registry`` at ``metrics_path`` and ``health()`` at ``/health`` over mTLS.

    ``metrics_clients`` and ``health_clients`` name the client identities (any SAN of the client
    certificate: a URI, DNS name or address) each route admits; empty admits any certificate our CA
    signed. Others get 403.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        context: ssl.SSLContext,
        host: str,
        port: int,
        health: Callable[[], Dict[str, object]],
        metrics_path: str = "/metrics",
        metrics_clients: FrozenSet[str] = frozenset(),
        health_clients: FrozenSet[str] = frozenset(),
    ):
        self.registry = registry
        self.context = context
        self.host = host
        self.port = port
        self.health = health
        self.metrics_path = metrics_path
        self.metrics_clients = frozenset(metrics_clients)
        self.health_clients = frozenset(health_clients)
        self._server: Optional[asyncio.AbstractServer] = None
        self._connections: Set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve_connection, self.host, self.port, ssl=self.context, reuse_address=True
        )
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            # Keep-alive connections outlive the listening socket unless closed here.
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    def respond(self, path: str, client: FrozenSet[str] = frozenset()) -> Response:
        """``client`` holds the SANs of the certificate the client presented."""
        route = path.split("?", 1)[0]
        admitted = {self.metrics_path: self.metrics_clients, "/health": self.health_clients}.get(route)
        if admitted and not admitted & client:
            return 403, "text/plain; charset=utf-8", b"this client certificate is not admitted here\n"
        if route == self.metrics_path:
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
        if route == "/health":
            status = self.health()
            code = 200 if status.get("status") == "passing" else 503
            return code, "application/json", json.dumps(status).encode()
        return 404, "text/plain; charset=utf-8", b"not found\n"

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        client = client_identities(writer.get_extra_info("peercert"))
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
                if len(head) > MAX_HEADER_BYTES:
                    break
                request_line, _sep, header_text = head.decode("latin-1").partition("\r\n")
                parts = request_line.split()
                if len(parts) != 3:
                    break
                method, path, version = parts
                headers = header_text.lower()
                keep_alive = version == "HTTP/1.1" and "connection: close" not in headers
                if method not in ("GET", "HEAD"):
                    code, ctype, body = 405, "text/plain; charset=utf-8", b"method not allowed\n"
                else:
                    code, ctype, body = self.respond(path, client)
                writer.write(
                    (
                        f"HTTP/1.1 {code} {_REASONS.get(code, 'OK')}\r\n"
                        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
                    ).encode("latin-1")
                    + (body if method == "GET" else b"")
                )
                await writer.drain()
                if not keep_alive:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError,
                ssl.SSLError, OSError):
            pass
        finally:
            writer.close()


def client_identities(peercert: Optional[dict]) -> FrozenSet[str]:
    """The SAN values of a verified peer certificate, as ``ssl`` decodes it."""
    return frozenset(value for _kind, value in (peercert or {}).get("subjectAltName", ()))


_REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
