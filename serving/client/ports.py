"""Triton's default ports: the one definition every command, the launcher and the SDK use.

This module imports nothing, so the client SDK (numpy + tritonclient only) can use it too.
"""

from __future__ import annotations

#: Triton's default HTTP/REST port (``--http-port``).
HTTP_PORT = 8000
#: Triton's default gRPC port (``--grpc-port``).
GRPC_PORT = 8001
#: Triton's default Prometheus metrics port (``--metrics-port``).
METRICS_PORT = 8002


def default_grpc_url(http_url: str) -> str:
    """The gRPC ``host:port`` assumed for a server given by its HTTP ``host[:port]``.

    The same host on :data:`GRPC_PORT`: a server started on other ports is named by its
    gRPC address too (``--grpc-url``), never guessed from the HTTP port.
    """
    host = http_url.rsplit(":", 1)[0] if ":" in http_url else http_url
    return f"{host}:{GRPC_PORT}"
