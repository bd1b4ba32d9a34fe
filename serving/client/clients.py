"""The blocking client, and the methods and connection settings both clients share."""

from __future__ import annotations

import abc
import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from serving.client import calls
from serving.client.calls import Call, as_method
from serving.client.closeable import Closeable
from serving.client.requests import join_batches, model_candidates, resolve_model, split_batches
from serving.client.shm import (
    Region,
    RegionSet,
    SharedMemory,
    SharedMemoryPool,
    _register_args,
    _shm_outputs,
    _shm_register_failed,
    _shm_tensors,
)
from serving.client.signature import Array, ModelSignature
from serving.client.transport import (
    Protocol,
    Steps,
    Version,
    _infer_args,
    _tritonclient,
    answered_version,
    ask,
    map_error,
    outputs_of,
    parse_endpoint,
    resume,
    version_kwargs,
)
from zoo.errors import (
    AuthenticationError,
    InvalidInputError,
    ModelNotFoundError,
    ServerError,
    SharedMemoryError,
    TLSError,
    UnsupportedAPIError,
    ZooClientError,
)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# The two clients: same methods, one blocking, one asyncio.
# ---------------------------------------------------------------------------------------------


def blocking(verb: Callable[P, Call[R]]) -> Callable[Concatenate[BaseZooClient, P], R]:
    """The blocking client method of ``verb`` (a function of :mod:`serving.client.calls`)."""

    def method(self: BaseZooClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(verb(*args, **kwargs))

    return as_method(method, verb)


class BaseZooClient(Closeable):
    """The zoo's calls, on top of two hooks: :meth:`signature` and :meth:`infer`.

    Every call takes an optional keyword ``version``: that model version answers it (default:
    the version the server serves; ``zoo repo list`` shows them).

    :class:`ZooClient` fills them over the network; :class:`serving.server.inprocess.InProcessZoo`
    in-process, so the CLI and tests drive both through the same methods.
    """

    @abc.abstractmethod
    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the model serving ``entries`` of ``model``."""

    @abc.abstractmethod
    def infer(
        self, sig: ModelSignature, inputs: Mapping[str, Array], *, version: Version = None
    ) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model (``version`` of it, if given)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the client holds (connections, loaded models)."""

    def _run(self, call: Call[R]) -> R:
        """Every verb's one path: the served signature, the inputs checked against it, the
        inference (the call's model version, if given), the result picked from the outputs."""
        sig = self.signature(call.model, call.entries)
        return call.result(self.infer(sig, call.inputs(sig), version=call.version))

    # -- the zoo (each verb written once, in serving.client.calls) -------------------------
    generate = blocking(calls.generate)
    translate = blocking(calls.translate)
    encode = blocking(calls.encode)
    decode = blocking(calls.decode)
    reconstruct = blocking(calls.reconstruct)
    inpaint = blocking(calls.inpaint)
    classify = blocking(calls.classify)

    # -- projection, synthesis from ws, interpolation, any entry point --------------------
    project = blocking(calls.project)
    synthesize = blocking(calls.synthesize)
    interpolate = blocking(calls.interpolate)
    call = blocking(calls.call)


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

    # -- what both clients do, as steps (serving.client.transport): one copy, run blocking
    # -- by ZooClient and awaited by AsyncZooClient ------------------------------------------
    @property
    def _as_json(self) -> dict[str, bool]:
        """What makes tritonclient's gRPC client answer as JSON, like its HTTP client."""
        return {"as_json": True} if self.protocol == "grpc" else {}

    def _ready_steps(self) -> Steps[bool]:
        """Whether the server answers and is ready; refused credentials and TLS raise."""
        try:
            if (yield ask("is_server_ready")):
                return True
            # tritonclient's HTTP health check only looks at the status code: ask again in a
            # way that raises, so a refused token reads as such rather than as "not ready"
            yield ask("get_server_metadata")
        except (AuthenticationError, TLSError):
            raise
        except ZooClientError:
            pass
        return False

    def _list_models_steps(self) -> Steps[list[str]]:
        """Names of the Triton models that are loaded and ready, sorted."""
        return _ready_names((yield ask("get_model_repository_index", **self._as_json)))

    def _signature_steps(self, model: str, entries: Sequence[str]) -> Steps[ModelSignature]:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = (yield from self._resolve_steps(model, entries)) if entries else model
            try:
                config = yield ask("get_model_config", name, **self._as_json)
                sig = ModelSignature.from_config(config)
            except UnsupportedAPIError:  # a plain v2 server: the core metadata has the tensors
                metadata = yield ask("get_model_metadata", name, **self._as_json)
                sig = ModelSignature.from_metadata(metadata)
            self._sigs[key] = sig
        return self._sigs[key]

    def _resolve_steps(self, model: str, entries: Sequence[str]) -> Steps[str]:
        """The Triton model serving one of ``entries`` of ``model``.

        By readiness, which a server with restricted admin APIs leaves open (its repository
        index needs the admin key); the index only gives the error its close names.
        """
        for candidate in model_candidates(model, entries):
            with contextlib.suppress(ModelNotFoundError):  # KServe's gRPC: NOT_FOUND, not False
                if (yield ask("is_model_ready", candidate)):
                    return candidate
        try:
            served = yield from self._list_models_steps()
        except (AuthenticationError, TLSError):
            raise  # tritonclient's HTTP readiness reads a refused token as "not ready"
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    def _infer_steps(
        self, sig: ModelSignature, chunk: Mapping[str, Array], asked: Mapping[str, str]
    ) -> Steps[tuple[dict[str, Array], int | None]]:
        """One request of at most ``sig.max_batch_size``, over the socket or through shared
        memory: its outputs and the model version that answered."""
        if self._shm is not None:
            return (yield from self._infer_shm_steps(self._shm, sig, chunk, asked))
        tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
        result = yield ask("infer", sig.name, tensors, outputs=wanted, **asked)
        return outputs_of(result, sig, self.endpoint.display), answered_version(result)

    def _infer_shm_steps(
        self,
        pool: SharedMemoryPool,
        sig: ModelSignature,
        chunk: Mapping[str, Array],
        asked: Mapping[str, str],
    ) -> Steps[tuple[dict[str, Array], int | None]]:
        """One request whose tensors travel through a (reused) set of shared-memory regions."""
        regions = pool.checkout(sig, chunk)
        try:
            if not regions.registered:
                for region in regions.all():
                    yield from self._register_steps(region)
                regions.registered = True
            tensors, wanted = _shm_tensors(self._mod, pool, regions, chunk)
            result = yield ask("infer", sig.name, tensors, outputs=wanted, **asked)
            out = _shm_outputs(result, pool, regions, sig, self.endpoint.display)
        except BaseException:  # a failed call may have left them half-written
            yield from self._release_steps(pool, regions)
            raise
        pool.checkin(regions)
        return out, answered_version(result)

    def _register_steps(self, region: Region) -> Steps[None]:
        """Register ``region`` with the server; a refusal says why, and what to do instead."""
        method, args = _register_args(region)
        try:
            yield ask(method, *args)
        except (ServerError, InvalidInputError) as e:
            server = None
            if isinstance(e, UnsupportedAPIError):  # the message names the server's version
                with contextlib.suppress(ZooClientError):
                    server = yield ask("get_server_metadata")
            message = _shm_register_failed(self.endpoint.display, region, e, server)
            raise SharedMemoryError(message) from e

    def _release_steps(self, pool: SharedMemoryPool, regions: RegionSet) -> Steps[None]:
        """Unregister a set (best effort: the server may be gone or never had it) and free it."""
        for region in regions.all():
            with contextlib.suppress(ZooClientError):
                yield ask(f"unregister_{region.kind}_shared_memory", region.name)
        pool.destroy(regions)

    def _release_all_steps(self) -> Steps[None]:
        """Unregister and free every shared-memory region the client holds (on close)."""
        if self._shm is not None:
            for regions in self._shm.drain():
                yield from self._release_steps(self._shm, regions)


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

    def _drive(self, steps: Steps[T]) -> T:
        """Make the calls ``steps`` ask for, one after the other; what they return."""
        answer: Any = None
        error: BaseException | None = None
        while True:
            try:
                method, args, kwargs = resume(steps, answer, error)
            except StopIteration as done:
                return done.value
            try:
                answer, error = self._call(method, *args, **kwargs), None
            except BaseException as e:  # the steps decide (shared memory: release, re-raise)
                answer, error = None, e

    def close(self) -> None:
        """Unregister and free shared-memory regions; close every connection this client opened."""
        self._drive(self._release_all_steps())
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
        return self._drive(self._ready_steps())

    def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        return self._drive(self._list_models_steps())

    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        return self._drive(self._signature_steps(model, entries))

    @property
    def answered_version(self) -> int | None:
        """The model version that answered this thread's last inference (``None`` before one).

        A request split into several batches reports the last batch's version.
        """
        return getattr(self._local, "version", None)

    def infer(
        self, sig: ModelSignature, inputs: Mapping[str, Array], *, version: Version = None
    ) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model, split into batches it accepts."""
        asked = version_kwargs(version)
        parts = []
        for chunk in split_batches(inputs, sig.max_batch_size):
            out, self._local.version = self._drive(self._infer_steps(sig, chunk, asked))
            parts.append(out)
        return join_batches(parts)


def _ready_names(index: Any) -> list[str]:
    """Names of READY models in a repository index (HTTP list or gRPC JSON)."""
    models = index.get("models", []) if isinstance(index, Mapping) else index
    return sorted(m["name"] for m in models if m.get("state") == "READY")
