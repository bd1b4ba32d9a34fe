"""What one ``zoo bench`` run measures: :class:`BenchSettings`, and the module it loads."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.apps.bench import load as loadgen
from serving.apps.bench.peers import LitServeOptions
from serving.apps.bench.registry import BENCH_TARGETS, DEFAULT_TARGETS, check_targets
from serving.client.ports import default_grpc_url
from zoo.errors import InvalidInputError, InvalidNameError, WeightsNotFoundError
from zoo.registry import get_spec, spec_of_module

if TYPE_CHECKING:
    from torch import nn

    from serving.server.repository import RepositoryOptions

#: Client drivers: threads with blocking clients, or one asyncio loop.
CLIENTS = ("threads", "asyncio")
#: The driver a run uses unless told otherwise (see BENCHMARKS.md for the measurement).
DEFAULT_CLIENT = "threads"
#: What the bench's Triton repository can run: the export, or the module through torch.
TRITON_RUNNERS = ("onnxruntime", "torch")
#: Upper bounds that keep a run bounded however it is called.
MAX_DURATION_S = 600.0
MAX_CONCURRENCY = 256
MAX_BATCH = 1024


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_loopback(url: str) -> str:
    """``host:port`` of ``url`` if it is a loopback address; anything else is refused."""
    hostport = url.split("://", 1)[-1].rstrip("/")
    if hostport.startswith("["):  # [v6 address]:port
        host = hostport[1:].split("]", 1)[0]
    else:
        host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
    ok = host == "localhost"
    with contextlib.suppress(ValueError):
        ok = ok or ipaddress.ip_address(host).is_loopback
    if not ok:
        raise InvalidInputError(
            f"zoo bench only loads servers on this machine's loopback; {url!r} is not "
            "(use 127.0.0.1:PORT)."
        )
    return hostport


@dataclass
class BenchSettings:
    """One ``zoo bench`` run."""

    model: str  # zoo model
    entry: str | None = None  # entry point (default: the model's first)
    targets: tuple[str, ...] = DEFAULT_TARGETS  # bench targets to measure, in order (--targets)
    batches: tuple[int, ...] = (1, 8, 64)  # images per request
    concurrency: tuple[int, ...] = (1, 4, 16)  # requests in flight (servers)
    duration: float = 5.0  # measured seconds per cell
    warmup: float = 1.0  # unmeasured seconds before each cell
    overrides: dict[str, Any] = field(default_factory=dict)  # config of a random-weight variant
    url: str | None = None  # Triton HTTP host:port to use instead of starting one
    grpc_url: str | None = (
        None  # its gRPC host:port (default: serving.client.ports.default_grpc_url)
    )
    # with url: the key to its restricted statistics API (never written to the report)
    admin_key: str | None = field(default=None, repr=False)
    client: str = DEFAULT_CLIENT  # "threads" or "asyncio"
    threads: int = field(default_factory=cores)  # intra-op threads: in-process, LitServe
    instances: int = 1  # Triton model instances
    instance_threads: int | None = None  # threads per Triton instance (default: split threads)
    preferred_batch_sizes: tuple[int, ...] = (16, 64)  # Triton dynamic batcher
    max_queue_delay_us: int = 1000  # Triton dynamic batcher
    litserve: LitServeOptions = field(default_factory=LitServeOptions)  # LitServe's batching
    max_requests: int = loadgen.MAX_REQUESTS  # bound per cell
    peak_seconds: float = 1.0  # time spent measuring the matmul peak
    work_dir: Path | None = None  # keep the repository and logs here (default: a temp dir)
    repository: Path | None = None  # take model.onnx from this built repository (no export)
    device: str = "cpu"  # where runners run, in process and in Triton: cpu, or cuda (GPU host)
    triton_runner: str = "onnxruntime"  # what the built repository's models run: onnxruntime,
    # or torch (the module itself; float16 NHWC on a CUDA device)

    def __post_init__(self) -> None:
        get_spec(self.model).entry_point(self.entry)
        check_targets(self.targets)
        if self.client not in CLIENTS:
            raise InvalidNameError(f"client must be one of {', '.join(CLIENTS)}.")
        if not self.batches or any(not 1 <= b <= MAX_BATCH for b in self.batches):
            raise InvalidInputError(f"batch sizes must lie in 1..{MAX_BATCH}.")
        if not self.concurrency or any(not 1 <= c <= MAX_CONCURRENCY for c in self.concurrency):
            raise InvalidInputError(f"concurrency must lie in 1..{MAX_CONCURRENCY}.")
        if not 0 < self.duration <= MAX_DURATION_S or not 0 <= self.warmup <= MAX_DURATION_S:
            raise InvalidInputError(
                f"duration must lie in (0, {MAX_DURATION_S:.0f}] s and warm-up in "
                f"[0, {MAX_DURATION_S:.0f}] s."
            )
        if self.instance_threads is None:
            self.instance_threads = max(1, self.threads // self.instances)
        if min(self.threads, self.instances, self.instance_threads, self.max_requests) < 1:
            raise InvalidInputError("threads, instances and max_requests must be at least 1.")
        if self.max_queue_delay_us < 0 or self.litserve.batch_timeout < 0:
            raise InvalidInputError("queue delays and batch timeouts cannot be negative.")
        if any(not 1 <= b <= self.max_batch_size for b in self.preferred_batch_sizes):
            raise InvalidInputError(
                f"preferred batch sizes must lie in 1..{self.max_batch_size} (max_batch_size)."
            )
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise InvalidInputError(f"device must be cpu or cuda[:N], not {self.device!r}.")
        if self.triton_runner not in TRITON_RUNNERS:
            raise InvalidNameError(f"triton_runner must be one of {', '.join(TRITON_RUNNERS)}.")
        onnx = [t for t in self.targets if BENCH_TARGETS[t].reads_export]
        if self.triton_runner != "onnxruntime" and onnx and self.repository is None:
            raise InvalidInputError(
                f"{', '.join(onnx)} read the run's ONNX export, and a repository built for the "
                f"{self.triton_runner} runner has none; measure them in another run."
            )
        if self.url is not None:
            self.url = check_loopback(self.url)
            if self.grpc_url is None:
                self.grpc_url = default_grpc_url(self.url)
        if self.grpc_url is not None:
            self.grpc_url = check_loopback(self.grpc_url)

    @property
    def max_batch_size(self) -> int:
        """The Triton repository's max_batch_size: 64, or the largest request if bigger."""
        return max(64, *self.batches)

    def repository_options(self, **changes: Any) -> RepositoryOptions:
        """The options of the bench repository (response cache off: it measures compute)."""
        from serving.server.repository import RepositoryOptions

        opts = RepositoryOptions(
            engine=self.triton_runner,
            device=self.device,
            half=self.triton_runner == "torch" and self.device.startswith("cuda"),
            max_batch_size=self.max_batch_size,
            preferred_batch_sizes=tuple(
                b for b in self.preferred_batch_sizes if b <= self.max_batch_size
            ),
            max_queue_delay_us=self.max_queue_delay_us,
            instances=self.instances,
            threads=self.instance_threads or 1,
            response_cache=False,
        )
        return replace(opts, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (in the report)."""
        return {
            "model": self.model,
            "entry": get_spec(self.model).entry_point(self.entry).name,
            "targets": list(self.targets),
            "batches": list(self.batches),
            "concurrency": list(self.concurrency),
            "duration_s": self.duration,
            "warmup_s": self.warmup,
            "overrides": dict(self.overrides),
            "url": self.url,
            "grpc_url": self.grpc_url,
            "client": self.client,
            "threads": self.threads,
            "instances": self.instances,
            "instance_threads": self.instance_threads,
            "preferred_batch_sizes": list(self.preferred_batch_sizes),
            "max_queue_delay_us": self.max_queue_delay_us,
            "max_batch_size": self.max_batch_size,
            "litserve": {
                "max_batch_size": self.litserve.max_batch_size,
                "batch_timeout_s": self.litserve.batch_timeout,
                "threads": self.litserve.threads,
            },
            "max_requests": self.max_requests,
            "repository": None if self.repository is None else str(self.repository),
            "device": self.device,
            "triton_runner": self.triton_runner,
        }


# ---------------------------------------------------------------------------------------------
# The model.
# ---------------------------------------------------------------------------------------------


def load_bench_module(model: str, overrides: dict[str, Any]) -> tuple[nn.Module, str]:
    """The module to bench and what its weights are.

    With ``overrides``: a random-weight variant ``create_model(model, **overrides)``, whose
    entry points follow its config (``get_spec(model, **overrides)``; e.g. resolution=256).
    Without: the trained weights (``zoo.hub.pull``, offline: the cache, else the bundled
    copy), or random ones (throughput does not depend on the values) while none are trained.
    """
    import torch

    from zoo.hub import pull
    from zoo.registry import create_model

    if not overrides:
        try:
            # Offline: a benchmark never waits on the network (`zoo demo` runs one), and the
            # cache or bundled copy of the pinned weights is the same bytes as the Hub's.
            pulled = pull(model, offline=True)
            return pulled.load(), f"{pulled.source} (sha256 {pulled.sha256[:12]}…)"
        except WeightsNotFoundError:
            torch.manual_seed(0)
            return create_model(model).eval(), "random (no trained weights bundled yet)"
    torch.manual_seed(0)
    module = create_model(model, **overrides).eval()
    check_signature(model, module)
    shown = ", ".join(f"{k}={v}" for k, v in overrides.items())
    return module, f"random (variant: {shown})"


def check_signature(model: str, module: nn.Module) -> None:
    """Raise if ``module`` does not return the output shapes its spec derives from its config."""
    import torch

    from export.samples import sample_inputs

    spec = spec_of_module(model, module)
    for ep in spec.entry_points:
        args = [torch.from_numpy(a.copy()) for a in sample_inputs(ep, 1)]
        with torch.inference_mode():
            out = getattr(module, ep.name)(*args)
        outs = out if isinstance(out, tuple) else (out,)
        got = [tuple(o.shape[1:]) for o in outs]
        want = [t.shape for t in ep.outputs]
        if got != want:
            shown = ", ".join(f"{k}={v}" for k, v in spec.overrides.items()) or "defaults"
            raise InvalidInputError(
                f"{model} built with {shown} returns {got} from {ep.name}, but its signature "
                f"says {want}; the family's entry points do not follow this config key."
            )
