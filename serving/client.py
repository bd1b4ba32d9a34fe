"""Client SDK for a genzoo Triton server: seeds and images in, uint8 NHWC images out.

A client machine needs only ``numpy`` and ``tritonclient`` (``pip install 'genzoo[client]'``
or just those two): this module imports nothing else of genzoo, and keeps the few constants
it needs here.

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

Errors subclass builtins so callers can catch broadly: :class:`ServerUnavailableError`
(``ConnectionError``), :class:`ModelNotFoundError` (``KeyError``, a ``LookupError``),
:class:`InvalidInputError` (``ValueError``), :class:`RequestTimeoutError` (``TimeoutError``),
:class:`ServerError` (``OSError``: the remote side failed; :class:`UnsupportedAPIError` when
it lacks the call), :class:`AuthenticationError`
(``PermissionError``: 401/403), :class:`TLSError` (``ConnectionError``: the handshake failed),
:class:`SharedMemoryError` (``OSError``: a shared-memory region could not be used).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import difflib
import itertools
import os
import ssl as _ssl
import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from serving.ports import GRPC_PORT, HTTP_PORT

#: Largest seed: seeds are non-negative int64 values (the server's seed → latent rule).
MAX_SEED = 2**63 - 1
#: Classes of the zoo's class-conditional models (MNIST digits).
NUM_CLASSES = 10
#: Entry-point names that generate from seeds (GANs call it ``generate``, the VAE ``sample``).
GENERATE_ENTRIES = ("generate", "sample")
#: Name suffix of the zoo model that projects images into a generator (see encoder_of).
ENCODER_SUFFIX = "-encoder"
Protocol = Literal["http", "grpc"]
#: Default ports of a Triton server per protocol (plain text); TLS defaults to 443 (an ingress).
DEFAULT_PORTS = {"http": HTTP_PORT, "grpc": GRPC_PORT}
TLS_PORT = 443
#: URL schemes the client honours: scheme → (protocol, TLS).
SCHEMES: dict[str, tuple[Protocol, bool]] = {
    "http": ("http", False),
    "https": ("http", True),
    "grpc": ("grpc", False),
    "grpcs": ("grpc", True),
}

SharedMemory = Literal["system", "cuda"]
Array = npt.NDArray[Any]
C = TypeVar("C", bound="BaseZooClient")

_NP_DTYPES = {
    "TYPE_FP32": np.float32,
    "TYPE_INT64": np.int64,
    "TYPE_UINT8": np.uint8,
    "TYPE_FP16": np.float16,
    "TYPE_INT32": np.int32,
    "TYPE_BOOL": np.bool_,
}


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


@dataclass(frozen=True)
class ModelSignature:
    """What one served Triton model takes and returns, read from its ``config.pbtxt``."""

    name: str  # Triton model name, e.g. "vae-mnist_encode"
    inputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    outputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    max_batch_size: int  # largest batch one request may carry (0: no batch axis or no limit known)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelSignature:
        """Build from Triton's model configuration as JSON (HTTP or gRPC ``as_json``)."""
        cfg = config.get("config", config)

        def tensors(key: str) -> dict[str, tuple[np.dtype[Any], tuple[int, ...]]]:
            return {
                t["name"]: (
                    np.dtype(_NP_DTYPES.get(t["data_type"], np.float32)),
                    tuple(int(d) for d in t.get("dims", ())),
                )
                for t in cfg.get(key, ())
            }

        return cls(
            name=cfg["name"],
            inputs=tensors("input"),
            outputs=tensors("output"),
            max_batch_size=int(cfg.get("max_batch_size", 0)),
        )

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ModelSignature:
        """Build from the v2 core protocol's model metadata (``GET /v2/models/{name}``).

        What a server without Triton's model-configuration extension (KServe's model servers)
        tells: tensor names, datatypes (``INT64``) and shapes whose leading -1 is the batch
        axis. It has no batch limit, so every call goes in one request.
        """

        def tensors(key: str) -> dict[str, tuple[np.dtype[Any], tuple[int, ...]]]:
            out = {}
            for t in metadata.get(key, ()):
                shape = [int(d) for d in t.get("shape", ())]  # gRPC's JSON spells int64 as str
                dims = shape[1:] if shape[:1] == [-1] else shape
                dtype = _NP_DTYPES.get(f"TYPE_{t['datatype']}", np.float32)
                out[t["name"]] = (np.dtype(dtype), tuple(dims))
            return out

        return cls(
            name=metadata["name"],
            inputs=tensors("inputs"),
            outputs=tensors("outputs"),
            max_batch_size=0,
        )


# ---------------------------------------------------------------------------------------------
# Requests: user arguments → wire tensors, checked before anything is sent.
# ---------------------------------------------------------------------------------------------


def _per_item(values: Any, n: int, what: str) -> Array:
    """One value per item: a scalar is repeated; a sequence must have ``n`` entries."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise InvalidInputError(f"expected {n} {what} (one per seed), got shape {arr.shape}.")
    return arr


def check_seeds(seeds: Any, what: str = "seeds") -> npt.NDArray[np.int64]:
    """``seeds`` (an int, a range or a sequence) as a 1-D int64 array, each in 0..2**63-1."""
    if isinstance(seeds, range):
        seeds = list(seeds)
    arr = np.asarray(seeds)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(f"{what} must be a non-empty 1-D list of integers.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"{what} must be integers, got {arr.dtype}.")
    if int(arr.min()) < 0 or int(arr.max()) > MAX_SEED:
        raise InvalidInputError(f"{what} must lie in 0..{MAX_SEED} (non-negative int64).")
    return arr.astype(np.int64)


def generate_request(
    sig: ModelSignature,
    seeds: Any,
    *,
    labels: Any = None,
    psi: Any = None,
    mix_seeds: Any = None,
) -> dict[str, Array]:
    """The wire inputs of a generate call to ``sig``; defaults: ψ = 1, mixing seed = seed."""
    _require(sig, "seed", "generate")
    s = check_seeds(seeds)
    n = len(s)
    req: dict[str, Array] = {"seed": s.reshape(n, 1)}
    if "label" in sig.inputs:
        if labels is None:
            raise InvalidInputError(
                f"{sig.name} is class-conditional: pass labels (0–{NUM_CLASSES - 1})."
            )
        lab = _per_item(labels, n, "labels")
        if not np.issubdtype(lab.dtype, np.integer):
            raise InvalidInputError(f"labels must be integers, got {lab.dtype}.")
        if int(lab.min()) < 0 or int(lab.max()) >= NUM_CLASSES:
            raise InvalidInputError(f"labels must lie in 0..{NUM_CLASSES - 1}.")
        req["label"] = lab.astype(np.int64).reshape(n, 1)
    elif labels is not None:
        raise InvalidInputError(f"{sig.name} is not class-conditional: drop the labels.")
    if "psi" in sig.inputs:
        p = _per_item(1.0 if psi is None else psi, n, "ψ values").astype(np.float64)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 10:
            raise InvalidInputError("ψ must be a finite number in [-10, 10] (1 = no truncation).")
        req["psi"] = p.astype(np.float32).reshape(n, 1)
    elif psi is not None:
        raise InvalidInputError(f"{sig.name} has no truncation ψ (StyleGAN2 models have).")
    if "mix_seed" in sig.inputs:
        mix = s if mix_seeds is None else check_seeds(mix_seeds, "mixing seeds")
        if mix.shape != s.shape:
            raise InvalidInputError(f"expected {n} mixing seeds (one per seed), got {len(mix)}.")
        req["mix_seed"] = mix.reshape(n, 1)
    elif mix_seeds is not None:
        raise InvalidInputError(f"{sig.name} has no style mixing (StyleGAN2 models have).")
    return req


def check_images(sig: ModelSignature, images: Any, name: str = "image") -> npt.NDArray[np.uint8]:
    """uint8 NHWC images matching the model's input ``name``; ``(N, H, W)`` is accepted for C=1."""
    _require(sig, name, "take images")
    h, w, c = sig.inputs[name][1]
    arr = np.asarray(images)
    if arr.ndim == 3 and c == 1 and arr.shape[1:] == (h, w):
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[1:] != (h, w, c) or arr.shape[0] == 0:
        raise InvalidInputError(
            f"{sig.name} takes {name} as uint8 (N, {h}, {w}, {c}); got shape {arr.shape}."
        )
    if arr.dtype != np.uint8:
        raise InvalidInputError(
            f"{name} must be uint8 pixels 0–255, got {arr.dtype}; convert float images in "
            "[0, 1] with (x * 255).round().astype(np.uint8)."
        )
    return np.ascontiguousarray(arr)


def check_masks(sig: ModelSignature, masks: Any, n: int) -> npt.NDArray[np.uint8]:
    """Masks as uint8 (N, H, W, 1): 1 where the pixel is known, 0 where it is to be filled."""
    _require(sig, "mask", "inpaint")
    h, w, c = sig.inputs["mask"][1]
    arr = np.asarray(masks)
    if arr.ndim == 3 and c == 1:
        arr = arr[..., None]
    if arr.shape != (n, h, w, c):
        raise InvalidInputError(
            f"masks must have shape ({n}, {h}, {w}) or ({n}, {h}, {w}, {c}) — one per image, "
            f"1 = known pixel, 0 = fill; got {arr.shape}."
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise InvalidInputError(f"masks must be boolean or numeric, got {arr.dtype}.")
    return (arr != 0).astype(np.uint8)


def check_latents(sig: ModelSignature, latents: Any, name: str = "latent") -> Array:
    """float32 ``(N, D)`` latent codes for the model's input ``name``."""
    _require(sig, name, "decode latent codes")
    dims = sig.inputs[name][1]
    arr = np.asarray(latents, dtype=np.float32)
    if arr.ndim == 1 and arr.shape == dims:
        arr = arr[None]
    if arr.shape[1:] != dims or arr.shape[0] == 0:
        raise InvalidInputError(
            f"{sig.name} takes {name} of shape (N, {dims[0]}), got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite numbers.")
    return arr


def encoder_of(model: str) -> str:
    """The zoo model whose ``project`` inverts generator ``model``: ``<model>-encoder``.

    An encoder's own name is returned as it is, so ``project`` takes either.
    """
    return model if model.endswith(ENCODER_SUFFIX) else model + ENCODER_SUFFIX


def check_ws(sig: ModelSignature, ws: Any) -> Array:
    """float32 ws ``(N, num_ws, w_dim)`` (as ``project`` returns them), every value finite."""
    _require(sig, "w", "synthesize from ws")
    dims = sig.inputs["w"][1]
    arr = np.asarray(ws)
    if arr.ndim == len(dims):
        arr = arr[None]
    if arr.shape[1:] != dims or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(
            f"{sig.name} takes w of shape (N, {', '.join(map(str, dims))}) — one w per "
            f"synthesis layer, as project returns — got {arr.dtype} {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("w must be finite (no NaN or infinity).")
    return arr.astype(np.float32)


def synthesize_request(
    sig: ModelSignature,
    ws: Any,
    *,
    psi: Any = None,
    mix_seeds: Any = None,
    mix_layer: Any = None,
    mix_ws: Any = None,
) -> dict[str, Array]:
    """The wire inputs of a synthesize call; without ``mix_seeds`` or ``mix_ws`` nothing is mixed.

    ``mix_ws`` (a second digit's ws) are mixed here, before sending: the ws from ``mix_layer``
    on are taken from them, so the request carries one set of ws.
    """
    w = check_ws(sig, ws)
    n, num_ws = len(w), sig.inputs["w"][1][0]
    if mix_ws is not None:
        if mix_seeds is not None or mix_layer is None:
            raise InvalidInputError(
                f"mix_ws takes mix_layer (0–{num_ws}), and no mixing seed beside it."
            )
        other = check_ws(sig, mix_ws)
        if len(other) not in (1, n):
            raise InvalidInputError(f"expected 1 or {n} sets of mix_ws, got {len(other)}.")
        layer = _per_item(mix_layer, n, "mix_layer values")
        if not np.issubdtype(layer.dtype, np.integer) or layer.min() < 0 or layer.max() > num_ws:
            raise InvalidInputError(f"mix_layer must be an integer in 0..{num_ws}.")
        w = np.where(np.arange(num_ws)[None, :, None] < layer[:, None, None], w, other)
        mix_layer = None
    req: dict[str, Array] = {"w": w.astype(np.float32)}
    if psi is not None:
        p = _per_item(psi, n, "ψ values").astype(np.float64)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 10:
            raise InvalidInputError("ψ must be a finite number in [-10, 10] (1 = no truncation).")
        req["psi"] = p.astype(np.float32).reshape(n, 1)
    if (mix_seeds is None) != (mix_layer is None):
        raise InvalidInputError(
            f"style mixing takes both a mixing seed and mix_layer (0–{num_ws}), or neither."
        )
    if mix_seeds is not None:
        mix = check_seeds(_per_item(mix_seeds, n, "mixing seeds"), "mixing seeds")
        req["mix_seed"] = mix.reshape(n, 1)
        layer = _per_item(mix_layer, n, "mix_layer values")
        if not np.issubdtype(layer.dtype, np.integer) or layer.min() < 0 or layer.max() > num_ws:
            raise InvalidInputError(f"mix_layer must be an integer in 0..{num_ws}.")
        req["mix_layer"] = layer.astype(np.int64).reshape(n, 1)
    return req


def interpolate_request(
    sig: ModelSignature, seed: int, seed_to: int, t: Any, *, labels: Any = None
) -> dict[str, Array]:
    """The wire inputs of an interpolate call: one image per value of ``t`` in [0, 1]."""
    _require(sig, "seed_to", "interpolate")
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if ts.ndim != 1 or ts.size == 0:
        raise InvalidInputError("t must be a number or a 1-D list of numbers in [0, 1].")
    if not np.all(np.isfinite(ts)) or ts.min() < 0 or ts.max() > 1:
        raise InvalidInputError("t must lie in [0, 1] (0 = the start seed, 1 = the end seed).")
    n = len(ts)
    start = check_seeds(seed, "the start seed")
    end = check_seeds(seed_to, "the end seed")
    if len(start) != 1 or len(end) != 1:
        raise InvalidInputError("interpolate takes one start seed and one end seed.")
    req: dict[str, Array] = {
        "seed": np.repeat(start, n).reshape(n, 1),
        "seed_to": np.repeat(end, n).reshape(n, 1),
        "t": ts.astype(np.float32).reshape(n, 1),
    }
    if "label" in sig.inputs:
        if labels is None:
            raise InvalidInputError(
                f"{sig.name} is class-conditional: pass the label (0–{NUM_CLASSES - 1}) to hold."
            )
        lab = _per_item(labels, n, "labels")
        if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= NUM_CLASSES:
            raise InvalidInputError(f"labels must be integers in 0..{NUM_CLASSES - 1}.")
        req["label"] = lab.astype(np.int64).reshape(n, 1)
    elif labels is not None:
        raise InvalidInputError(f"{sig.name} is not class-conditional: drop the label.")
    return req


def _require(sig: ModelSignature, name: str, does: str) -> None:
    if name not in sig.inputs:
        raise InvalidInputError(
            f"{sig.name} does not {does}: its inputs are {', '.join(sig.inputs) or 'none'}."
        )


def split_batches(inputs: Mapping[str, Array], max_batch_size: int) -> list[dict[str, Array]]:
    """Split a request along the batch axis into chunks of at most ``max_batch_size``."""
    n = len(next(iter(inputs.values())))
    step = max_batch_size if max_batch_size > 0 else n
    return [{k: v[i : i + step] for k, v in inputs.items()} for i in range(0, n, step)]


def join_batches(parts: Sequence[Mapping[str, Array]]) -> dict[str, Array]:
    """Concatenate per-chunk results along the batch axis."""
    if len(parts) == 1:
        return dict(parts[0])
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def model_candidates(model: str, entries: Sequence[str]) -> list[str]:
    """Triton names that may serve one of ``entries`` of zoo ``model``, in the order tried.

    Multi-entry models are served as ``<model>_<entry>``, single-entry ones under their own
    name; a Triton model name is accepted as it is.
    """
    return [f"{model}_{e}" for e in entries] + [model]


def resolve_model(served: Iterable[str], model: str, entries: Sequence[str]) -> str:
    """The Triton model in ``served`` serving one of ``entries`` of zoo ``model``."""
    names = set(served)
    for candidate in model_candidates(model, entries):
        if candidate in names:
            return candidate
    close = difflib.get_close_matches(model, sorted(names), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ModelNotFoundError(
        f"the server does not serve {' or '.join(entries)} of {model!r}.{hint} "
        "`ZooClient.list_models()` lists what it serves; `zoo repo build` adds models."
    )


@dataclass(frozen=True, repr=False)
class Endpoint:
    """Where and how to connect: protocol, ``host:port``, TLS files and per-call headers.

    Built by :func:`parse_endpoint`; its repr and :attr:`display` name the header keys only, so
    a token in ``headers`` never reaches a log or an error message.
    """

    protocol: Protocol
    hostport: str  # what tritonclient takes: host:port, no scheme
    tls: bool = False
    ca_cert: str | None = None  # PEM bundle of the CAs to trust (None: the system's)
    client_cert: str | None = None  # PEM certificate (chain) the client presents (mutual TLS)
    client_key: str | None = None  # its private key (None: in client_cert's file)
    headers: tuple[tuple[str, str], ...] = ()  # sent with every call

    @property
    def display(self) -> str:
        """The URL with its scheme, for messages (never the header values)."""
        scheme = next(k for k, v in SCHEMES.items() if v == (self.protocol, self.tls))
        return f"{scheme}://{self.hostport}"

    def __repr__(self) -> str:
        keys = [k for k, _ in self.headers]
        return f"Endpoint({self.display!r}, headers={keys})"

    def header_dict(self) -> dict[str, str] | None:
        """The headers as tritonclient takes them (None when there are none)."""
        return dict(self.headers) or None

    def http_ssl_context(self, *, use_gevent: bool) -> Any:
        """An SSL context that trusts ``ca_cert`` (or the system) and presents the client cert.

        The blocking HTTP client runs on gevent sockets, so it needs gevent's ``SSLContext``.
        """
        if use_gevent:
            import gevent.ssl as ssl_mod
        else:
            ssl_mod = _ssl
        ctx = ssl_mod.create_default_context(cafile=self.ca_cert)
        if self.client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx

    def client_kwargs(self, *, aio: bool) -> dict[str, Any]:
        """tritonclient ``InferenceServerClient`` keyword arguments for TLS."""
        if not self.tls:
            return {}
        if self.protocol == "grpc":
            return {
                "ssl": True,
                "root_certificates": self.ca_cert,
                "private_key": self.client_key or self.client_cert,
                "certificate_chain": self.client_cert,
            }
        if aio:
            return {"ssl": True, "ssl_context": self.http_ssl_context(use_gevent=False)}
        return {
            "ssl": True,
            "ssl_options": {},
            "ssl_context_factory": lambda: self.http_ssl_context(use_gevent=True),
        }


def parse_endpoint(
    url: str,
    protocol: Protocol | None = None,
    *,
    ssl: bool | None = None,
    ca_cert: str | os.PathLike[str] | None = None,
    client_cert: str | os.PathLike[str] | None = None,
    client_key: str | os.PathLike[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Endpoint:
    """Check a URL and its connection options; anything that cannot be honoured is an error.

    The scheme sets the protocol and TLS (``https``, ``grpcs``); a bare ``host:port`` takes
    ``protocol`` (default ``"http"``) and ``ssl``. A scheme that disagrees with ``protocol`` or
    ``ssl``, certificate options without TLS, or a missing certificate file, raise
    :class:`InvalidInputError` rather than connect some other way.
    """
    if protocol is not None and protocol not in DEFAULT_PORTS:
        raise InvalidInputError(f"protocol must be 'http' or 'grpc', got {protocol!r}.")
    scheme, sep, hostport = url.partition("://")
    if sep:
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            raise InvalidInputError(
                f"the client cannot connect over {scheme}://: use http:// or https:// (HTTP), "
                "grpc:// or grpcs:// (gRPC), or a bare host:port."
            )
        scheme_protocol, scheme_tls = SCHEMES[scheme]
        if protocol is not None and protocol != scheme_protocol:
            raise InvalidInputError(
                f"{scheme}:// is {scheme_protocol}, but protocol={protocol!r}: drop one of them."
            )
        if ssl is not None and ssl != scheme_tls:
            raise InvalidInputError(
                f"{scheme}:// {'is' if scheme_tls else 'is not'} TLS, but ssl={ssl}: use "
                f"{'https:// or grpcs://' if ssl else 'http:// or grpc://'} instead."
            )
        protocol, tls = scheme_protocol, scheme_tls
    else:
        hostport, protocol, tls = url, protocol or "http", bool(ssl)
    hostport = hostport.rstrip("/")
    if not hostport or "/" in hostport:
        raise InvalidInputError(
            f"url must look like 'host:port' or 'https://host:port', got {url!r}."
        )
    if ":" not in hostport.rsplit("]", 1)[-1]:
        hostport = f"{hostport}:{TLS_PORT if tls else DEFAULT_PORTS[protocol]}"
    files = {"ca_cert": ca_cert, "client_cert": client_cert, "client_key": client_key}
    given = {k: os.fspath(v) for k, v in files.items() if v is not None}
    if given and not tls:
        raise InvalidInputError(
            f"{', '.join(given)} only apply over TLS: use an https:// or grpcs:// URL "
            "(or ssl=True)."
        )
    for what, path in given.items():
        if not os.path.isfile(path):
            raise InvalidInputError(f"{what}: no PEM file at {path}.")
    if "client_key" in given and "client_cert" not in given:
        raise InvalidInputError("client_key needs client_cert (the certificate it belongs to).")
    return Endpoint(
        protocol=protocol,
        hostport=hostport,
        tls=tls,
        headers=_check_headers(headers or {}, protocol),
        **given,
    )


def _check_headers(headers: Mapping[str, str], protocol: Protocol) -> tuple[tuple[str, str], ...]:
    """Header pairs, checked; gRPC metadata keys are lower-case, so they are lower-cased."""
    out = []
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInputError("headers must map strings to strings.")
        if not key or any(c in key for c in " :\r\n") or any(c in value for c in "\r\n"):
            # the value is left out of the message: it may be a token
            raise InvalidInputError(
                f"header {key!r}: names are non-empty without spaces or colons, and values "
                "hold no line breaks."
            )
        out.append((key.lower() if protocol == "grpc" else key, value))
    return tuple(out)


def outputs_of(result: Any, sig: ModelSignature, url: str) -> dict[str, Array]:
    """The output arrays of an inference result; a response without them is an error.

    Triton 2.51's response cache stores the response of a *failed* request as an empty
    success, and replays it for the same inputs. The client's own checks keep invalid requests
    from reaching the server; one that got through once comes back empty the second time.
    """
    out = {o: result.as_numpy(o) for o in sig.outputs}
    missing = [o for o, arr in out.items() if arr is None]
    if missing:
        raise ServerError(
            f"{url}: {sig.name} answered without {', '.join(missing)}. The same request failed "
            "before and Triton's response cache replayed that failure as an empty response; "
            "check the inputs (the first attempt's error says what was wrong)."
        )
    return out


def map_error(err: BaseException, url: str) -> ZooClientError:
    """A tritonclient / network error as the client's typed error."""
    from tritonclient.utils import InferenceServerException

    if isinstance(err, ZooClientError):
        return err
    if isinstance(err, InferenceServerException):
        status = str(err.status() or "")
        msg = err.message() or str(err)
        if "is restricted, expecting header" in msg:  # before UNAVAILABLE: gRPC refuses so
            return ServerError(
                f"{url}: {msg}: this server keeps its admin APIs for callers with its admin key."
            )
        if status in ("401", "StatusCode.UNAUTHENTICATED"):
            return AuthenticationError(
                f"{url} wants credentials (it answered {_status_name(status)}): pass the token "
                "as headers={'Authorization': 'Bearer <token>'} (CLI: --header, or ZOO_TOKEN)."
            )
        if status in ("403", "StatusCode.PERMISSION_DENIED"):
            return AuthenticationError(
                f"{url} refused the credentials sent (it answered {_status_name(status)}): "
                "check the token in the Authorization header and what it grants."
            )
        if status == "StatusCode.UNIMPLEMENTED" or (status == "404" and "model" not in msg.lower()):
            # gRPC's answer to a method it lacks; HTTP's to a route it lacks (KServe's 404 for
            # an unknown model names the model)
            return UnsupportedAPIError(
                f"{url} does not implement this call ({msg}): it speaks the v2 core protocol "
                "without Triton's extensions (model configuration, repository index)."
            )
        if status == "404":
            return ModelNotFoundError(f"{url}: {msg}")
        if "DEADLINE_EXCEEDED" in status or "Deadline Exceeded" in msg:
            return RequestTimeoutError(f"{url} did not answer in time: {msg}")
        if "UNAVAILABLE" in status:
            if _looks_like_tls(msg):
                return TLSError(_tls_failed(url, msg))
            return ServerUnavailableError(_unavailable(url))
        if "unknown model" in msg or "NOT_FOUND" in status:
            return ModelNotFoundError(f"{url}: {msg}")
        if status in ("400", "StatusCode.INVALID_ARGUMENT"):
            return InvalidInputError(msg)
        return ServerError(f"{url} failed the request: {msg}")
    tls = _ssl_cause(err)
    if tls is not None:
        return TLSError(_tls_failed(url, str(tls)))
    if isinstance(err, TimeoutError | asyncio.TimeoutError) or "timed out" in str(err):
        return RequestTimeoutError(f"{url} did not answer in time.")
    if isinstance(err, OSError):
        return ServerUnavailableError(_unavailable(url))
    return ServerError(f"{url} failed the request: {type(err).__name__}: {err}")


def _status_name(status: str) -> str:
    names = {"401": "401 Unauthorized", "403": "403 Forbidden"}
    return names.get(status, status.removeprefix("StatusCode."))


def _ssl_cause(err: BaseException) -> BaseException | None:
    """The ``ssl.SSLError`` behind ``err`` (itself, a cause, or aiohttp's ``os_error``)."""
    seen: BaseException | None = err
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, _ssl.SSLError | _ssl.CertificateError):
            return seen
        inner = getattr(seen, "os_error", None)  # aiohttp.ClientSSLError keeps it here
        seen = inner if isinstance(inner, BaseException) else seen.__cause__ or seen.__context__
    return None


def _looks_like_tls(msg: str) -> bool:
    """Whether a gRPC UNAVAILABLE message is a failed TLS handshake."""
    low = msg.lower()
    return any(k in low for k in ("ssl", "handshake", "certificate"))


def _tls_failed(url: str, detail: str) -> str:
    low = detail.lower()
    if "certificate" in low or "verify" in low:
        why = (
            "the server's certificate is not trusted or does not match the host name: pass "
            "the CA bundle that signed it as ca_cert (CLI: --ca-cert), and connect by the name "
            "the certificate carries."
        )
    elif "wrong version" in low or "record" in low or "packet length" in low:
        why = "the server does not speak TLS on that port: use http:// or grpc://, or its TLS port."
    else:
        why = (
            "check that the server's port speaks TLS, its certificate (ca_cert, --ca-cert) and, "
            "if it asks for one, the client certificate (client_cert / client_key)."
        )
    return f"TLS handshake with {url} failed ({detail.strip()[:200]}): {why}"


def _unavailable(url: str) -> str:
    return (
        f"no Triton server answers at {url}. Start one with `zoo serve` (or check the URL, "
        "the protocol and its port: HTTP 8000, gRPC 8001 by default)."
    )


def _tritonclient(protocol: Protocol, aio: bool) -> Any:
    try:
        if protocol == "http":
            import tritonclient.http as mod
            import tritonclient.http.aio as amod
        else:
            import tritonclient.grpc as mod
            import tritonclient.grpc.aio as amod
    except ImportError as e:
        raise ImportError(
            f"tritonclient[{protocol}] is not installed: pip install 'tritonclient[all]'."
        ) from e
    return amod if aio else mod


def _infer_args(mod: Any, protocol: Protocol, inputs: Mapping[str, Array], outputs: Iterable[str]):
    from tritonclient.utils import np_to_triton_dtype

    tensors = []
    for name, arr in inputs.items():
        t = mod.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
        if protocol == "http":
            t.set_data_from_numpy(np.ascontiguousarray(arr), binary_data=True)
        else:
            t.set_data_from_numpy(np.ascontiguousarray(arr))
        tensors.append(t)
    if protocol == "http":
        wanted = [mod.InferRequestedOutput(o, binary_data=True) for o in outputs]
    else:
        wanted = [mod.InferRequestedOutput(o) for o in outputs]
    return tensors, wanted


# ---------------------------------------------------------------------------------------------
# Shared memory: regions the client writes inputs into and Triton writes outputs into.
# ---------------------------------------------------------------------------------------------

_REGION_IDS = itertools.count()


@dataclass(eq=False)
class Region:
    """One shared-memory region: Triton's name for it, its handle and size."""

    kind: SharedMemory
    name: str  # the name the server knows it by (unique per process and client)
    key: str  # system: the POSIX shm key ("/name", a file in /dev/shm); cuda: unused
    byte_size: int
    handle: Any  # tritonclient's handle (ctypes pointer or CudaSharedMemoryRegion)
    device: int = 0  # cuda: the GPU it lives on


@dataclass
class RegionSet:
    """The input and output regions of one model at one batch size."""

    model: str
    batch: int
    inputs: dict[str, Region]
    outputs: dict[str, Region]
    registered: bool = False  # the server knows its regions (a new set: not yet)

    def __len__(self) -> int:
        return self.batch

    def all(self) -> list[Region]:
        """Every region of the set."""
        return [*self.inputs.values(), *self.outputs.values()]


def _shm_module(kind: SharedMemory) -> Any:
    """tritonclient's system or CUDA shared-memory utilities, with an install hint."""
    try:
        if kind == "system":
            import tritonclient.utils.shared_memory as shm
        else:
            import tritonclient.utils.cuda_shared_memory as shm
    except ImportError as e:
        hint = (
            "pip install 'setuptools<80' (tritonclient's shared-memory module imports "
            "pkg_resources)"
            if "pkg_resources" in str(e)
            else "pip install 'tritonclient[all]' (CUDA shared memory also needs cuda-python "
            "and a GPU)"
        )
        raise SharedMemoryError(f"{kind} shared memory is not available here ({e}): {hint}.") from e
    return shm


class SharedMemoryPool:
    """Shared-memory regions of one client, one set per model and batch size, reused.

    The client's side only; the clients register and unregister with the server (the blocking
    one directly, the asyncio one awaited). A call checks a :class:`RegionSet` out (a free one
    of the right size, or new regions not yet registered), writes its inputs, and checks it
    back in after the response has been read; concurrent calls get different sets. After a
    failed call the client unregisters its set and :meth:`destroy` frees it (the server may
    still hold it half-written); :meth:`drain` hands over the rest on close. A finalizer frees
    the client's side if the client is never closed, so no file is left in ``/dev/shm``.
    """

    def __init__(self, kind: SharedMemory, *, cuda_device: int = 0) -> None:
        if kind not in ("system", "cuda"):
            raise InvalidInputError(f"shared_memory must be 'system' or 'cuda', got {kind!r}.")
        self.kind: SharedMemory = kind
        self._mod = _shm_module(kind)
        self._device = int(cuda_device)
        self._lock = threading.Lock()
        self._free: dict[tuple[str, int], list[RegionSet]] = {}
        self._live: list[Region] = []  # created and not yet destroyed
        self._finalizer = weakref.finalize(self, _destroy_all, self._mod, self._live)

    def checkout(self, sig: ModelSignature, chunk: Mapping[str, Array]) -> RegionSet:
        """A free region set for ``chunk``'s batch size of ``sig``'s model (new if none is)."""
        batch = len(next(iter(chunk.values())))
        with self._lock:
            free = self._free.get((sig.name, batch))
            if free:
                return free.pop()
        sizes_in = {name: int(arr.nbytes) for name, arr in chunk.items()}
        sizes_out = {}
        for name, (dtype, dims) in sig.outputs.items():
            if any(d < 0 for d in dims):
                raise SharedMemoryError(
                    f"{sig.name}'s output {name} has a variable shape {dims}; shared memory "
                    "needs fixed output sizes: use the client without shared_memory."
                )
            sizes_out[name] = batch * int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
        regions = RegionSet(sig.name, batch, {}, {})
        try:
            for target, sizes in ((regions.inputs, sizes_in), (regions.outputs, sizes_out)):
                for name, size in sizes.items():
                    target[name] = self._create(max(size, 1))
        except BaseException:
            self.destroy(regions)
            raise
        return regions

    def checkin(self, regions: RegionSet) -> None:
        """Give a set back for the next call of the same model and batch size."""
        with self._lock:
            self._free.setdefault((regions.model, regions.batch), []).append(regions)

    def destroy(self, regions: RegionSet) -> None:
        """Free a set's regions on the client's side (the server's: unregistered before)."""
        for region in regions.all():
            with self._lock:
                if region not in self._live:
                    continue
                self._live.remove(region)
            self._mod.destroy_shared_memory_region(region.handle)

    def write(self, region: Region, arr: Array) -> None:
        """Copy ``arr`` into ``region``."""
        self._mod.set_shared_memory_region(region.handle, [np.ascontiguousarray(arr)])

    def read(self, region: Region, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Array:
        """A copy of ``region``'s contents as an array (the region is reused by the next call)."""
        return np.array(self._mod.get_contents_as_numpy(region.handle, dtype, list(shape)))

    def drain(self) -> list[RegionSet]:
        """Every free set, taken out of the pool (to unregister and destroy on close)."""
        with self._lock:
            sets = [r for sets in self._free.values() for r in sets]
            self._free.clear()
        return sets

    def _create(self, byte_size: int) -> Region:
        name = f"genzoo_{os.getpid()}_{next(_REGION_IDS)}_{uuid.uuid4().hex[:8]}"
        try:
            if self.kind == "system":
                handle = self._mod.create_shared_memory_region(name, f"/{name}", byte_size)
            else:
                handle = self._mod.create_shared_memory_region(name, byte_size, self._device)
        except Exception as e:
            raise SharedMemoryError(
                f"cannot create a {byte_size}-byte {self.kind} shared-memory region ({e}): "
                + (
                    "check the free space in /dev/shm (in a container: --shm-size)."
                    if self.kind == "system"
                    else f"check that CUDA device {self._device} exists and has memory free."
                )
            ) from e
        region = Region(self.kind, name, f"/{name}", byte_size, handle, self._device)
        with self._lock:
            self._live.append(region)
        return region


def _destroy_all(mod: Any, live: list[Region]) -> None:
    """Free what a client left behind (its finalizer: the server side dies with the process)."""
    while live:
        mod.destroy_shared_memory_region(live.pop().handle)


def _shm_tensors(
    mod: Any, pool: SharedMemoryPool, regions: RegionSet, chunk: Mapping[str, Array]
) -> tuple[list[Any], list[Any]]:
    """Write ``chunk`` into its input regions; the request's tensors, pointing at the regions."""
    from tritonclient.utils import np_to_triton_dtype

    tensors = []
    for name, arr in chunk.items():
        region = regions.inputs[name]
        pool.write(region, arr)
        t = mod.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
        t.set_shared_memory(region.name, region.byte_size)
        tensors.append(t)
    wanted = []
    for name, region in regions.outputs.items():
        o = mod.InferRequestedOutput(name)
        o.set_shared_memory(region.name, region.byte_size)
        wanted.append(o)
    return tensors, wanted


def _shm_outputs(
    result: Any, pool: SharedMemoryPool, regions: RegionSet, sig: ModelSignature, url: str
) -> dict[str, Array]:
    """The outputs Triton wrote into the set's output regions (copies: the set is reused)."""
    missing = [o for o in sig.outputs if result.get_output(o) is None]
    if missing:
        raise ServerError(
            f"{url}: {sig.name} answered without {', '.join(missing)}; check the inputs."
        )
    return {
        name: pool.read(regions.outputs[name], dtype, (len(regions), *dims))
        for name, (dtype, dims) in sig.outputs.items()
    }


def _register_args(region: Region) -> tuple[str, tuple[Any, ...]]:
    """The tritonclient method and arguments that register ``region`` with the server."""
    if region.kind == "system":
        return "register_system_shared_memory", (region.name, region.key, region.byte_size)
    from tritonclient.utils import cuda_shared_memory as cudashm

    handle = cudashm.get_raw_handle(region.handle)
    return "register_cuda_shared_memory", (region.name, handle, region.device, region.byte_size)


def _shm_register_failed(url: str, region: Region, err: ZooClientError) -> str:
    if region.kind == "system":
        return (
            f"{url} could not open the client's system shared-memory region {region.key} "
            f"({err}): system shared memory needs the client and the server on one host, "
            "sharing /dev/shm (in containers: --ipc=host). Over a network, leave "
            "shared_memory unset."
        )
    return (
        f"{url} could not open the client's CUDA shared-memory region on device "
        f"{region.device} ({err}): CUDA shared memory needs a GPU server on the same host "
        "with access to that device. Otherwise leave shared_memory unset."
    )


# ---------------------------------------------------------------------------------------------
# The two clients: same methods, one blocking, one asyncio.
# ---------------------------------------------------------------------------------------------


class BaseZooClient(abc.ABC):
    """The zoo's calls, on top of two hooks: :meth:`signature` and :meth:`infer`.

    :class:`ZooClient` fills them over the network; :class:`serving.inprocess.InProcessZoo`
    in-process, so the CLI and tests drive both through the same methods.
    """

    @abc.abstractmethod
    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the model serving ``entries`` of ``model``."""

    @abc.abstractmethod
    def infer(self, sig: ModelSignature, inputs: Mapping[str, Array]) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the client holds (connections, loaded models)."""

    def __enter__(self: C) -> C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the zoo --------------------------------------------------------------------------
    def generate(
        self,
        model: str,
        seeds: Any,
        labels: Any = None,
        psi: Any = None,
        mix_seeds: Any = None,
    ) -> npt.NDArray[np.uint8]:
        """Images for ``seeds``, uint8 NHWC; cGAN needs ``labels``; ψ and mixing: StyleGAN2."""
        sig = self.signature(model, GENERATE_ENTRIES)
        req = generate_request(sig, seeds, labels=labels, psi=psi, mix_seeds=mix_seeds)
        return self.infer(sig, req)["image"]

    def translate(self, model: str, images: Any, direction: str = "a2b") -> npt.NDArray[np.uint8]:
        """Image-to-image translation (CycleGAN), ``direction`` "a2b" or "b2a"; uint8 NHWC."""
        sig = self.signature(model, (f"translate_{direction}",))
        return self.infer(sig, {"image": check_images(sig, images)})["image"]

    def encode(self, model: str, images: Any) -> tuple[Array, Array]:
        """Latent codes of images (VAE): posterior mean ``(N, D)`` and log-variance ``(N, D)``."""
        sig = self.signature(model, ("encode",))
        out = self.infer(sig, {"image": check_images(sig, images)})
        return out["latent"], out["logvar"]

    def decode(self, model: str, latents: Any) -> npt.NDArray[np.uint8]:
        """Images from latent codes (VAE), uint8 NHWC."""
        sig = self.signature(model, ("decode",))
        return self.infer(sig, {"latent": check_latents(sig, latents)})["image"]

    def reconstruct(self, model: str, images: Any) -> npt.NDArray[np.uint8]:
        """Images through the autoencoder (VAE), uint8 NHWC."""
        sig = self.signature(model, ("reconstruct",))
        return self.infer(sig, {"image": check_images(sig, images)})["image"]

    def inpaint(self, model: str, images: Any, masks: Any) -> npt.NDArray[np.uint8]:
        """Fill the pixels where ``masks`` is 0 (VAE); known pixels are kept; uint8 NHWC."""
        sig = self.signature(model, ("inpaint",))
        imgs = check_images(sig, images)
        return self.infer(sig, {"image": imgs, "mask": check_masks(sig, masks, len(imgs))})["image"]

    def classify(self, model: str, images: Any) -> npt.NDArray[np.float32]:
        """Class logits ``(N, classes)`` of images; ``argmax(axis=1)`` is the predicted class."""
        sig = self.signature(model, ("classify",))
        return self.infer(sig, {"image": check_images(sig, images)})["logits"]

    # -- projection, synthesis from ws, interpolation ---------------------------------------
    def project(self, model: str, images: Any) -> tuple[Array, npt.NDArray[np.uint8]]:
        """ws ``(N, num_ws, w_dim)`` of digits and their reconstructions (uint8 NHWC).

        ``model`` is the generator (``stylegan2-mnist``) or its encoder; one feed-forward call.
        """
        sig = self.signature(encoder_of(model), ("project",))
        out = self.infer(sig, {"image": check_images(sig, images)})
        return out["w"], out["image"]

    def synthesize(
        self,
        model: str,
        ws: Any,
        psi: Any = None,
        mix_seeds: Any = None,
        mix_layer: Any = None,
        mix_ws: Any = None,
    ) -> npt.NDArray[np.uint8]:
        """Images from ws (StyleGAN2); ws from ``mix_layer`` on from ``mix_seeds`` or ``mix_ws``."""
        sig = self.signature(model, ("synthesize",))
        req = synthesize_request(
            sig, ws, psi=psi, mix_seeds=mix_seeds, mix_layer=mix_layer, mix_ws=mix_ws
        )
        return self.infer(sig, req)["image"]

    def interpolate(
        self, model: str, seed: int, seed_to: int, t: Any, labels: Any = None
    ) -> npt.NDArray[np.uint8]:
        """One image per ``t`` in [0, 1] between two seeds' digits; a cGAN holds ``labels``."""
        sig = self.signature(model, ("interpolate",))
        return self.infer(sig, interpolate_request(sig, seed, seed_to, t, labels=labels))["image"]


class RemoteClient:
    """What :class:`ZooClient` and :class:`AsyncZooClient` are built from: one description of
    where and how to connect.

    ``url``, ``protocol``, ``ssl``, the TLS files (``ca_cert``, ``client_cert``,
    ``client_key``) and ``headers`` are checked by :func:`parse_endpoint`; ``timeout`` bounds
    every call (seconds); ``shared_memory`` ("system" or "cuda", on ``cuda_device``) moves
    tensors through shared memory instead of the socket (see :class:`SharedMemoryPool`).
    Subclasses say whether they are asyncio (:attr:`aio`) and set up their connections in
    :meth:`_init_transport`.
    """

    aio: ClassVar[bool]  # tritonclient's asyncio modules (True) or its blocking ones

    def __init__(
        self,
        url: str = "127.0.0.1:8000",
        *,
        protocol: Protocol | None = None,
        timeout: float = 60.0,
        ssl: bool | None = None,
        ca_cert: str | os.PathLike[str] | None = None,
        client_cert: str | os.PathLike[str] | None = None,
        client_key: str | os.PathLike[str] | None = None,
        headers: Mapping[str, str] | None = None,
        shared_memory: SharedMemory | None = None,
        cuda_device: int = 0,
    ):
        self.endpoint = parse_endpoint(
            url,
            protocol,
            ssl=ssl,
            ca_cert=ca_cert,
            client_cert=client_cert,
            client_key=client_key,
            headers=headers,
        )
        self.protocol: Protocol = self.endpoint.protocol
        self.url = self.endpoint.hostport
        self.timeout = float(timeout)
        self._mod = _tritonclient(self.protocol, aio=self.aio)
        self._sigs: dict[str, ModelSignature] = {}
        self._shm: SharedMemoryPool | None = None
        if shared_memory is not None:
            self._shm = SharedMemoryPool(shared_memory, cuda_device=cuda_device)
        self._init_transport()

    def _init_transport(self) -> None:
        """Set up what holds the connections (they open lazily, on the first call)."""

    def __repr__(self) -> str:
        shm = f", shared_memory={self._shm.kind!r}" if self._shm else ""
        keys = [k for k, _ in self.endpoint.headers]
        return f"{type(self).__name__}({self.endpoint.display!r}, headers={keys}{shm})"

    def _new_client(self) -> Any:
        """A tritonclient ``InferenceServerClient`` for the endpoint: its TLS and timeouts."""
        tls = self.endpoint.client_kwargs(aio=self.aio)
        timeouts: dict[str, float] = {}
        if self.protocol == "http":  # gRPC takes its timeout per call
            if self.aio:
                timeouts = {"conn_timeout": self.timeout}
            else:
                timeouts = {"connection_timeout": self.timeout, "network_timeout": self.timeout}
        try:
            return self._mod.InferenceServerClient(self.url, **timeouts, **tls)
        except Exception as e:
            raise map_error(e, self.endpoint.display) from e


class ZooClient(RemoteClient, BaseZooClient):
    """Blocking client for a genzoo Triton server. Safe to share between threads.

    Its options are :class:`RemoteClient`'s: the URL, TLS and header options, the timeout and
    ``shared_memory``.
    """

    aio = False

    def _init_transport(self) -> None:
        # one tritonclient per thread: the HTTP one is not thread-safe
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    # -- transport ------------------------------------------------------------------------
    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call tritonclient's ``method`` with this client's headers and timeout."""
        if self.protocol == "grpc":
            kwargs["client_timeout"] = self.timeout
        kwargs["headers"] = self.endpoint.header_dict()
        try:
            return getattr(self._client(), method)(*args, **kwargs)
        except Exception as e:
            raise map_error(e, self.endpoint.display) from e

    def close(self) -> None:
        """Unregister and free shared-memory regions; close every connection this client opened."""
        if self._shm is not None:
            for regions in self._shm.drain():
                self._release(self._shm, regions)
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            c.close()
        self._local = threading.local()

    # -- server ---------------------------------------------------------------------------
    def ready(self) -> bool:
        """Whether the server answers and is ready (False when unreachable).

        Refused credentials and failed TLS handshakes raise: they are not "not ready".
        """
        try:
            if self._call("is_server_ready"):
                return True
            # tritonclient's HTTP health check only looks at the status code: ask again in a
            # way that raises, so a refused token reads as such rather than as "not ready"
            self._call("get_server_metadata")
        except (AuthenticationError, TLSError):
            raise
        except ZooClientError:
            pass
        return False

    def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        kwargs = {"as_json": True} if self.protocol == "grpc" else {}
        return _ready_names(self._call("get_model_repository_index", **kwargs))

    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = self._resolve(model, entries) if entries else model
            kwargs = {"as_json": True} if self.protocol == "grpc" else {}
            try:
                sig = ModelSignature.from_config(self._call("get_model_config", name, **kwargs))
            except UnsupportedAPIError:  # a plain v2 server: the core metadata has the tensors
                sig = ModelSignature.from_metadata(self._call("get_model_metadata", name, **kwargs))
            self._sigs[key] = sig
        return self._sigs[key]

    def _resolve(self, model: str, entries: Sequence[str]) -> str:
        # By readiness, which a server with restricted admin APIs leaves open (its repository
        # index needs the admin key); the index only gives the error its close names.
        for candidate in model_candidates(model, entries):
            with contextlib.suppress(ModelNotFoundError):  # KServe's gRPC: NOT_FOUND, not False
                if self._call("is_model_ready", candidate):
                    return candidate
        try:
            served = self.list_models()
        except (AuthenticationError, TLSError):
            raise  # tritonclient's HTTP readiness reads a refused token as "not ready"
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    def infer(self, sig: ModelSignature, inputs: Mapping[str, Array]) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model, split into batches it accepts."""
        parts = []
        for chunk in split_batches(inputs, sig.max_batch_size):
            if self._shm is not None:
                parts.append(self._infer_shm(self._shm, sig, chunk))
                continue
            tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
            result = self._call("infer", sig.name, tensors, outputs=wanted)
            parts.append(outputs_of(result, sig, self.endpoint.display))
        return join_batches(parts)

    # -- shared memory --------------------------------------------------------------------
    def _infer_shm(
        self, pool: SharedMemoryPool, sig: ModelSignature, chunk: Mapping[str, Array]
    ) -> dict[str, Array]:
        """One request whose tensors travel through a (reused) set of shared-memory regions."""
        regions = pool.checkout(sig, chunk)
        try:
            if not regions.registered:
                for region in regions.all():
                    self._register_region(region)
                regions.registered = True
            tensors, wanted = _shm_tensors(self._mod, pool, regions, chunk)
            result = self._call("infer", sig.name, tensors, outputs=wanted)
            out = _shm_outputs(result, pool, regions, sig, self.endpoint.display)
        except BaseException:
            self._release(pool, regions)  # a failed call may have left them half-written
            raise
        pool.checkin(regions)
        return out

    def _register_region(self, region: Region) -> None:
        method, args = _register_args(region)
        try:
            self._call(method, *args)
        except (ServerError, InvalidInputError) as e:
            raise SharedMemoryError(_shm_register_failed(self.endpoint.display, region, e)) from e

    def _release(self, pool: SharedMemoryPool, regions: RegionSet) -> None:
        """Unregister a set (best effort: the server may be gone or never had it) and free it."""
        for region in regions.all():
            with contextlib.suppress(ZooClientError):
                self._call(f"unregister_{region.kind}_shared_memory", region.name)
        pool.destroy(regions)


class AsyncZooClient(RemoteClient):
    """The asyncio twin of :class:`ZooClient`: same methods, awaited; chunks run concurrently.

    It takes the same options (:class:`RemoteClient`'s).
    """

    aio = True

    def _init_transport(self) -> None:
        self._client: Any = None

    def _get_client(self) -> Any:
        # Created lazily, inside the running event loop (aiohttp's session needs one).
        if self._client is None:
            self._client = self._new_client()
        return self._client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Await tritonclient's ``method`` with this client's headers, within the timeout."""
        kwargs["headers"] = self.endpoint.header_dict()
        try:
            call = getattr(self._get_client(), method)(*args, **kwargs)
            return await asyncio.wait_for(call, self.timeout)
        except Exception as e:
            raise map_error(e, self.endpoint.display) from e

    async def close(self) -> None:
        """Unregister and free shared-memory regions; close the connection."""
        if self._shm is not None:
            for regions in self._shm.drain():
                await self._release(self._shm, regions)
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def __aenter__(self) -> AsyncZooClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ready(self) -> bool:
        """Whether the server answers and is ready (False when unreachable; TLS/auth raise)."""
        try:
            if await self._call("is_server_ready"):
                return True
            await self._call("get_server_metadata")  # raises on refused credentials (HTTP)
        except (AuthenticationError, TLSError):
            raise
        except ZooClientError:
            pass
        return False

    async def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        kwargs = {"as_json": True} if self.protocol == "grpc" else {}
        return _ready_names(await self._call("get_model_repository_index", **kwargs))

    async def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = await self._resolve(model, entries) if entries else model
            kwargs = {"as_json": True} if self.protocol == "grpc" else {}
            try:
                config = await self._call("get_model_config", name, **kwargs)
                sig = ModelSignature.from_config(config)
            except UnsupportedAPIError:  # as ZooClient.signature: the core metadata instead
                metadata = await self._call("get_model_metadata", name, **kwargs)
                sig = ModelSignature.from_metadata(metadata)
            self._sigs[key] = sig
        return self._sigs[key]

    async def _resolve(self, model: str, entries: Sequence[str]) -> str:
        # As ZooClient._resolve: by readiness, open on a server with restricted admin APIs.
        for candidate in model_candidates(model, entries):
            with contextlib.suppress(ModelNotFoundError):  # KServe's gRPC: NOT_FOUND, not False
                if await self._call("is_model_ready", candidate):
                    return candidate
        try:
            served = await self.list_models()
        except (AuthenticationError, TLSError):
            raise  # tritonclient's HTTP readiness reads a refused token as "not ready"
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    async def infer(self, sig: ModelSignature, inputs: Mapping[str, Array]) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model; chunks are sent concurrently."""

        async def one(chunk: Mapping[str, Array]) -> dict[str, Array]:
            if self._shm is not None:
                return await self._infer_shm(self._shm, sig, chunk)
            tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
            result = await self._call("infer", sig.name, tensors, outputs=wanted)
            return outputs_of(result, sig, self.endpoint.display)

        chunks = split_batches(inputs, sig.max_batch_size)
        return join_batches(await asyncio.gather(*(one(c) for c in chunks)))

    # -- shared memory: as ZooClient's, awaited -------------------------------------------
    async def _infer_shm(
        self, pool: SharedMemoryPool, sig: ModelSignature, chunk: Mapping[str, Array]
    ) -> dict[str, Array]:
        """One request whose tensors travel through a (reused) set of shared-memory regions."""
        regions = pool.checkout(sig, chunk)
        try:
            if not regions.registered:
                for region in regions.all():
                    await self._register_region(region)
                regions.registered = True
            tensors, wanted = _shm_tensors(self._mod, pool, regions, chunk)
            result = await self._call("infer", sig.name, tensors, outputs=wanted)
            out = _shm_outputs(result, pool, regions, sig, self.endpoint.display)
        except BaseException:
            await self._release(pool, regions)  # a failed call may have left them half-written
            raise
        pool.checkin(regions)
        return out

    async def _register_region(self, region: Region) -> None:
        method, args = _register_args(region)
        try:
            await self._call(method, *args)
        except (ServerError, InvalidInputError) as e:
            raise SharedMemoryError(_shm_register_failed(self.endpoint.display, region, e)) from e

    async def _release(self, pool: SharedMemoryPool, regions: RegionSet) -> None:
        """Unregister a set (best effort) and free it."""
        for region in regions.all():
            with contextlib.suppress(ZooClientError):
                await self._call(f"unregister_{region.kind}_shared_memory", region.name)
        pool.destroy(regions)

    async def generate(
        self,
        model: str,
        seeds: Any,
        labels: Any = None,
        psi: Any = None,
        mix_seeds: Any = None,
    ) -> npt.NDArray[np.uint8]:
        """Images for ``seeds``, uint8 NHWC; cGAN needs ``labels``; ψ and mixing: StyleGAN2."""
        sig = await self.signature(model, GENERATE_ENTRIES)
        req = generate_request(sig, seeds, labels=labels, psi=psi, mix_seeds=mix_seeds)
        return (await self.infer(sig, req))["image"]

    async def translate(
        self, model: str, images: Any, direction: str = "a2b"
    ) -> npt.NDArray[np.uint8]:
        """Image-to-image translation (CycleGAN), ``direction`` "a2b" or "b2a"; uint8 NHWC."""
        sig = await self.signature(model, (f"translate_{direction}",))
        return (await self.infer(sig, {"image": check_images(sig, images)}))["image"]

    async def encode(self, model: str, images: Any) -> tuple[Array, Array]:
        """Latent codes of images (VAE): posterior mean ``(N, D)`` and log-variance ``(N, D)``."""
        sig = await self.signature(model, ("encode",))
        out = await self.infer(sig, {"image": check_images(sig, images)})
        return out["latent"], out["logvar"]

    async def decode(self, model: str, latents: Any) -> npt.NDArray[np.uint8]:
        """Images from latent codes (VAE), uint8 NHWC."""
        sig = await self.signature(model, ("decode",))
        return (await self.infer(sig, {"latent": check_latents(sig, latents)}))["image"]

    async def reconstruct(self, model: str, images: Any) -> npt.NDArray[np.uint8]:
        """Images through the autoencoder (VAE), uint8 NHWC."""
        sig = await self.signature(model, ("reconstruct",))
        return (await self.infer(sig, {"image": check_images(sig, images)}))["image"]

    async def inpaint(self, model: str, images: Any, masks: Any) -> npt.NDArray[np.uint8]:
        """Fill the pixels where ``masks`` is 0 (VAE); known pixels are kept; uint8 NHWC."""
        sig = await self.signature(model, ("inpaint",))
        imgs = check_images(sig, images)
        req = {"image": imgs, "mask": check_masks(sig, masks, len(imgs))}
        return (await self.infer(sig, req))["image"]

    async def classify(self, model: str, images: Any) -> npt.NDArray[np.float32]:
        """Class logits ``(N, classes)`` of images; ``argmax(axis=1)`` is the predicted class."""
        sig = await self.signature(model, ("classify",))
        return (await self.infer(sig, {"image": check_images(sig, images)}))["logits"]

    # -- projection, synthesis from ws, interpolation ---------------------------------------
    async def project(self, model: str, images: Any) -> tuple[Array, npt.NDArray[np.uint8]]:
        """ws ``(N, num_ws, w_dim)`` of digits and their reconstructions (uint8 NHWC)."""
        sig = await self.signature(encoder_of(model), ("project",))
        out = await self.infer(sig, {"image": check_images(sig, images)})
        return out["w"], out["image"]

    async def synthesize(
        self,
        model: str,
        ws: Any,
        psi: Any = None,
        mix_seeds: Any = None,
        mix_layer: Any = None,
        mix_ws: Any = None,
    ) -> npt.NDArray[np.uint8]:
        """Images from ws (StyleGAN2); ws from ``mix_layer`` on from ``mix_seeds`` or ``mix_ws``."""
        sig = await self.signature(model, ("synthesize",))
        req = synthesize_request(
            sig, ws, psi=psi, mix_seeds=mix_seeds, mix_layer=mix_layer, mix_ws=mix_ws
        )
        return (await self.infer(sig, req))["image"]

    async def interpolate(
        self, model: str, seed: int, seed_to: int, t: Any, labels: Any = None
    ) -> npt.NDArray[np.uint8]:
        """One image per ``t`` in [0, 1] between two seeds' digits; a cGAN holds ``labels``."""
        sig = await self.signature(model, ("interpolate",))
        req = interpolate_request(sig, seed, seed_to, t, labels=labels)
        return (await self.infer(sig, req))["image"]


def _ready_names(index: Any) -> list[str]:
    """Names of READY models in a repository index (HTTP list or gRPC JSON)."""
    models = index.get("models", []) if isinstance(index, Mapping) else index
    return sorted(m["name"] for m in models if m.get("state") == "READY")
