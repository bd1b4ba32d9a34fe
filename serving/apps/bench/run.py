"""``zoo bench``: the same model and inputs on every target, in one run.

:func:`run_bench` exports the model once into a temporary Triton repository, measures the
machine's matmul peak, then for each target × batch × concurrency drives the target with
the closed-loop load generator (:mod:`serving.apps.bench.load`) and records throughput, latency
percentiles, achieved GFLOP/s, the client's and the server's CPU, and Triton's own
statistics. It returns a JSON-ready report (:mod:`serving.apps.bench.report` writes it out).

In-process targets run with one caller and every core given to the graph (their
concurrency is 1); servers are measured at each requested concurrency.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.apps.bench import load as loadgen
from serving.apps.bench.environment import environment
from serving.apps.bench.flops import MatmulPeak, count_flops, measure_matmul_peak
from serving.apps.bench.peers import PerfAnalyzerError, PerfAnalyzerTarget
from serving.apps.bench.registry import BENCH_TARGETS, BenchTarget, Resources
from serving.apps.bench.results import (
    SCHEMA,
    BenchReport,
    Cell,
    Figures,
    Latency,
    ModelFigures,
    ServerFigures,
)
from serving.apps.bench.settings import BenchSettings, load_bench_module
from serving.apps.bench.stats import summarize
from serving.apps.bench.targets import (
    RequestMaker,
    Target,
    TargetUnavailableError,
    group_cpu_seconds,
    stats_delta,
    triton_version,
)
from zoo.errors import MissingDependencyError
from zoo.registry import get_spec

if TYPE_CHECKING:
    from torch import nn

Progress = Callable[[int, int, str], None]  # (cells done, cells in all, what runs now)
#: Seconds a cell may take beyond its warm-up and window (its untimed first call), for a deadline.
CELL_MARGIN_S = 10.0
#: Why a cell past a run's deadline was not measured.
OUT_OF_TIME = "out of time"


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------


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
    """(target, batch, concurrency) of every cell, in run order.

    In-process targets get concurrency 1 only: one caller with every core in the graph.
    """
    cells: list[tuple[str, int, int]] = []
    for name in settings.targets:
        for batch in settings.batches:
            levels = (1,) if BENCH_TARGETS[name].in_process else settings.concurrency
            cells.extend((name, batch, c) for c in levels)
    return cells


def measure_cell(
    target: Target,
    maker: RequestMaker,
    *,
    name: str,
    concurrency: int,
    settings: BenchSettings,
    client: str,
) -> Cell:
    """Drive ``target`` (bench target ``name``) with requests from ``maker``; no FLOP/s yet."""
    if isinstance(target, PerfAnalyzerTarget):
        return _measure_perf_analyzer(
            target, maker, name=name, concurrency=concurrency, settings=settings
        )
    where: dict[str, Any] = {"target": name, "batch": maker.batch, "concurrency": concurrency}
    try:  # untimed first call: compile, connect, allocate
        target.call(maker(settings.max_requests))
    except Exception as e:
        reason = f"first request failed: {type(e).__name__}: {e}"
        return Cell(**where, status="error", reason=reason)
    where["model_version"] = target.answered_version()  # recorded with the cell
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
    elapsed = marks["t_end"] - marks["t_start"]
    server_cpu = None
    if marks["cpu_start"] is not None and marks["cpu_end"] is not None and elapsed > 0:
        server_cpu = (marks["cpu_end"] - marks["cpu_start"]) / elapsed
    figures = Figures(
        client="in-process" if target.in_process else client,
        throughput=result.throughput,
        requests=result.requests,
        images=result.images,
        wall_s=result.wall_s,
        error_count=result.error_count,
        errors=tuple(result.errors),
        latency_ms=Latency.of(summarize(result.latencies_s)) if result.latencies_s else None,
        client_cpu_cores=None if target.in_process else result.client_cpu_cores,
        process_cpu_cores=result.client_cpu_cores,
        server_cpu_cores=server_cpu,
        server=_settled_stats(target, marks["stats_start"], marks["stats_end"], result.requests),
        latencies_ms=tuple(round(1e3 * x, 4) for x in result.latencies_s),
    )
    if result.requests == 0:
        reason = result.errors[0] if result.errors else "no request completed"
        return Cell(**where, status="error", reason=reason, figures=figures)
    return Cell(**where, status="ok", figures=figures)


def _settled_stats(
    target: Target, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, requests: int
) -> ServerFigures | None:
    """The window's server figures once Triton has counted the client's ``requests``.

    Triton counts a request when it releases it, which is after the response has reached the
    client, so a snapshot taken the moment the last response arrives can miss the last one or
    two. Read again for up to a second, until every request the client saw is counted.
    """
    figures = stats_delta(before, after)
    deadline = time.monotonic() + 1.0
    while figures is not None and figures.requests < requests and time.monotonic() < deadline:
        time.sleep(0.02)
        figures = stats_delta(before, target.server_stats())
    return figures


def _measure_perf_analyzer(
    target: PerfAnalyzerTarget,
    maker: RequestMaker,
    *,
    name: str,
    concurrency: int,
    settings: BenchSettings,
) -> Cell:
    """A ``triton-perf`` cell; server figures span all of perf_analyzer's trials."""
    where: dict[str, Any] = {"target": name, "batch": maker.batch, "concurrency": concurrency}
    pgid = target.server_pgid()
    stats0, cpu0, t0 = target.server_stats(), group_cpu_seconds(pgid), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-perf-") as tmp:
        try:
            figures = target.measure(
                maker, concurrency=concurrency, duration=settings.duration, work=Path(tmp)
            )
        except PerfAnalyzerError as e:
            return Cell(**where, status="error", reason=str(e))
    elapsed = time.perf_counter() - t0
    cpu1 = group_cpu_seconds(pgid)
    figures = replace(
        figures,
        server=stats_delta(stats0, target.server_stats()),
        server_cpu_cores=None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / elapsed,
    )
    return Cell(**where, status="ok", figures=figures)


def _needs_torch(settings: BenchSettings) -> bool:
    """Whether a run needs the model here: only Triton targets at ``--url`` do not.

    Without torch those are measured all the same, and the report says that FLOPs and the
    matmul peak were not (``genzoo[torch]`` counts them).
    """
    return any(BENCH_TARGETS[b].needs_model(settings.url) for b in settings.targets)


def _provide_repository(resources: Resources, say: Progress, total: int) -> None:
    """Point ``resources`` at the model repository: the given one, else one built in its work
    folder. Nothing is built when no target needs one (a Triton at ``--url`` only, torch)."""
    settings = resources.settings
    if settings.repository is not None:
        resources.repository = Path(settings.repository)
    elif any(BENCH_TARGETS[b].needs_repository(settings.url) for b in settings.targets):
        from serving.server.repository import build_repository

        exporting = "exporting to ONNX and " if settings.triton_runner == "onnxruntime" else ""
        say(1, total, f"{exporting}building the Triton repository")
        resources.repository = resources.work / "model_repository"
        module = resources.module
        build_repository(
            [settings.model],
            out_dir=resources.repository,
            options=settings.repository_options(),
            modules={settings.model: module} if module is not None else None,
            parity_n=4,
        )


def _seconds_left(deadline: float | None) -> float:
    """Seconds until ``deadline`` (``time.monotonic()``; None: no deadline, endless)."""
    return float("inf") if deadline is None else deadline - time.monotonic()


def _measure_target(
    resources: Resources,
    name: str,
    plan: list[tuple[int, int]],
    *,
    first: int,
    env: dict[str, Any],
    say: Progress,
    total: int,
    deadline: float | None = None,
) -> list[Cell]:
    """The cells of target ``name`` at each (batch, concurrency) of ``plan``: skipped, with the
    reason, when it cannot open here or ``deadline`` is too near. ``first``: cells the run
    measured before these."""
    kind = BENCH_TARGETS[name]
    settings = resources.settings
    cell_s = settings.warmup + settings.duration + CELL_MARGIN_S
    if _seconds_left(deadline) < kind.start_s + cell_s:
        return [Cell(name, b, c, "skipped", reason=OUT_OF_TIME) for b, c in plan]
    say(2 + first, total, f"{name}: starting")
    try:
        target = kind.open(resources)
    except (TargetUnavailableError, ImportError) as e:
        return [Cell(name, b, c, "skipped", reason=_unavailable(kind, e)) for b, c in plan]
    except Exception as e:  # a target that breaks while opening (a compile, CUDA out of memory)
        reason = f"could not open: {type(e).__name__}: {e}"  # costs its own cells, not the run's
        return [Cell(name, b, c, "error", reason=reason) for b, c in plan]
    cells: list[Cell] = []
    try:
        if kind.server == "triton":
            env["versions"]["tritonserver"] = triton_version(resources.triton_urls()[0])
        for index, (batch, conc) in enumerate(plan, start=first + 1):
            if _seconds_left(deadline) < cell_s:
                cells.append(Cell(name, batch, conc, "skipped", reason=OUT_OF_TIME))
                continue
            say(1 + index, total, f"{name}  batch {batch}  concurrency {conc}")
            maker = RequestMaker(resources.entry, batch, base=index * 10**10)
            cell = measure_cell(
                target,
                maker,
                name=name,
                concurrency=conc,
                settings=resources.settings,
                client=resources.settings.client,
            )
            cells.append(cell)
    finally:
        target.close()
    return cells


def _unavailable(kind: BenchTarget, error: Exception) -> str:
    """Why ``kind`` is skipped: the error, with the extra to install for an import that failed."""
    if isinstance(error, ImportError) and not isinstance(error, MissingDependencyError):
        return f"{error} (`pip install 'genzoo[{kind.extra}]'` installs what {kind.name} needs)"
    return str(error)


def _with_flops(cell: Cell, gflop: float | None, peak: MatmulPeak | None) -> Cell:
    """``cell`` with its achieved GFLOP/s and fraction of the peak, where both are known."""
    if not cell.ok or gflop is None or peak is None:
        return cell
    gflops = cell.throughput * gflop
    return replace(cell, gflops=gflops, peak_fraction=gflops / peak.gflops)


def settings_peak(settings: BenchSettings) -> MatmulPeak:
    """The matmul peak a run's cells are compared with: float16 on CUDA, float32 on a CPU."""
    return measure_matmul_peak(
        seconds=settings.peak_seconds,
        device=settings.device,
        dtype="float16" if settings.device.startswith("cuda") else "float32",
    )


def run_bench(
    settings: BenchSettings,
    *,
    progress: Progress | None = None,
    peak: MatmulPeak | None = None,
    deadline: float | None = None,
) -> BenchReport:
    """Measure every cell of ``settings``; return the report (:mod:`serving.apps.bench.report`).

    ``peak``: the matmul peak cells are compared with, when the caller measured it for several
    runs (default: measured here, on the settings' device: float16 on CUDA, float32 on a CPU).
    ``deadline`` (``time.monotonic()``): cells that would end after it are skipped, "out of time".
    """
    from serving.apps.bench.report import evaluate_goals

    say = progress or (lambda _done, _total, _what: None)
    spec = get_spec(settings.model, **settings.overrides)
    ep = spec.entry_point(settings.entry)
    cells = plan_cells(settings)
    total = len(cells) + 2
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    env = environment()
    module: nn.Module | None = None
    gflop: float | None = None
    if _needs_torch(settings) or importlib.util.find_spec("torch") is not None:
        say(0, total, f"loading {settings.model}")
        module, weights = load_bench_module(settings.model, settings.overrides)
        gflop = count_flops(module, ep) / 1e9
        if peak is None:
            say(0, total, "measuring the matmul peak")
            peak = settings_peak(settings)
    else:  # a client-only install measuring a Triton at --url: the report says what is missing
        weights = "the server's (Triton at --url; torch is not installed here)"
    model = ModelFigures(
        name=settings.model,
        entry=ep.name,
        weights=weights,
        overrides=dict(settings.overrides),
        gflop_per_image=gflop,
    )

    results: list[Cell] = []
    with _work_dir(settings.work_dir) as work:
        resources = Resources(settings, work, module)
        try:
            _provide_repository(resources, say, total)
            by_target: dict[str, list[tuple[int, int]]] = {}
            for name, batch, conc in cells:
                by_target.setdefault(name, []).append((batch, conc))
            for name, plan in by_target.items():
                measured = _measure_target(
                    resources,
                    name,
                    plan,
                    first=len(results),
                    env=env,
                    say=say,
                    total=total,
                    deadline=deadline,
                )
                results += [_with_flops(c, gflop, peak) for c in measured]
        finally:
            resources.stop()
    env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report = BenchReport(
        schema=SCHEMA,
        created=created,
        settings=settings.to_dict(),
        environment=env,
        model=model,
        peak=peak.to_dict() if peak is not None else None,
        results=tuple(results),
    )
    report = replace(report, goals=tuple(evaluate_goals(report)))
    say(total, total, "done")
    return report


#: Targets the main job (``zoo demo``) compares, with its labels.
DEMO_TARGETS = {
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
) -> BenchReport:
    """The short bench ``zoo demo`` runs against its own server (report as :func:`run_bench`).

    In-process ONNX Runtime (on ``repository``'s export, ``threads`` threads, as each Triton
    instance has) and the running Triton over HTTP and gRPC, ``batch`` images per request,
    one request in flight, about ``seconds`` each.
    """
    settings = BenchSettings(
        model=model,
        targets=tuple(DEMO_TARGETS),
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
