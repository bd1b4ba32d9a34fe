"""The client's errors: each subclasses the builtin a caller would catch."""

from __future__ import annotations


class ZooClientError(Exception):
    """Base class of every error the client raises."""


class ServerUnavailableError(ZooClientError, ConnectionError):
    """No Triton server answers at the URL (not started, wrong port, or it went away)."""


class ModelNotFoundError(ZooClientError, KeyError):
    """The server does not serve the requested model or entry point (a ``LookupError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidInputError(ZooClientError, ValueError):
    """Input the model cannot take; the message says what it expects."""


class RequestTimeoutError(ZooClientError, TimeoutError):
    """The server did not answer within the client's timeout."""


class ServerError(ZooClientError, OSError):
    """The server failed to run a request for another reason (its log has the details)."""


class AuthenticationError(ZooClientError, PermissionError):
    """The server or the proxy in front of it refused the call (HTTP 401/403, gRPC 16/7)."""


class UnsupportedAPIError(ServerError):
    """The server does not implement a call: a Triton extension a plain KServe v2 server lacks."""


class TLSError(ZooClientError, ConnectionError):
    """The TLS handshake failed: an untrusted or mismatched certificate, or no TLS there."""


class SharedMemoryError(ZooClientError, OSError):
    """A shared-memory region could not be created, registered or read."""
