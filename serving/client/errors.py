"""The client's errors: each subclasses the builtin a caller would catch.

They are defined in :mod:`zoo.errors`, the one hierarchy of genzoo's errors (torch-free, no
imports), so the server side's input checks (:mod:`zoo.validation`, run by ``InProcessZoo``
and the Triton backends) raise the same :class:`InvalidInputError` the SDK does, and
``except ZooClientError`` catches it wherever the call ran.
"""

from __future__ import annotations

from zoo.errors import (
    AuthenticationError,
    InvalidInputError,
    ModelNotFoundError,
    RequestTimeoutError,
    ServerError,
    ServerUnavailableError,
    SharedMemoryError,
    TLSError,
    UnsupportedAPIError,
    ZooClientError,
)

__all__ = [
    "AuthenticationError",
    "InvalidInputError",
    "ModelNotFoundError",
    "RequestTimeoutError",
    "ServerError",
    "ServerUnavailableError",
    "SharedMemoryError",
    "TLSError",
    "UnsupportedAPIError",
    "ZooClientError",
]
