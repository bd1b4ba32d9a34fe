"""``zoo bench --tune``: Triton's dynamic batching and instance count under a p99 bound.

A handful of configurations (:func:`candidate_configs`) are each served by the embedded Triton
and loaded with the same workload (one batch size, one concurrency, a few seconds);
:func:`pick_best` keeps the highest throughput whose p99 stays within the bound, and the
winner is written into the repository's ``config.pbtxt`` through
:func:`serving.server.repository.write_configs` (so it is a config Triton parses, like any other).
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from serving.apps.bench import load as loadgen
from serving.apps.bench.environment import environment
from serving.apps.bench.registry import BENCH_TARGETS, Resources, triton_names
from serving.apps.bench.run import Progress, measure_cell
from serving.apps.bench.settings import DEFAULT_CLIENT, BenchSettings, cores, load_bench_module
from serving.apps.bench.targets import RequestMaker
from zoo.errors import InvalidInputError
from zoo.registry import EntryPoint, get_spec

#: Schema id of the ``--tune`` report.
TUNE_SCHEMA = "genzoo.bench.tune/1"


@dataclass(frozen=True)
class TuneConfig:
    """The Triton settings the search varies."""

    instances: int  # model instances (instance_group count)
    threads: int  # ONNX Runtime intra-op threads per instance
    preferred_batch_sizes: tuple[int, ...]  # dynamic batcher's preferred sizes (() = none)
    max_queue_delay_us: int  # dynamic batcher's max_queue_delay_microseconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "instances": self.instances,
            "threads": self.threads,
            "preferred_batch_sizes": list(self.preferred_batch_sizes),
            "max_queue_delay_us": self.max_queue_delay_us,
        }


def candidate_configs(n_cores: int, batch: int, concurrency: int) -> list[TuneConfig]:
    """Six configurations worth trying for ``concurrency`` requests of ``batch`` images.

    Instances: one with every core, and (on 2+ cores) two with half each. Batching: none
    preferred and no delay (run whatever is queued), half and all of the images in flight
    with a short delay, and all of them with a longer one.
    """
    full = max(1, min(64, batch * concurrency))
    half = max(1, full // 2)
    batching = [
        ((), 0),
        (tuple(sorted({half, full})), 500),
        ((full,), 2000),
    ]
    shapes = sorted({(1, n_cores), (min(2, n_cores), max(1, n_cores // 2))})
    return [
        TuneConfig(instances=i, threads=t, preferred_batch_sizes=p, max_queue_delay_us=d)
        for i, t in shapes
        for p, d in batching
    ]


@dataclass(frozen=True)
class TuneMeasurement:
    """One candidate configuration, measured."""

    config: TuneConfig  # what was served
    throughput: float  # images per second (0 when the run failed)
    p50_ms: float | None  # median latency
    p99_ms: float | None  # 99th-percentile latency; None when the run failed
    server: dict[str, Any] | None = None  # Triton's own statistics of the run
    error_count: int = 0  # requests that failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "config": self.config.to_dict()}


def pick_best(measurements: Sequence[TuneMeasurement], p99_ms: float) -> TuneMeasurement | None:
    """The measurement with the highest throughput whose p99 is within ``p99_ms``.

    A failed run (``p99_ms`` None) never wins; ties go to the lower p99. ``None`` when no
    measurement meets the bound.
    """
    ok = [m for m in measurements if m.p99_ms is not None and m.p99_ms <= p99_ms]
    if not ok:
        return None
    return max(ok, key=lambda m: (m.throughput, -(m.p99_ms or 0.0)))


@dataclass(frozen=True)
class TuneResult:
    """What ``zoo bench --tune`` found and wrote (``--json``: :meth:`to_dict`)."""

    model: str  # zoo model
    entry: str  # its entry point measured
    weights: str  # "trained" or the random-weight variant's description
    workload: dict[str, Any]  # batch, concurrency, duration_s, protocol, client
    p99_bound_ms: float  # the latency bound
    measurements: tuple[TuneMeasurement, ...]  # every candidate, in the order run
    best: TuneMeasurement  # the winner, written into the config
    written: tuple[Path, ...]  # the config files written
    environment: dict[str, Any]  # host, versions, git commit
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (schema ``genzoo.bench.tune/1``)."""
        return {
            "schema": TUNE_SCHEMA,
            "created": self.created,
            "model": self.model,
            "entry": self.entry,
            "weights": self.weights,
            "workload": dict(self.workload),
            "p99_bound_ms": self.p99_bound_ms,
            "measurements": [m.to_dict() for m in self.measurements],
            "best": self.best.to_dict(),
            "written": [str(p) for p in self.written],
            "environment": self.environment,
        }


@dataclass
class TuneSettings:
    """One ``zoo bench --tune`` run."""

    model: str  # zoo model (its first entry point is loaded)
    p99_ms: float  # latency bound
    batch: int = 1  # images per request
    concurrency: int = 16  # requests in flight
    duration: float = 3.0  # measured seconds per configuration
    warmup: float = 1.0  # warm-up seconds per configuration
    repository: Path | None = None  # where the winner is written (default: model_repository/)
    client: str = DEFAULT_CLIENT  # load generator
    protocol: str = "grpc"  # SDK protocol
    candidates: list[TuneConfig] | None = None  # default: candidate_configs(...)
    max_requests: int = loadgen.MAX_REQUESTS  # bound per configuration
    entry: str | None = None  # entry point
    overrides: dict[str, Any] = field(default_factory=dict)  # random-weight variant

    def __post_init__(self) -> None:
        get_spec(self.model).entry_point(self.entry)
        if not self.p99_ms > 0:
            raise InvalidInputError("--p99-ms must be a positive number of milliseconds.")
        if not 1 <= self.batch <= 64 or not 1 <= self.concurrency <= 256:
            raise InvalidInputError("--tune takes a batch in 1..64 and a concurrency in 1..256.")
        if not 0 < self.duration <= 60 or not 0 <= self.warmup <= 60:
            raise InvalidInputError("--tune durations must lie in (0, 60] s per configuration.")


def tune_triton(settings: TuneSettings, *, progress: Progress | None = None) -> TuneResult:
    """Measure every candidate, pick the best under the bound, and write it into the config.

    Raises :class:`~zoo.errors.InvalidInputError` when no candidate meets the bound (the
    message gives the lowest p99 seen); nothing is written then.
    """
    from serving.server.repository import RepositoryOptions, build_repository, write_configs
    from zoo.settings import model_repository_dir

    say = progress or (lambda _d, _t, _w: None)
    ep = get_spec(settings.model).entry_point(settings.entry)
    candidates = settings.candidates or candidate_configs(
        cores(), settings.batch, settings.concurrency
    )
    total = len(candidates) + 1
    bench = BenchSettings(
        model=settings.model,
        entry=ep.name,
        targets=(f"triton-{settings.protocol}",),
        batches=(settings.batch,),
        concurrency=(settings.concurrency,),
        duration=settings.duration,
        warmup=settings.warmup,
        client=settings.client,
        max_requests=settings.max_requests,
    )
    say(0, total, "exporting to ONNX")
    module, weights = load_bench_module(settings.model, settings.overrides)
    measurements: list[TuneMeasurement] = []
    with tempfile.TemporaryDirectory(prefix="zoo-tune-") as tmp:
        repo = Path(tmp) / "model_repository"
        build_repository(
            [settings.model],
            out_dir=repo,
            options=RepositoryOptions(response_cache=False),
            modules={settings.model: module},
            parity_n=4,
        )
        for k, cand in enumerate(candidates):
            what = (
                f"{cand.instances}×{cand.threads} threads, preferred "
                f"{list(cand.preferred_batch_sizes)}, delay {cand.max_queue_delay_us} µs"
            )
            say(k + 1, total, what)
            measurements.append(_measure_candidate(settings, ep, bench, repo, k, cand))
    best = pick_best(measurements, settings.p99_ms)
    if best is None:
        raise _nothing_met(measurements, settings.p99_ms)
    dest = Path(settings.repository or model_repository_dir())
    written = write_configs(dest, [settings.model], _options(best.config, response_cache=True))
    say(total, total, "done")
    return TuneResult(
        model=settings.model,
        entry=ep.name,
        weights=weights,
        workload={
            "batch": settings.batch,
            "concurrency": settings.concurrency,
            "duration_s": settings.duration,
            "protocol": settings.protocol,
            "client": settings.client,
        },
        p99_bound_ms=settings.p99_ms,
        measurements=tuple(measurements),
        best=best,
        written=tuple(written),
        environment=environment(),
    )


def _measure_candidate(
    settings: TuneSettings,
    ep: EntryPoint,
    bench: BenchSettings,
    repo: Path,
    k: int,
    cand: TuneConfig,
) -> TuneMeasurement:
    """Serve ``repo`` configured as candidate ``k`` (``cand``) and measure ``bench`` on it.

    The server's log goes next to ``repo`` as ``tritonserver-<k>.log``.
    """
    from serving.server.repository import write_configs
    from serving.server.triton import ServerConfig, TritonServer

    write_configs(repo, [settings.model], _options(cand, response_cache=False))
    config = ServerConfig.on_free_ports(
        repo,
        cache_size=0,
        load_models=tuple(triton_names(settings.model)),
    )
    server = TritonServer(config, log_file=repo.parent / f"tritonserver-{k}.log")
    with server:
        name = bench.targets[0]
        target = BENCH_TARGETS[name].open(Resources(bench, repo.parent, triton=server))
        try:
            cell = measure_cell(
                target,
                RequestMaker(ep, settings.batch, base=(k + 1) * 10**10),
                name=name,
                concurrency=settings.concurrency,
                settings=bench,
                client=settings.client,
            )
        finally:
            target.close()
    fig = cell.figures
    lat = None if fig is None else fig.latency_ms
    return TuneMeasurement(
        config=cand,
        throughput=0.0 if fig is None else fig.throughput,
        p50_ms=None if lat is None else lat.p50,
        p99_ms=lat.p99 if lat is not None and cell.ok else None,
        server=None if cell.server is None else cell.server.to_dict(),
        error_count=0 if fig is None else fig.error_count,
    )


def _nothing_met(measurements: list[TuneMeasurement], bound_ms: float) -> InvalidInputError:
    """The error when no candidate kept p99 within ``bound_ms``: the lowest p99 seen, what to do."""
    lowest = min((m.p99_ms for m in measurements if m.p99_ms is not None), default=None)
    seen = f"the lowest p99 measured was {lowest:.2f} ms" if lowest else "every run failed"
    return InvalidInputError(
        f"no configuration kept p99 within {bound_ms} ms ({seen}); raise --p99-ms "
        "or lower --concurrency. Nothing was written."
    )


def _options(cfg: TuneConfig, *, response_cache: bool) -> Any:
    from serving.server.repository import RepositoryOptions

    return RepositoryOptions(
        instances=cfg.instances,
        threads=cfg.threads,
        preferred_batch_sizes=cfg.preferred_batch_sizes,
        max_queue_delay_us=cfg.max_queue_delay_us,
        response_cache=response_cache,
    )
