"""What a ``zoo bench`` run found, as typed frozen dataclasses (like export's and eval's).

:class:`BenchReport` holds one :class:`Cell` per target × batch × concurrency, each
:class:`Goal` the issue set, and the model measured (:class:`ModelFigures`). ``to_dict`` gives
the JSON form (schema ``genzoo.bench/2``) and ``from_dict`` reads it back, ``genzoo.bench/1``
reports too (whose cells named their target ``backend``: :func:`upgrade`). The settings, the
environment and the matmul peak are kept as recorded: plain JSON facts that nothing computes
with beyond printing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from serving.apps.bench.stats import LatencySummary

T = TypeVar("T")

#: The report format :meth:`BenchReport.to_dict` writes.
SCHEMA = "genzoo.bench/2"
#: The format before bench targets were called so: a cell's ``target`` was its ``backend``
#: and the settings' ``targets`` their ``backends``; :meth:`BenchReport.from_dict` reads it.
SCHEMA_V1 = "genzoo.bench/1"

#: What a cell's status may be.
STATUSES = ("ok", "error", "skipped")


@dataclass(frozen=True)
class ServerFigures:
    """Triton's own view of one measured window (its statistics extension), per request."""

    requests: int  # successful requests in the window
    request_ms: float | None  # all of a request, as the server saw it
    queue_ms: float | None  # waiting for the dynamic batcher
    compute_input_ms: float | None
    compute_infer_ms: float | None
    compute_output_ms: float | None
    executions: int  # model executions
    avg_batch: float | None  # images per execution: what dynamic batching made

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Latency:
    """Request latency of a cell in ms; perf_analyzer reports no count and no maximum."""

    count: int | None  # requests measured
    mean: float | None
    p50: float
    p90: float
    p99: float
    max: float | None

    @classmethod
    def of(cls, s: LatencySummary) -> Latency:
        """From the load generator's summary."""
        return cls(count=s.count, mean=s.mean, p50=s.p50, p90=s.p90, p99=s.p99, max=s.max)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Figures:
    """What a measured cell recorded: a load-generator window, or perf_analyzer's last trial."""

    client: str  # "threads", "asyncio", "in-process" or "perf_analyzer"
    throughput: float  # images per second
    requests: int | None  # requests in the window (None: perf_analyzer)
    images: int | None
    wall_s: float | None
    error_count: int
    errors: tuple[str, ...]  # distinct error messages (first 5)
    latency_ms: Latency | None
    client_cpu_cores: float | None  # cores the client kept busy (None: in-process)
    process_cpu_cores: float | None  # cores the bench process kept busy
    server_cpu_cores: float | None  # cores the server's process group kept busy
    server: ServerFigures | None = None
    latencies_ms: tuple[float, ...] | None = None  # every request's latency (not perf_analyzer)
    perf_analyzer: Mapping[str, str] | None = None  # perf_analyzer's CSV row
    protocol: str | None = None  # perf_analyzer's protocol ("grpc", or "http" with headers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without the raw latencies (the cell puts them last)."""
        out: dict[str, Any] = {
            "client": self.client,
            "throughput": self.throughput,
            "requests": self.requests,
            "images": self.images,
            "wall_s": self.wall_s,
            "error_count": self.error_count,
            "errors": list(self.errors),
            "client_cpu_cores": self.client_cpu_cores,
            "process_cpu_cores": self.process_cpu_cores,
            "latency_ms": None if self.latency_ms is None else self.latency_ms.to_dict(),
            "server_cpu_cores": self.server_cpu_cores,
            "server": None if self.server is None else self.server.to_dict(),
        }
        if self.perf_analyzer is not None:
            out["perf_analyzer"] = dict(self.perf_analyzer)
        if self.protocol is not None:
            out["protocol"] = self.protocol
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Figures:
        """Read back :meth:`to_dict` (plus the cell's ``latencies_ms``)."""
        lat, srv, raw = d.get("latency_ms"), d.get("server"), d.get("latencies_ms")
        return cls(
            client=d["client"],
            throughput=d["throughput"],
            requests=d.get("requests"),
            images=d.get("images"),
            wall_s=d.get("wall_s"),
            error_count=d.get("error_count", 0),
            errors=tuple(d.get("errors", ())),
            latency_ms=None if lat is None else Latency(**lat),
            client_cpu_cores=d.get("client_cpu_cores"),
            process_cpu_cores=d.get("process_cpu_cores"),
            server_cpu_cores=d.get("server_cpu_cores"),
            server=None if not srv else ServerFigures(**srv),
            latencies_ms=None if raw is None else tuple(raw),
            perf_analyzer=d.get("perf_analyzer"),
            protocol=d.get("protocol"),
        )


@dataclass(frozen=True)
class Cell:
    """One target at one batch size and concurrency: measured, failed or skipped."""

    target: str  # the bench target measured (a name of BENCH_TARGETS)
    batch: int  # images per request
    concurrency: int  # requests in flight
    status: str  # one of STATUSES
    reason: str | None = None  # why it failed or was skipped
    figures: Figures | None = None  # what was measured (a failed window keeps its figures)
    gflops: float | None = None  # achieved GFLOP/s (ok cells)
    peak_fraction: float | None = None  # gflops / the matmul peak (ok cells)
    model_version: int | None = None  # the Triton model version that answered (SDK targets)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"cell status must be one of {', '.join(STATUSES)}")

    @property
    def ok(self) -> bool:
        """Whether the cell was measured."""
        return self.status == "ok"

    @property
    def measured(self) -> Figures:
        """The figures of a measured cell (raises for one that has none)."""
        if self.figures is None:
            raise ValueError(f"{self.target} batch {self.batch} has no figures ({self.status})")
        return self.figures

    @property
    def throughput(self) -> float:
        """Images per second."""
        return self.measured.throughput

    @property
    def latency(self) -> Latency:
        """Request latency in ms."""
        lat = self.measured.latency_ms
        if lat is None:
            raise ValueError(f"{self.target} batch {self.batch} has no latencies")
        return lat

    @property
    def server(self) -> ServerFigures | None:
        """Triton's statistics over the window, where the target is a Triton."""
        return None if self.figures is None else self.figures.server

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: identity first, then the figures, raw latencies last."""
        out: dict[str, Any] = {
            "target": self.target,
            "batch": self.batch,
            "concurrency": self.concurrency,
            "status": self.status,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.model_version is not None:
            out["model_version"] = self.model_version
        if self.figures is not None:
            out.update(self.figures.to_dict())
        if self.ok:
            out["gflops"] = self.gflops
            out["peak_fraction"] = self.peak_fraction
        if self.figures is not None and self.figures.latencies_ms is not None:
            out["latencies_ms"] = list(self.figures.latencies_ms)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cell:
        """Read back :meth:`to_dict`."""
        return _read(cls, d, figures=Figures.from_dict(d) if "client" in d else None)


@dataclass(frozen=True)
class Goal:
    """One goal of the issue, checked against this run's cells."""

    id: str  # short name: grpc64, dynamic, p50, litserve, peak
    goal: str  # what it asks, in words
    threshold: float
    value: float | None  # measured ratio or difference; None when not measured
    met: bool | None  # None when not measured
    detail: str  # the figures behind it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class ModelFigures:
    """The model a run measured."""

    name: str
    entry: str
    weights: str  # which weights ("bundled (sha256 …)", "random (variant: …)")
    overrides: Mapping[str, Any]  # config of a random-weight variant
    gflop_per_image: float | None  # None: not counted (no torch here; Triton targets only)
    flops_counted_by: str = "torch.utils.flop_counter.FlopCounterMode (matmul + conv, 2/MAC)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "overrides": dict(self.overrides)}


@dataclass(frozen=True)
class BenchReport:
    """One ``zoo bench`` run: what was measured, on what, and how it compares."""

    schema: str
    created: str  # ISO 8601, UTC
    settings: Mapping[str, Any]  # BenchSettings.to_dict() of the run
    environment: Mapping[str, Any]  # machine, load, versions, git (serving.apps.bench.environment)
    model: ModelFigures
    peak: Mapping[str, Any] | None  # MatmulPeak.to_dict(); None: not measured (no torch here)
    results: tuple[Cell, ...] = ()
    goals: tuple[Goal, ...] = ()
    notes: tuple[str, ...] = ()
    command: str | None = None  # the `zoo bench` command that made it

    @property
    def ok_cells(self) -> list[Cell]:
        """The measured cells (skipped and failed ones left out)."""
        return [c for c in self.results if c.ok]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report."""
        out: dict[str, Any] = {
            "schema": self.schema,
            "created": self.created,
            "settings": dict(self.settings),
            "environment": dict(self.environment),
            "notes": list(self.notes),
            "model": self.model.to_dict(),
            "peak": dict(self.peak) if self.peak is not None else None,
            "results": [c.to_dict() for c in self.results],
            "goals": [g.to_dict() for g in self.goals],
        }
        if self.command is not None:
            out["command"] = self.command
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BenchReport:
        """Read back :meth:`to_dict` (a ``bench.json``); a ``genzoo.bench/1`` one is read as the
        ``genzoo.bench/2`` report it would be now (:func:`upgrade`)."""
        d = upgrade(d)
        return _read(
            cls,
            d,
            model=ModelFigures(**d["model"]),
            results=tuple(Cell.from_dict(c) for c in d.get("results", ())),
            goals=tuple(Goal(**g) for g in d.get("goals", ())),
            notes=tuple(d.get("notes", ())),
        )


def upgrade(d: Mapping[str, Any]) -> Mapping[str, Any]:
    """Report ``d`` in the current format: a ``genzoo.bench/1`` one with its keys renamed (each
    cell's ``backend`` to ``target``, the settings' ``backends`` to ``targets``) and the schema
    it now has; any other as it is."""
    if d.get("schema") != SCHEMA_V1:
        return d
    settings = {("targets" if k == "backends" else k): v for k, v in d.get("settings", {}).items()}
    cells = [
        {("target" if k == "backend" else k): v for k, v in c.items()} for c in d.get("results", ())
    ]
    return {**d, "schema": SCHEMA, "settings": settings, "results": cells}


def _read(cls: type[T], d: Mapping[str, Any], **read: Any) -> T:
    """A ``cls`` from its JSON form ``d``: the fields in ``read`` as given, every other one from
    ``d`` under its own name (its default where ``d`` has none)."""
    kwargs = {f.name: d[f.name] for f in fields(cls) if f.name in d}  # type: ignore[arg-type]
    return cls(**{**kwargs, **read})
