"""The targets ``zoo bench`` drives, and the requests it sends them.

:class:`Target` is one thing under load (a blocking :meth:`~Target.call` and an awaitable
:meth:`~Target.acall` per request): :class:`InProcessTarget` (a runner, with the wire
conversion Triton's backend does) and :class:`TritonTarget` (the SDK over HTTP or gRPC, through
the socket or shared memory); the peers are in :mod:`serving.apps.bench.peers`, and which names
exist is :data:`serving.apps.bench.registry.BENCH_TARGETS`. :class:`RequestMaker` gives every
target the same requests.

A target that cannot run here (perf_analyzer not installed, say) raises
:class:`TargetUnavailableError` with the reason; the report lists it as skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from serving.apps.bench.results import ServerFigures
from serving.server.admin_key import admin_headers
from serving.server.wire import WireTensor, graph_inputs, wire_inputs, wire_results
from zoo.errors import ZooError
from zoo.pipeline import is_seeded
from zoo.registry import EntryPoint, TensorSpec
from zoo.roles import role_of

if TYPE_CHECKING:
    from serving.server.triton import TritonServer

Wire = dict[str, npt.NDArray[Any]]
#: A required scalar with no default (interpolation's ``t``) is sent as this, inside every
#: scalar range rule.
MID_SCALAR = 0.5


class TargetUnavailableError(ZooError, RuntimeError):
    """A bench target that cannot run on this machine; the message says why."""


# ---------------------------------------------------------------------------------------------
# Requests: the same inputs for every target.
# ---------------------------------------------------------------------------------------------


@dataclass
class RequestMaker:
    """Wire inputs of request ``i``: distinct seeds per request, fixed data otherwise.

    Seeds run ``base + i * batch ...`` so no two requests of a run repeat one (a response
    cache could not answer them). A seeded request sends every seed, label and scalar input:
    a mixing seed is the item's own seed (the mixing path is measured), interpolation's end
    the next seed, a scalar its default or :data:`MID_SCALAR`. Other requests send one fixed
    random batch (images, masks, ws, latents) and leave out the optional inputs that have no
    default, as a client may.
    """

    entry: EntryPoint  # the entry point benchmarked
    batch: int  # images per request
    base: int = 0  # first seed
    _fixed: Wire = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if is_seeded(self.entry):
            return
        rng = np.random.default_rng(0)
        seeds = np.arange(self.batch, dtype=np.int64).reshape(-1, 1)
        for t, w in zip(self.entry.inputs, wire_inputs(self.entry), strict=True):
            if w.optional and role_of(t).default is None:
                continue
            arr = _by_role(t, seeds)
            self._fixed[w.name] = _random(rng, t, w, self.batch) if arr is None else arr

    def __call__(self, i: int) -> Wire:
        """The wire inputs of request ``i``."""
        if not is_seeded(self.entry):
            return self._fixed
        seeds = self.base + i * self.batch + np.arange(self.batch, dtype=np.int64).reshape(-1, 1)
        wires = zip(self.entry.inputs, wire_inputs(self.entry), strict=True)
        filled = {w.name: _by_role(t, seeds) for t, w in wires}
        return {name: arr for name, arr in filled.items() if arr is not None}


def _random(rng: np.random.Generator, t: TensorSpec, w: WireTensor, n: int) -> npt.NDArray[Any]:
    """``n`` random items of an image (uint8), mask (0/1) or float input (ws, a latent)."""
    if w.dtype != "uint8":
        return rng.standard_normal((n, *w.dims)).astype(w.dtype)
    arr = rng.integers(0, 256, (n, *w.dims), dtype=np.uint8)
    return (arr > 127).astype(np.uint8) if role_of(t).kind == "mask" else arr


def _by_role(t: TensorSpec, seeds: npt.NDArray[np.int64]) -> npt.NDArray[Any] | None:
    """A seed, label or scalar input's column for the request's ``seeds`` ``(B, 1)``; ``None``
    for the other kinds."""
    role = role_of(t)
    if role.kind == "seed":
        return seeds + 1 if role.seed == "seed_to" else seeds
    if role.kind == "label":
        return seeds % t.classes  # labels cycle
    if role.kind == "scalar":
        value = MID_SCALAR if role.default is None else role.default
        return np.full(seeds.shape, value, dtype=np.float32)
    return None


# ---------------------------------------------------------------------------------------------
# Targets.
# ---------------------------------------------------------------------------------------------


class Target:
    """One bench target under load: blocking :meth:`call`, awaitable :meth:`acall` of a request."""

    name: str  # its bench target name (each target sets it)
    in_process: bool = False
    admin_key: str | None = None  # key to a restricted server's statistics (zoo serve's)
    aclient: Any = None  # the asyncio client :meth:`open_async` opened (it has ``close()``)

    def call(self, wire: Wire) -> int:
        """Send one request; return the number of images it carried."""
        raise NotImplementedError

    async def acall(self, wire: Wire) -> int:
        """Asyncio form of :meth:`call` (in-process targets run it inline)."""
        return self.call(wire)

    async def open_async(self) -> None:
        """Open asyncio clients on the running loop."""

    async def close_async(self) -> None:
        """Close the asyncio client :meth:`open_async` opened, if any."""
        if self.aclient is not None:
            await self.aclient.close()
            self.aclient = None

    def server_stats(self) -> dict[str, Any] | None:
        """The server's cumulative statistics for the model (Triton), else ``None``."""
        return None

    def answered_version(self) -> int | None:
        """The model version that answered this thread's last :meth:`call` (Triton), else
        ``None``."""
        return None

    def server_pgid(self) -> int | None:
        """Process group of the server (its CPU time is summed over it), else ``None``."""
        return None

    def close(self) -> None:
        """Release clients (servers are owned by the run, not the target)."""


class InProcessTarget(Target):
    """A runner in this process, with the same wire conversion as Triton's Python backend."""

    in_process = True

    def __init__(self, name: str, runner: Any) -> None:
        self.name = name
        self.runner = runner

    def call(self, wire: Wire) -> int:
        """Convert, run the graph, convert back (what Triton's backend does per batch)."""
        ep = self.runner.entry
        out = wire_results(ep, self.runner(*graph_inputs(ep, wire)))
        return len(out[0])

    def close(self) -> None:
        """Let the runner release what it holds beyond its module (a torch runner: compiled
        graphs and cached GPU memory), so the next target starts clean."""
        release = getattr(self.runner, "release", None)
        if release is not None:
            release()


@dataclass(eq=False)
class TritonTarget(Target):
    """The SDK against a Triton server, over HTTP or gRPC, through the socket or shared memory."""

    name: str  # its bench target name
    protocol: str  # "http" or "grpc"
    url: str  # host:port of that protocol
    triton_model: str  # the Triton model loaded
    stats_url: str = field(kw_only=True)  # HTTP host:port of its statistics
    server: TritonServer | None = field(default=None, kw_only=True)  # None: --url's
    shared_memory: str | None = field(default=None, kw_only=True)  # "system", "cuda" or socket
    admin_key: str | None = field(default=None, kw_only=True)  # to restricted statistics

    def __post_init__(self) -> None:
        from serving.client import ZooClient

        self.client = ZooClient(
            self.url,
            protocol=self.protocol,  # type: ignore[arg-type]
            shared_memory=self.shared_memory,  # type: ignore[arg-type]
        )
        self.sig = self.client.signature(self.triton_model)

    def call(self, wire: Wire) -> int:
        """One inference through the blocking SDK."""
        return len(next(iter(self.client.infer(self.sig, wire).values())))

    async def open_async(self) -> None:
        """An :class:`~serving.client.AsyncZooClient` on the running loop."""
        from serving.client import AsyncZooClient

        self.aclient = AsyncZooClient(
            self.url,
            protocol=self.protocol,  # type: ignore[arg-type]
            shared_memory=self.shared_memory,  # type: ignore[arg-type]
        )

    async def acall(self, wire: Wire) -> int:
        """One inference through the asyncio SDK."""
        out = await self.aclient.infer(self.sig, wire)
        return len(next(iter(out.values())))

    def answered_version(self) -> int | None:
        """The model version that answered this thread's last :meth:`call`."""
        return self.client.answered_version

    def server_stats(self) -> dict[str, Any] | None:
        """Triton's statistics extension for the model (cumulative counters)."""
        return triton_statistics(self.stats_url, self.triton_model, admin_key=self.admin_key)

    def server_pgid(self) -> int | None:
        """Process group of the embedded server (``None`` for ``--url``)."""
        return self.server.pid if self.server is not None else None

    def close(self) -> None:
        """Close the blocking client's connections."""
        self.client.close()


def triton_statistics(
    http_url: str, triton_model: str, *, admin_key: str | None = None
) -> dict[str, Any]:
    """The model's statistics (Triton's statistics extension) at ``http_url`` (host:port).

    ``admin_key``: the key of a server whose statistics API is restricted (``zoo serve``).
    """
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(http_url, network_timeout=10.0)
    try:
        stats = client.get_inference_statistics(triton_model, headers=admin_headers(admin_key))
    finally:
        client.close()
    for entry in stats.get("model_stats", []):
        if entry.get("name") == triton_model:
            return dict(entry)
    return {}


def triton_version(http_url: str) -> str:
    """The server's version from its metadata (``GET /v2``), or ``"unknown"``."""
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    client = httpclient.InferenceServerClient(http_url, network_timeout=10.0)
    try:
        return str(client.get_server_metadata().get("version", "unknown"))
    except (InferenceServerException, OSError, ValueError):
        return "unknown"
    finally:
        client.close()


def group_cpu_seconds(pgid: int | None) -> float | None:
    """User + system CPU seconds of the live processes in process group ``pgid`` (psutil)."""
    if pgid is None:
        return None
    import psutil

    total = 0.0
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                times = proc.cpu_times()
                total += times.user + times.system
        except (OSError, psutil.Error):
            continue  # exited while we looked, or not ours to read
    return total


def stats_delta(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> ServerFigures | None:
    """Server-side figures of one window from two snapshots of Triton's statistics.

    Per request (ms): ``queue`` (waiting for the dynamic batcher), ``compute_input``,
    ``compute_infer``, ``compute_output``, and ``request`` (all of it, as the server saw it);
    ``executions`` and ``avg_batch`` (images per model execution: what dynamic batching made).
    """
    if not before or not after:
        return None

    def counter(snap: Mapping[str, Any], key: str, what: str) -> int:
        return int(snap.get("inference_stats", {}).get(key, {}).get(what, 0))

    requests = counter(after, "success", "count") - counter(before, "success", "count")

    def per_request(key: str) -> float | None:
        ns = counter(after, key, "ns") - counter(before, key, "ns")
        return ns / requests / 1e6 if requests else None

    executions = int(after.get("execution_count", 0)) - int(before.get("execution_count", 0))
    inferences = int(after.get("inference_count", 0)) - int(before.get("inference_count", 0))
    return ServerFigures(
        requests=requests,
        request_ms=per_request("success"),
        queue_ms=per_request("queue"),
        compute_input_ms=per_request("compute_input"),
        compute_infer_ms=per_request("compute_infer"),
        compute_output_ms=per_request("compute_output"),
        executions=executions,
        avg_batch=inferences / executions if executions else None,
    )
