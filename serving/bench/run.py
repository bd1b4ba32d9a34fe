"""``zoo bench``: the same model and inputs on every backend, in one run.

:func:`run_bench` exports the model once into a temporary Triton repository, measures the
machine's matmul peak, then for each backend × batch × concurrency drives the backend with
the closed-loop load generator (:mod:`serving.bench.load`) and records throughput, latency
percentiles, achieved GFLOP/s, the client's and the server's CPU, and Triton's own
statistics. It returns a JSON-ready report (:mod:`serving.bench.report` writes it out).

In-process backends run with one caller and every core given to the graph (their
concurrency is 1); servers are measured at each requested concurrency.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import ipaddress
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.bench import load as loadgen
from serving.bench.flops import count_flops, measure_matmul_peak
from serving.bench.stats import summarize
from serving.bench.targets import (
    BACKENDS,
    IN_PROCESS,
    BackendUnavailableError,
    LitServeOptions,
    LitServeProcess,
    LitServeTarget,
    PerfAnalyzerTarget,
    RequestMaker,
    Target,
    TritonTarget,
    group_cpu_seconds,
    open_in_process,
    stats_delta,
    triton_version,
)
from serving.ports import default_grpc_url
from zoo.errors import InvalidInputError, InvalidNameError, WeightsNotFoundError
from zoo.registry import get_spec, spec_of_module, triton_model_name
from zoo.registry import parse_overrides as parse_overrides  # re-exported for zoo.cli.bench

if TYPE_CHECKING:
    from torch import nn

    from serving.repository import RepositoryOptions
    from serving.server import TritonServer

#: Report format version.
SCHEMA = "genzoo.bench/1"
#: Backends run when none are named.
DEFAULT_BACKENDS = ("torch", "onnxruntime", "tensorrt", "triton-http", "triton-grpc", "litserve")
#: Client drivers: threads with blocking clients, or one asyncio loop.
CLIENTS = ("threads", "asyncio")
#: The driver a run uses unless told otherwise (see BENCHMARKS.md for the measurement).
DEFAULT_CLIENT = "threads"
#: Upper bounds that keep a run bounded however it is called.
MAX_DURATION_S = 600.0
MAX_CONCURRENCY = 256
MAX_BATCH = 1024

Progress = Callable[[int, int, str], None]  # (cells done, cells in all, what runs now)


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
    backends: tuple[str, ...] = DEFAULT_BACKENDS  # what to measure, in order
    batches: tuple[int, ...] = (1, 8, 64)  # images per request
    concurrency: tuple[int, ...] = (1, 4, 16)  # requests in flight (servers)
    duration: float = 5.0  # measured seconds per cell
    warmup: float = 1.0  # unmeasured seconds before each cell
    overrides: dict[str, Any] = field(default_factory=dict)  # config of a random-weight variant
    url: str | None = None  # Triton HTTP host:port to use instead of starting one
    grpc_url: str | None = None  # its gRPC host:port (default: serving.ports.default_grpc_url)
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

    def __post_init__(self) -> None:
        get_spec(self.model).entry_point(self.entry)
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown or not self.backends:
            raise InvalidNameError(
                f"unknown backend(s) {', '.join(unknown) or '(none)'}; choose from "
                f"{', '.join(BACKENDS)}."
            )
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
        from serving.repository import RepositoryOptions

        opts = RepositoryOptions(
            backend="onnxruntime",
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
            "backends": list(self.backends),
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
        }


# ---------------------------------------------------------------------------------------------
# The model.
# ---------------------------------------------------------------------------------------------


def load_bench_module(model: str, overrides: dict[str, Any]) -> tuple[nn.Module, str]:
    """The module to bench and what its weights are.

    With ``overrides``: a random-weight variant ``create_model(model, **overrides)``, whose
    entry points follow its config (``get_spec(model, **overrides)``; e.g. resolution=256).
    Without: the bundled trained weights, or random ones (throughput does not depend on the
    values) while none are bundled.
    """
    import torch

    from zoo.registry import create_model
    from zoo.weights import load_bundled

    if not overrides:
        try:
            return load_bundled(model).eval(), f"bundled (sha256 {get_spec(model).sha256[:12]}…)"
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

    from export.gates import parity_inputs

    spec = spec_of_module(model, module)
    for ep in spec.entry_points:
        args = [torch.from_numpy(a.copy()) for a in parity_inputs(ep, 1)]
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


# ---------------------------------------------------------------------------------------------
# The environment.
# ---------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": sha, "dirty": bool(dirty)}


#: The GPU facts a report records, as nvidia-smi prints them: CSV, no header, memory in MiB.
NVIDIA_SMI_QUERY = (
    "nvidia-smi",
    "--query-gpu=name,memory.total,driver_version",
    "--format=csv,noheader,nounits",
)


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """The GPUs in the output of :data:`NVIDIA_SMI_QUERY`: name, memory (MiB), driver each."""
    found = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.rsplit(",", 2)]
        if len(fields) != 3 or not fields[0]:
            continue  # not a GPU line (blank, or a message)
        name, memory, driver = fields
        found.append(
            {
                "name": name,
                "memory_mib": int(memory) if memory.isdigit() else None,  # "[N/A]" on some
                "driver": None if driver.startswith("[") else driver,
            }
        )
    return found


def gpus() -> list[dict[str, Any]] | None:
    """This machine's GPUs (name, memory in MiB, driver), or ``None`` where it has none.

    nvidia-smi answers where the driver's tools are installed; otherwise torch gives the name
    and memory of each CUDA device (not the driver).
    """
    try:
        out = subprocess.run(
            NVIDIA_SMI_QUERY, capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    found = parse_nvidia_smi(out)
    if found:
        return found
    import torch

    if not torch.cuda.is_available():
        return None
    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    return [{"name": p.name, "memory_mib": p.total_memory // 2**20, "driver": None} for p in props]


def environment() -> dict[str, Any]:
    """CPU, cores, GPUs, load, versions and git commit of this run."""
    import numpy
    import torch

    return {
        "cpu": _cpu_model(),
        "cores": cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": gpus(),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            "genzoo": _version("genzoo"),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "numpy": numpy.__version__,
            "onnxruntime": _version("onnxruntime"),
            "tritonserver": None,  # filled in once a server answers
            "nvidia-pytriton": _version("nvidia-pytriton"),
            "tritonclient": _version("tritonclient"),
            "litserve": _version("litserve"),
        },
        "git": _git_commit(),
    }


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------


@dataclass
class _Servers:
    """Servers a run starts lazily and stops at the end."""

    work: Path
    settings: BenchSettings
    repository: Path | None = None
    triton: TritonServer | None = None
    litserve: LitServeProcess | None = None

    def triton_urls(self) -> tuple[str, str, TritonServer | None]:
        """(HTTP url, gRPC url, server or None) of the Triton to use, started if needed."""
        s = self.settings
        if s.url is not None:
            assert s.grpc_url is not None
            return s.url, s.grpc_url, None
        if self.triton is None:
            from serving.server import ServerConfig, TritonServer

            assert self.repository is not None
            config = ServerConfig.on_free_ports(
                self.repository,
                cache_size=0,
                load_models=tuple(triton_names(s.model)),
            )
            server = TritonServer(config, log_file=self.work / "tritonserver.log")
            server.start(timeout=300)
            self.triton = server
        return self.triton.http_url, self.triton.grpc_url, self.triton

    def stop(self) -> None:
        """Stop whatever was started."""
        if self.triton is not None:
            self.triton.stop()
            self.triton = None
        if self.litserve is not None:
            self.litserve.stop()
            self.litserve = None


def triton_names(model: str) -> list[str]:
    """The Triton models serving every entry point of ``model``."""
    return [triton_model_name(model, e.name) for e in get_spec(model).entry_points]


@contextlib.contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    path = Path(tempfile.mkdtemp(prefix="zoo-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def plan_cells(settings: BenchSettings) -> list[tuple[str, int, int]]:
    """(backend, batch, concurrency) of every cell, in run order.

    In-process backends get concurrency 1 only: one caller with every core in the graph.
    """
    cells: list[tuple[str, int, int]] = []
    for backend in settings.backends:
        for batch in settings.batches:
            levels = (1,) if backend in IN_PROCESS else settings.concurrency
            cells.extend((backend, batch, c) for c in levels)
    return cells


def open_target(
    backend: str,
    settings: BenchSettings,
    servers: _Servers,
    module: nn.Module,
) -> Target:
    """Open ``backend``'s target (servers start on first use)."""
    ep = get_spec(settings.model, **settings.overrides).entry_point(settings.entry)
    triton_name = triton_model_name(settings.model, ep.name)
    onnx = None
    if servers.repository is not None:
        onnx = servers.repository / triton_name / "1" / "model.onnx"
    if backend in IN_PROCESS:
        return open_in_process(
            backend,
            settings.model,
            ep.name,
            module=module,
            onnx_path=onnx if backend == "onnxruntime" else None,
            threads=settings.threads,
        )
    if backend == "triton-perf":
        http_url, grpc_url, server = servers.triton_urls()
        return PerfAnalyzerTarget(grpc_url, triton_name, stats_url=http_url, server=server)
    if backend == "triton-shm":
        http_url, grpc_url, server = servers.triton_urls()
        return TritonTarget(
            "grpc", grpc_url, triton_name, stats_url=http_url, server=server, shared_memory="system"
        )
    if backend.startswith("triton-"):
        http_url, grpc_url, server = servers.triton_urls()
        protocol = backend.split("-", 1)[1]
        url = http_url if protocol == "http" else grpc_url
        return TritonTarget(protocol, url, triton_name, stats_url=http_url, server=server)
    assert onnx is not None
    if servers.litserve is None:
        servers.litserve = LitServeProcess(
            settings.model,
            ep.name,
            onnx,
            replace(settings.litserve, threads=settings.threads),
            log_file=servers.work / "litserve.log",
        ).start()
    return LitServeTarget(servers.litserve)


def measure_cell(
    target: Target,
    maker: RequestMaker,
    *,
    concurrency: int,
    settings: BenchSettings,
    client: str,
) -> dict[str, Any]:
    """Drive ``target`` with requests from ``maker``; the cell's figures (without FLOP/s)."""
    if isinstance(target, PerfAnalyzerTarget):
        return _measure_perf_analyzer(target, maker, concurrency=concurrency, settings=settings)
    try:  # untimed first call: compile, connect, allocate
        target.call(maker(settings.max_requests))
    except Exception as e:
        return {"status": "error", "reason": f"first request failed: {type(e).__name__}: {e}"}
    pgid = target.server_pgid()
    marks: dict[str, Any] = {}

    def snapshot(tag: str) -> None:
        marks[f"stats_{tag}"] = target.server_stats()
        marks[f"cpu_{tag}"] = group_cpu_seconds(pgid)
        marks[f"t_{tag}"] = time.perf_counter()

    def window_starts() -> None:
        snapshot("start")

    snapshot("start")  # replaced when the measured window opens
    if client == "asyncio" and not target.in_process:

        async def acall(i: int) -> int:
            return await target.acall(maker(i))

        result = loadgen.run_asyncio(
            acall,
            concurrency=concurrency,
            duration=settings.duration,
            warmup=settings.warmup,
            max_requests=settings.max_requests,
            setup=target.open_async,
            teardown=target.close_async,
            on_window=window_starts,
        )
    else:
        result = loadgen.run_threads(
            lambda i: target.call(maker(i)),
            concurrency=concurrency,
            duration=settings.duration,
            warmup=settings.warmup,
            max_requests=settings.max_requests,
            on_window=window_starts,
        )
    snapshot("end")
    cell: dict[str, Any] = {
        "client": "in-process" if target.in_process else client,
        "requests": result.requests,
        "images": result.images,
        "wall_s": result.wall_s,
        "throughput": result.throughput,
        "error_count": result.error_count,
        "errors": result.errors,
        "client_cpu_cores": None if target.in_process else result.client_cpu_cores,
        "process_cpu_cores": result.client_cpu_cores,
        "latencies_ms": [round(1e3 * x, 4) for x in result.latencies_s],
    }
    cell["latency_ms"] = summarize(result.latencies_s).to_dict() if result.latencies_s else None
    elapsed = marks["t_end"] - marks["t_start"]
    if marks["cpu_start"] is not None and marks["cpu_end"] is not None and elapsed > 0:
        cell["server_cpu_cores"] = (marks["cpu_end"] - marks["cpu_start"]) / elapsed
    else:
        cell["server_cpu_cores"] = None
    cell["server"] = stats_delta(marks["stats_start"], marks["stats_end"]) or None
    if result.requests == 0:
        cell["status"] = "error"
        cell["reason"] = result.errors[0] if result.errors else "no request completed"
    else:
        cell["status"] = "ok"
    return cell


def _measure_perf_analyzer(
    target: PerfAnalyzerTarget, maker: RequestMaker, *, concurrency: int, settings: BenchSettings
) -> dict[str, Any]:
    """A ``triton-perf`` cell; server figures span all of perf_analyzer's trials."""
    pgid = target.server_pgid()
    stats0, cpu0, t0 = target.server_stats(), group_cpu_seconds(pgid), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-perf-") as tmp:
        cell = target.measure(
            maker, concurrency=concurrency, duration=settings.duration, work=Path(tmp)
        )
    elapsed = time.perf_counter() - t0
    cpu1 = group_cpu_seconds(pgid)
    cell["server"] = stats_delta(stats0, target.server_stats()) or None
    cell["server_cpu_cores"] = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / elapsed
    cell["process_cpu_cores"] = None
    return cell


def run_bench(settings: BenchSettings, *, progress: Progress | None = None) -> dict[str, Any]:
    """Measure every cell of ``settings``; return the report (see :mod:`serving.bench.report`)."""
    from serving.bench.report import evaluate_goals

    say = progress or (lambda _done, _total, _what: None)
    spec = get_spec(settings.model, **settings.overrides)
    ep = spec.entry_point(settings.entry)
    cells = plan_cells(settings)
    total = len(cells) + 2
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings.to_dict(),
        "environment": environment(),
        "notes": [],
    }
    say(0, total, f"loading {settings.model}")
    module, weights = load_bench_module(settings.model, settings.overrides)
    gflop = count_flops(module, ep) / 1e9
    report["model"] = {
        "name": settings.model,
        "entry": ep.name,
        "weights": weights,
        "overrides": dict(settings.overrides),
        "gflop_per_image": gflop,
        "flops_counted_by": "torch.utils.flop_counter.FlopCounterMode (matmul + conv, 2/MAC)",
    }
    say(0, total, "measuring the matmul peak")
    peak = measure_matmul_peak(seconds=settings.peak_seconds)
    report["peak"] = peak.to_dict()

    results: list[dict[str, Any]] = []
    with _work_dir(settings.work_dir) as work:
        servers = _Servers(work, settings)
        try:
            needs_repo = any(
                b == "onnxruntime"
                or b == "litserve"
                or (b.startswith("triton-") and not settings.url)
                for b in settings.backends
            )
            if settings.repository is not None:
                servers.repository = Path(settings.repository)
            elif needs_repo:
                from serving.repository import build_repository

                say(1, total, "exporting to ONNX and building the Triton repository")
                servers.repository = work / "model_repository"
                build_repository(
                    [settings.model],
                    out_dir=servers.repository,
                    options=settings.repository_options(),
                    modules={settings.model: module},
                    parity_n=4,
                )
            done = 2
            by_backend: dict[str, list[tuple[int, int]]] = {}
            for backend, batch, conc in cells:
                by_backend.setdefault(backend, []).append((batch, conc))
            index = 0
            for backend, plan in by_backend.items():
                say(done, total, f"{backend}: starting")
                try:
                    target = open_target(backend, settings, servers, module)
                except (BackendUnavailableError, ImportError) as e:
                    for batch, conc in plan:
                        results.append(_skipped(backend, batch, conc, str(e)))
                    done += len(plan)
                    index += len(plan)
                    continue
                try:
                    if isinstance(target, TritonTarget | PerfAnalyzerTarget):
                        target.admin_key = settings.admin_key
                        stats_url = target.stats_url
                        report["environment"]["versions"]["tritonserver"] = triton_version(
                            stats_url
                        )
                    for batch, conc in plan:
                        index += 1
                        say(done, total, f"{backend}  batch {batch}  concurrency {conc}")
                        maker = RequestMaker(ep, batch, base=index * 10**10)
                        cell = measure_cell(
                            target,
                            maker,
                            concurrency=conc,
                            settings=settings,
                            client=settings.client,
                        )
                        cell.update(backend=backend, batch=batch, concurrency=conc)
                        if cell["status"] == "ok":
                            cell["gflops"] = cell["throughput"] * gflop
                            cell["peak_fraction"] = cell["gflops"] / peak.gflops
                        results.append(cell)
                        done += 1
                finally:
                    target.close()
        finally:
            servers.stop()
    report["results"] = [_ordered(c) for c in results]
    report["environment"]["loadavg_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    report["goals"] = evaluate_goals(report)
    say(total, total, "done")
    return report


def _skipped(backend: str, batch: int, conc: int, reason: str) -> dict[str, Any]:
    return {
        "backend": backend,
        "batch": batch,
        "concurrency": conc,
        "status": "skipped",
        "reason": reason,
    }


_FIRST = ("backend", "batch", "concurrency", "status", "reason", "client", "throughput")


def _ordered(cell: dict[str, Any]) -> dict[str, Any]:
    """Key order that reads well in the JSON: identity first, raw latencies last."""
    head = {k: cell[k] for k in _FIRST if k in cell}
    rest = {k: v for k, v in cell.items() if k not in head and k != "latencies_ms"}
    tail = {"latencies_ms": cell["latencies_ms"]} if "latencies_ms" in cell else {}
    return {**head, **rest, **tail}


#: Backends the main job (``zoo demo``) compares, with its labels.
DEMO_BACKENDS = {
    "onnxruntime": "in-process ONNX Runtime",
    "triton-http": "Triton HTTP",
    "triton-grpc": "Triton gRPC",
}


def demo_bench(
    model: str,
    *,
    http_url: str,
    grpc_url: str,
    repository: Path,
    seconds: float,
    batch: int = 64,
    threads: int = 1,
) -> dict[str, Any]:
    """The short bench ``zoo demo`` runs against its own server (report as :func:`run_bench`).

    In-process ONNX Runtime (on ``repository``'s export, ``threads`` threads, as each Triton
    instance has) and the running Triton over HTTP and gRPC, ``batch`` images per request,
    one request in flight, about ``seconds`` each.
    """
    settings = BenchSettings(
        model=model,
        backends=tuple(DEMO_BACKENDS),
        batches=(batch,),
        concurrency=(1,),
        duration=seconds,
        warmup=min(0.5, seconds / 2),
        url=http_url,
        grpc_url=grpc_url,
        repository=repository,
        threads=threads,
        peak_seconds=0.3,
    )
    return run_bench(settings)
