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

Errors subclass builtins so callers can catch broadly: :class:`ServerUnavailableError`
(``ConnectionError``), :class:`ModelNotFoundError` (``KeyError``, a ``LookupError``),
:class:`InvalidInputError` (``ValueError``), :class:`RequestTimeoutError` (``TimeoutError``),
:class:`ServerError` (``OSError``: the remote side failed).
"""

from __future__ import annotations

import abc
import asyncio
import difflib
import functools
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

#: Largest seed: seeds are non-negative int64 values (the server's seed → latent rule).
MAX_SEED = 2**63 - 1
#: Classes of the zoo's class-conditional models (MNIST digits).
NUM_CLASSES = 10
#: Entry-point names that generate from seeds (GANs call it ``generate``, the VAE ``sample``).
GENERATE_ENTRIES = ("generate", "sample")
#: Default ports of a Triton server per protocol.
DEFAULT_PORTS = {"http": 8000, "grpc": 8001}

Protocol = Literal["http", "grpc"]
Array = npt.NDArray[Any]
T = TypeVar("T")
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


@dataclass(frozen=True)
class ModelSignature:
    """What one served Triton model takes and returns, read from its ``config.pbtxt``."""

    name: str  # Triton model name, e.g. "vae-mnist_encode"
    inputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    outputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    max_batch_size: int  # largest batch one request may carry (0 = no batch axis)

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


def _split_url(url: str, protocol: Protocol) -> str:
    """``host:port`` for tritonclient (which takes no scheme); the protocol's port by default."""
    if protocol not in DEFAULT_PORTS:
        raise InvalidInputError(f"protocol must be 'http' or 'grpc', got {protocol!r}.")
    hostport = url.split("://", 1)[-1].rstrip("/")
    if not hostport or "/" in hostport:
        raise InvalidInputError(f"url must look like 'host:port', got {url!r}.")
    return hostport if ":" in hostport else f"{hostport}:{DEFAULT_PORTS[protocol]}"


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
        if "DEADLINE_EXCEEDED" in status or "Deadline Exceeded" in msg:
            return RequestTimeoutError(f"{url} did not answer in time: {msg}")
        if "UNAVAILABLE" in status:
            return ServerUnavailableError(_unavailable(url))
        if "unknown model" in msg or "NOT_FOUND" in status:
            return ModelNotFoundError(f"{url}: {msg}")
        if status in ("400", "StatusCode.INVALID_ARGUMENT"):
            return InvalidInputError(msg)
        return ServerError(f"{url} failed the request: {msg}")
    if isinstance(err, TimeoutError | asyncio.TimeoutError) or "timed out" in str(err):
        return RequestTimeoutError(f"{url} did not answer in time.")
    if isinstance(err, OSError):
        return ServerUnavailableError(_unavailable(url))
    return ServerError(f"{url} failed the request: {type(err).__name__}: {err}")


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


class ZooClient(BaseZooClient):
    """Blocking client for a genzoo Triton server. Safe to share between threads."""

    def __init__(
        self, url: str = "127.0.0.1:8000", *, protocol: Protocol = "http", timeout: float = 60.0
    ):
        self.protocol: Protocol = protocol
        self.url = _split_url(url, protocol)
        self.timeout = float(timeout)
        self._mod = _tritonclient(protocol, aio=False)
        self._local = (
            threading.local()
        )  # one tritonclient per thread: the HTTP one is not thread-safe
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._sigs: dict[str, ModelSignature] = {}

    # -- transport ------------------------------------------------------------------------
    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            if self.protocol == "http":
                client = self._mod.InferenceServerClient(
                    self.url, connection_timeout=self.timeout, network_timeout=self.timeout
                )
            else:
                client = self._mod.InferenceServerClient(self.url)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.protocol == "grpc":
            kwargs["client_timeout"] = self.timeout
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise map_error(e, self.url) from e

    def close(self) -> None:
        """Close every connection this client opened."""
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            c.close()
        self._local = threading.local()

    # -- server ---------------------------------------------------------------------------
    def ready(self) -> bool:
        """Whether the server answers and is ready for requests (False when unreachable)."""
        try:
            return bool(self._call(self._client().is_server_ready))
        except ZooClientError:
            return False

    def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        kwargs = {"as_json": True} if self.protocol == "grpc" else {}
        index = self._call(self._client().get_model_repository_index, **kwargs)
        return _ready_names(index)

    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = self._resolve(model, entries) if entries else model
            kwargs = {"as_json": True} if self.protocol == "grpc" else {}
            self._sigs[key] = ModelSignature.from_config(
                self._call(self._client().get_model_config, name, **kwargs)
            )
        return self._sigs[key]

    def _resolve(self, model: str, entries: Sequence[str]) -> str:
        # By readiness, which a server with restricted admin APIs leaves open (its repository
        # index needs the admin key); the index only gives the error its close names.
        for candidate in model_candidates(model, entries):
            if self._call(self._client().is_model_ready, candidate):
                return candidate
        try:
            served = self.list_models()
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    def infer(self, sig: ModelSignature, inputs: Mapping[str, Array]) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model, split into batches it accepts."""
        parts = []
        for chunk in split_batches(inputs, sig.max_batch_size):
            tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
            result = self._call(self._client().infer, sig.name, tensors, outputs=wanted)
            parts.append(outputs_of(result, sig, self.url))
        return join_batches(parts)


class AsyncZooClient:
    """The asyncio twin of :class:`ZooClient`: same methods, awaited; chunks run concurrently."""

    def __init__(
        self, url: str = "127.0.0.1:8000", *, protocol: Protocol = "http", timeout: float = 60.0
    ):
        self.protocol: Protocol = protocol
        self.url = _split_url(url, protocol)
        self.timeout = float(timeout)
        self._mod = _tritonclient(protocol, aio=True)
        self._client: Any = None
        self._sigs: dict[str, ModelSignature] = {}

    def _get_client(self) -> Any:
        # Created lazily, inside the running event loop (aiohttp's session needs one).
        if self._client is None:
            if self.protocol == "http":
                self._client = self._mod.InferenceServerClient(self.url, conn_timeout=self.timeout)
            else:
                self._client = self._mod.InferenceServerClient(self.url)
        return self._client

    async def _call(self, make: Callable[[Any], Awaitable[T]]) -> T:
        try:
            return await asyncio.wait_for(make(self._get_client()), self.timeout)
        except Exception as e:
            raise map_error(e, self.url) from e

    async def close(self) -> None:
        """Close the connection."""
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
        """Whether the server answers and is ready for requests (False when unreachable)."""
        try:
            return bool(await self._call(lambda c: c.is_server_ready()))
        except ZooClientError:
            return False

    async def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        kwargs = {"as_json": True} if self.protocol == "grpc" else {}
        return _ready_names(await self._call(lambda c: c.get_model_repository_index(**kwargs)))

    async def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = await self._resolve(model, entries) if entries else model
            kwargs = {"as_json": True} if self.protocol == "grpc" else {}
            config = await self._call(lambda c: c.get_model_config(name, **kwargs))
            self._sigs[key] = ModelSignature.from_config(config)
        return self._sigs[key]

    async def _resolve(self, model: str, entries: Sequence[str]) -> str:
        # As ZooClient._resolve: by readiness, open on a server with restricted admin APIs.
        for candidate in model_candidates(model, entries):
            if await self._call(functools.partial(_is_ready, name=candidate)):
                return candidate
        try:
            served = await self.list_models()
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    async def infer(self, sig: ModelSignature, inputs: Mapping[str, Array]) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model; chunks are sent concurrently."""

        async def one(chunk: Mapping[str, Array]) -> dict[str, Array]:
            tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
            result = await self._call(lambda c: c.infer(sig.name, tensors, outputs=wanted))
            return outputs_of(result, sig, self.url)

        chunks = split_batches(inputs, sig.max_batch_size)
        return join_batches(await asyncio.gather(*(one(c) for c in chunks)))

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


def _is_ready(client: Any, *, name: str) -> Awaitable[bool]:
    """An asyncio client's readiness call for model ``name``."""
    return client.is_model_ready(name)


def _ready_names(index: Any) -> list[str]:
    """Names of READY models in a repository index (HTTP list or gRPC JSON)."""
    models = index.get("models", []) if isinstance(index, Mapping) else index
    return sorted(m["name"] for m in models if m.get("state") == "READY")
