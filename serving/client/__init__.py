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
"""

from __future__ import annotations

from serving.client.aio import AsyncZooClient
from serving.client.clients import BaseZooClient, RemoteClient, ZooClient
from serving.client.errors import (
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
from serving.client.requests import (
    check_images,
    check_latents,
    check_masks,
    check_seeds,
    check_ws,
    encoder_of,
    generate_request,
    interpolate_request,
    join_batches,
    model_candidates,
    resolve_model,
    split_batches,
    synthesize_request,
)
from serving.client.shm import Region, RegionSet, SharedMemory, SharedMemoryPool
from serving.client.signature import (
    ENCODER_SUFFIX,
    GENERATE_ENTRIES,
    LABEL_CLASSES_PARAMETER,
    Array,
    ModelSignature,
)
from serving.client.transport import (
    DEFAULT_PORTS,
    SCHEMES,
    TLS_PORT,
    Endpoint,
    Protocol,
    map_error,
    outputs_of,
    parse_endpoint,
)
from zoo.validation import MAX_SEED

__all__ = [
    "DEFAULT_PORTS",
    "ENCODER_SUFFIX",
    "GENERATE_ENTRIES",
    "LABEL_CLASSES_PARAMETER",
    "MAX_SEED",
    "SCHEMES",
    "TLS_PORT",
    "Array",
    "AsyncZooClient",
    "AuthenticationError",
    "BaseZooClient",
    "Endpoint",
    "InvalidInputError",
    "ModelNotFoundError",
    "ModelSignature",
    "Protocol",
    "Region",
    "RegionSet",
    "RemoteClient",
    "RequestTimeoutError",
    "ServerError",
    "ServerUnavailableError",
    "SharedMemory",
    "SharedMemoryError",
    "SharedMemoryPool",
    "TLSError",
    "UnsupportedAPIError",
    "ZooClient",
    "ZooClientError",
    "check_images",
    "check_latents",
    "check_masks",
    "check_seeds",
    "check_ws",
    "encoder_of",
    "generate_request",
    "interpolate_request",
    "join_batches",
    "map_error",
    "model_candidates",
    "outputs_of",
    "parse_endpoint",
    "resolve_model",
    "split_batches",
    "synthesize_request",
]
