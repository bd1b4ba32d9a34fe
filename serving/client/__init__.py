"""Client SDK for a genzoo Triton server: seeds and images in, uint8 NHWC images out.

A client machine needs only ``numpy`` and ``tritonclient`` (``pip install 'genzoo[client]'``
or just those two). Of genzoo it imports, besides this package, only the torch-free
:mod:`zoo.errors` (the one error hierarchy, shared with the server side) and
:mod:`zoo.validation` (the input checks the server runs too), which import nothing but NumPy.

>>> from serving.client import ZooClient
>>> with ZooClient("127.0.0.1:8000") as zoo:
...     digits = zoo.generate("dcgan-mnist", seeds=range(16))   # (16, 32, 32, 1) uint8
...     logits = zoo.classify("classifier-mnist", digits)        # (16, 10) float32

The wire format (what ``zoo repo build`` writes into ``config.pbtxt``): generators take
``seed`` (int64, one per image) and, where the model has them, ``label``, ``psi`` and
``mix_seed``; images travel as uint8 NHWC in both directions; latent codes and logits as
float32. Every request uses binary tensors. A batch larger than the model's
``max_batch_size`` is split into several requests and the results concatenated.

The URL says how to connect: ``host:port`` or ``http://`` (plain HTTP), ``https://`` (HTTP over
TLS), ``grpc://`` and ``grpcs://`` (gRPC over TLS); ``ssl=True`` asks for TLS with a bare
``host:port``. ``ca_cert`` trusts a private CA, ``client_cert``/``client_key`` authenticate the
client (mutual TLS), ``headers`` go with every call (e.g. ``{"Authorization": "Bearer …"}`` for
an ingress that wants a token; header values never appear in reprs or error messages). A
scheme the client cannot honour is an error, never a quiet fall-back to plain text.

``ZooClient(url, shared_memory="system")`` (:class:`AsyncZooClient` too) moves tensors through
Triton's system shared memory instead of the socket (client and server on one host);
``"cuda"`` through CUDA shared memory on a GPU host. Regions are registered once per model and
batch size, reused, and unregistered on ``close()`` and after a failed call.

Errors subclass :class:`ZooClientError` (in process too: ``InProcessZoo`` raises the same types)
and builtins, so callers can catch broadly: :class:`ServerUnavailableError`
(``ConnectionError``), :class:`ModelNotFoundError` (``KeyError``, a ``LookupError``),
:class:`InvalidInputError` (``ValueError``), :class:`RequestTimeoutError` (``TimeoutError``),
:class:`ServerError` (``OSError``: the remote side failed; :class:`UnsupportedAPIError` when
it lacks the call), :class:`AuthenticationError`
(``PermissionError``: 401/403), :class:`TLSError` (``ConnectionError``: the handshake failed),
:class:`SharedMemoryError` (``OSError``: a shared-memory region could not be used).

Those are the package's API. The parts it is built from are modules of their own:
:mod:`~serving.client.calls` (each verb, once: its signature and text, which model serves it,
its inputs, its result),
:mod:`~serving.client.requests` (wire inputs built and checked; batches; model names),
:mod:`~serving.client.signature` (what a served model takes; the wire format's constants),
:mod:`~serving.client.transport` (endpoints, TLS, errors mapped, the steps both clients run),
:mod:`~serving.client.shm` (shared-memory regions), :mod:`~serving.client.ports` and
:mod:`~serving.client.closeable` (``close()`` and ``with``, for the server side's resources too).
"""

from __future__ import annotations

from serving.client.aio import AsyncZooClient
from serving.client.clients import BaseZooClient, ZooClient
from serving.client.shm import SharedMemory
from serving.client.signature import ModelSignature
from serving.client.transport import Protocol
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
from zoo.validation import MAX_SEED

__all__ = [
    "MAX_SEED",
    "AsyncZooClient",
    "AuthenticationError",
    "BaseZooClient",
    "InvalidInputError",
    "ModelNotFoundError",
    "ModelSignature",
    "Protocol",
    "RequestTimeoutError",
    "ServerError",
    "ServerUnavailableError",
    "SharedMemory",
    "SharedMemoryError",
    "TLSError",
    "UnsupportedAPIError",
    "ZooClient",
    "ZooClientError",
]
