"""The GPU check's bench: ``zoo bench`` on a GPU's workloads, their goals, one report.

``scripts/gpu_check.py`` sets the device machine up from the GPU bundle, runs the CUDA tests,
then calls :func:`run_gpu_bench`, which measures:

- the matmul peak of this run (fp16 and fp32 ``torch.mm`` on CUDA, fp32 on a CPU);
- each :class:`Workload` with :func:`serving.apps.bench.run.run_bench`: dcgan-mnist with its
  trained weights, and the large random-weight variants StyleGAN2 256² and CycleGAN 256², on
  the targets of :data:`GPU_TARGETS` (torch eager fp32 and fp16, fp16 channels_last,
  ``torch.compile`` with CUDA graphs, Triton over gRPC with the torch runner on the GPU, and
  through CUDA shared memory), or :data:`CPU_TARGETS` in the quick CPU mode;
- the goals of the GPU issue (:func:`evaluate_gpu_goals`), each a ratio of this run's cells,
  and for a missed one what holds it back.

Each workload's result is a :class:`~serving.apps.bench.results.BenchReport`, the same
``genzoo.bench/2`` report ``zoo bench`` writes; :func:`write_check` writes them into
``gpu-check.json`` and ``gpu-check.md`` (the bench's Markdown, one section per workload, under
the device, the tests and the goals) and one ``throughput.png``: few files, as a device call
brings back at most eight.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from serving.apps.bench.environment import environment
from serving.apps.bench.flops import MatmulPeak, measure_matmul_peak
from serving.apps.bench.registry import is_in_process
from serving.apps.bench.report import goal_table, markdown, plot_best_throughput
from serving.apps.bench.results import BenchReport, Cell, Goal
from serving.apps.bench.settings import BenchSettings

#: Schema of ``gpu-check.json``.
SCHEMA = "genzoo.gpu-check/3"
#: What a workload is measured on, on a GPU: in-process variants, then Triton.
GPU_TARGETS = (
    "torch",
    "torch-fp16",
    "torch-fp16-cl",
    "compile-graphs",
    "triton-grpc",
    "triton-cuda-shm",
)
#: On a CPU: float32 only (CPU half convolutions are slow or missing), no compile (minutes).
CPU_TARGETS = ("torch", "torch-cl", "triton-grpc")
#: The targets that run in float16 (compared with the fp16 matmul peak).
FP16_TARGETS = frozenset({"torch-fp16", "torch-fp16-cl", "compile-graphs"})

Say = Callable[[str], None]  # one line of progress


@dataclass(frozen=True)
class Workload:
    """One model (or random-weight variant) and the cells it is measured in."""

    model: str  # zoo model
    overrides: dict[str, Any] = field(default_factory=dict)  # `zoo bench --set` of a variant
    batches: tuple[int, ...] = (64,)  # images per request
    concurrency: tuple[int, ...] = (1, 4)  # Triton requests in flight
    large: bool = False  # a compute-bound variant (its own goal)

    @property
    def label(self) -> str:
        """``model`` plus its overrides, as people write them."""
        sets = " ".join(f"{k}={v}" for k, v in self.overrides.items())
        return f"{self.model} ({sets})" if sets else self.model


def workloads(quick: bool) -> list[Workload]:
    """What the check measures (``quick``: dcgan-mnist, small, for the CPU mode)."""
    if quick:
        return [Workload("dcgan-mnist", batches=(8,), concurrency=(1, 2))]
    stylegan2 = {"resolution": 256, "width": 128, "max_channels": 512}
    cyclegan = {"resolution": 256, "width": 64}
    return [
        Workload("dcgan-mnist", batches=(64, 1024), concurrency=(1, 4)),
        Workload("stylegan2-mnist", stylegan2, batches=(32,), concurrency=(2, 4), large=True),
        Workload("cyclegan-digits", cyclegan, batches=(32,), concurrency=(2, 4), large=True),
    ]


@dataclass(frozen=True)
class WorkloadRun:
    """One workload's bench report, or why it has none."""

    workload: Workload
    report: BenchReport | None  # None: it failed before any cell (reason says why)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the workload, then its ``genzoo.bench/2`` report."""
        w = self.workload
        return {
            "label": w.label,
            "model": w.model,
            "overrides": dict(w.overrides),
            "large": w.large,
            "status": "ok" if self.report is not None else "error",
            "reason": self.reason,
            "report": None if self.report is None else self.report.to_dict(),
        }


@dataclass
class GpuCheck:
    """One GPU check: the script's stages (environment, CUDA tests) and the bench's results."""

    created: str  # ISO 8601, UTC
    mode: str  # "full" or "quick"
    device: str  # "cuda", "cuda:N" or "cpu"
    environment: dict[str, Any]  # check_environment() plus what the script adds
    pytest: dict[str, Any] | None = None  # the CUDA tests: command, exit code, summary line
    peaks: dict[str, MatmulPeak] = field(default_factory=dict)  # "fp16"/"fp32" → peak
    runs: list[WorkloadRun] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    error: str | None = None  # traceback of a stage that failed
    seconds_left: float | None = None  # of the time budget, at the end

    def to_dict(self) -> dict[str, Any]:
        """``gpu-check.json``."""
        return {
            "schema": SCHEMA,
            "created": self.created,
            "mode": self.mode,
            "environment": self.environment,
            "pytest": self.pytest,
            "peak": {k: p.to_dict() for k, p in self.peaks.items()},
            "bench": [r.to_dict() for r in self.runs],
            "goals": [g.to_dict() for g in self.goals],
            "error": self.error,
            "seconds_left": self.seconds_left,
        }


def check_environment(device: str) -> dict[str, Any]:
    """The bench's environment, the device, and on CUDA the device's properties and clocks."""
    import sys

    env = environment()
    env["device"] = device
    env["executable"] = sys.executable
    if device.startswith("cuda"):
        env["cuda"] = cuda_properties(device)
    return env


def cuda_properties(device: str) -> dict[str, Any]:
    """Name, compute capability, memory, multiprocessors and CUDA version of ``device``, and
    nvidia-smi's SM clocks (``None`` where it cannot be asked)."""
    import torch

    props = torch.cuda.get_device_properties(torch.device(device))
    out: dict[str, Any] = {
        "name": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "memory_gib": round(props.total_memory / 2**30, 1),
        "multiprocessors": props.multi_processor_count,
        "cuda": torch.version.cuda,
    }
    query = "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm"
    try:
        smi = subprocess.run(
            ["nvidia-smi", query, "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        out["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out["nvidia_smi"] = None
    return out


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------


def measure_peaks(device: str, quick: bool) -> dict[str, MatmulPeak]:
    """The matmul peaks of this run: fp16 and fp32 on CUDA, fp32 on a CPU."""
    if device.startswith("cuda"):
        return {
            "fp16": measure_matmul_peak(device=device, dtype="float16"),
            "fp32": measure_matmul_peak(device=device, dtype="float32"),
        }
    peak = measure_matmul_peak(size=1024 if quick else 2048, seconds=0.3 if quick else 1.0)
    return {"fp32": peak}


def workload_settings(w: Workload, device: str, quick: bool, work: Path) -> BenchSettings:
    """The ``zoo bench`` settings of ``w``: its targets on ``device``, Triton running the torch
    runner there (float16 NHWC on CUDA) with no batching delay to speak of."""
    return BenchSettings(
        model=w.model,
        targets=GPU_TARGETS if device.startswith("cuda") else CPU_TARGETS,
        batches=w.batches,
        concurrency=w.concurrency,
        duration=0.5 if quick else 2.0,
        warmup=0.2 if quick else 1.0,
        overrides=dict(w.overrides),
        threads=os.cpu_count() or 1,
        preferred_batch_sizes=(),
        max_queue_delay_us=0 if quick else 100,
        work_dir=work,
        device=device,
        triton_runner="torch",
    )


def bench_workload(
    w: Workload,
    device: str,
    *,
    quick: bool,
    peak: MatmulPeak,
    deadline: float,
    log_dir: Path,
    say: Say,
) -> WorkloadRun:
    """``w`` measured by ``run_bench`` against ``peak`` until ``deadline``; Triton's log goes to
    ``log_dir/tritonserver-<model>.log``. A workload that fails records why; the next runs."""
    from serving.apps.bench.run import run_bench

    work = Path(tempfile.mkdtemp(prefix=f"gpu-check-{w.model}-"))
    try:
        settings = workload_settings(w, device, quick, work)
        report = run_bench(
            settings,
            progress=lambda _done, _total, what: say(f"{w.label}: {what}"),
            peak=peak,
            deadline=deadline,
        )
    except Exception as e:  # one workload failing (a variant that cannot be built, say) must
        say(f"{w.label}: failed: {e!r}")  # not cost the others
        return WorkloadRun(w, None, f"{type(e).__name__}: {e}")
    finally:
        if (work / "tritonserver.log").is_file():
            shutil.copy(work / "tritonserver.log", log_dir / f"tritonserver-{w.model}.log")
        shutil.rmtree(work, ignore_errors=True)
    return WorkloadRun(w, replace(report, goals=()))  # the goals span workloads: the check's


def run_gpu_bench(check: GpuCheck, *, quick: bool, out: Path, deadline: float, say: Say) -> None:
    """Fill ``check``: the peaks, every workload's report, then the goals."""
    check.peaks = measure_peaks(check.device, quick)
    say("matmul peak: " + ", ".join(f"{k} {p.gflops:,.0f} GFLOP/s" for k, p in check.peaks.items()))
    peak = check.peaks.get("fp16") or check.peaks["fp32"]
    for w in workloads(quick):
        run = bench_workload(
            w, check.device, quick=quick, peak=peak, deadline=deadline, log_dir=out, say=say
        )
        check.runs.append(run)
    check.goals = evaluate_gpu_goals(check.runs, check.peaks)


# ---------------------------------------------------------------------------------------------
# Goals.
# ---------------------------------------------------------------------------------------------


def _best(cells: Sequence[Cell], *, served: bool) -> Cell | None:
    """The fastest measured cell in process (``served`` False) or through a server."""
    ok = [c for c in cells if c.ok and is_in_process(c.target) != served]
    return max(ok, key=lambda c: c.throughput, default=None)


def holds_back(served: Cell, local: Cell) -> str:
    """Where a Triton request's time goes, against one in-process call of the same batch."""
    local_ms = 1e3 * local.batch / local.throughput
    parts = [f"in-process {local.target}: {local_ms:.2f} ms per batch of {local.batch}"]
    srv = served.server
    if srv is not None and srv.compute_infer_ms is not None:
        parts.append(
            f"Triton per request: queue {srv.queue_ms or 0:.2f} ms, input "
            f"{srv.compute_input_ms or 0:.2f} ms, infer {srv.compute_infer_ms:.2f} ms, "
            f"output {srv.compute_output_ms or 0:.2f} ms, "
            f"{srv.avg_batch or 0:.1f} images per execution"
        )
    lat = served.measured.latency_ms
    if lat is not None and lat.mean is not None and srv is not None and srv.request_ms is not None:
        parts.append(
            f"the client waits {lat.mean:.2f} ms per request, {lat.mean - srv.request_ms:.2f} ms "
            "of it outside the server (gRPC, serialisation, the Python client)"
        )
    return "; ".join(parts)


def _goal(gid: str, what: str, threshold: float, ratios: list[float], details: list[str]) -> Goal:
    """The goal ``gid``: the smallest of ``ratios`` against ``threshold`` (none: not measured)."""
    value = min(ratios) if ratios else None
    return Goal(
        id=gid,
        goal=f"{what} ≥ {threshold}",
        threshold=threshold,
        value=value,
        met=None if value is None else value >= threshold,
        detail="; ".join(details) if ratios else "not measured",
    )


def _served_goal(runs: Sequence[WorkloadRun], *, large: bool) -> Goal:
    """Triton's best cell against the best in-process one, per workload; the worst counts."""
    if large:
        gid, what, threshold = "served_large", "compute-bound variants through Triton", 0.8
    else:
        gid, what, threshold = "served_dcgan", "dcgan-mnist through Triton", 0.25
    ratios: list[float] = []
    details: list[str] = []
    for run in runs:
        if run.report is None or run.workload.large != large:
            continue
        local = _best(run.report.results, served=False)
        served = _best(run.report.results, served=True)
        if local is None or served is None:
            continue
        ratios.append(served.throughput / local.throughput)
        details.append(
            f"{run.workload.label}: {served.target} {served.throughput:,.0f} img/s "
            f"(batch {served.batch}, concurrency {served.concurrency}) vs "
            f"{local.target} {local.throughput:,.0f} img/s"
            + ("" if ratios[-1] >= threshold else f" — {holds_back(served, local)}")
        )
    return _goal(gid, f"{what} vs the best in-process target", threshold, ratios, details)


def _fp16_peak_goal(runs: Sequence[WorkloadRun], peak16: MatmulPeak | None) -> Goal:
    """StyleGAN2 256²'s best float16 cell against the fp16 matmul peak of the run."""
    ratios: list[float] = []
    details: list[str] = []
    for run in runs:
        report = run.report
        if report is None or run.workload.model != "stylegan2-mnist" or not run.workload.large:
            continue
        fp16 = [c for c in report.ok_cells if c.target in FP16_TARGETS and c.gflops]
        top = max(fp16, key=lambda c: c.gflops or 0.0, default=None)
        if top is None or top.gflops is None or peak16 is None:
            continue
        ratios.append(top.gflops / peak16.gflops)
        details.append(
            f"{top.target} {top.gflops:,.0f} of {peak16.gflops:,.0f} GFLOP/s "
            f"({report.model.gflop_per_image or 0:.1f} GFLOP/image, {top.throughput:,.0f} img/s "
            f"at batch {top.batch})"
        )
    what = "StyleGAN2 256² in fp16 vs the fp16 matmul peak of this run"
    return _goal("fp16_peak", what, 0.30, ratios, details)


def evaluate_gpu_goals(runs: Sequence[WorkloadRun], peaks: Mapping[str, MatmulPeak]) -> list[Goal]:
    """The GPU issue's goals, each a ratio of cells measured in this run (met: None when not
    measured): served large variants ≥ 0.8× in-process, served dcgan-mnist ≥ 0.25×, StyleGAN2
    256² in fp16 ≥ 30 % of the fp16 matmul peak."""
    return [
        _served_goal(runs, large=True),
        _served_goal(runs, large=False),
        _fp16_peak_goal(runs, peaks.get("fp16")),
    ]


# ---------------------------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------------------------


def _section(text: str) -> list[str]:
    """A bench report's Markdown as a section: its title dropped (the workload's heading
    stands for it), its headings one level down."""
    title, *rest = text.splitlines()
    assert title.startswith("# "), "a bench report starts with its title"
    return ["#" + line if line.startswith("#") else line for line in rest[1:]]


def check_markdown(check: GpuCheck) -> str:
    """``gpu-check.md``: the device, the CUDA tests, the peaks, the goals, then each
    workload's bench report (:func:`serving.apps.bench.report.markdown`)."""
    env = check.environment
    cuda = env.get("cuda") or {}
    git = env.get("git") or {}
    versions = env["versions"]
    lines = [
        f"# GPU check — {cuda.get('name') or check.device}",
        "",
        f"- date: {check.created}; mode: {check.mode}; device: {check.device}",
        f"- machine: {env['cpu']}, {env['cores']} cores; Python {env['python']}; "
        f"torch {versions['torch']}; numpy {versions['numpy']}",
    ]
    if cuda:
        lines.append(
            f"- GPU: {cuda['name']} (compute {cuda['compute_capability']}, "
            f"{cuda['memory_gib']} GiB, CUDA {cuda['cuda']}); nvidia-smi: {cuda['nvidia_smi']}"
        )
    lines.append(f"- commit: {(git.get('commit') or 'unknown')[:12]}")
    if env.get("triton_stub_missing_libraries"):
        lines.append(f"- the Triton stub lacks {', '.join(env['triton_stub_missing_libraries'])}")
    t = check.pytest or {}
    lines += ["", "## CUDA tests", ""]
    lines.append(f"`{t.get('command')}`: {t.get('summary')} (exit {t.get('exit_code')})")
    lines += ["", "## Matmul peak", ""]
    lines += [
        f"- {k}: {p.gflops:,.0f} GFLOP/s ({p.to_dict()['method']})" for k, p in check.peaks.items()
    ]
    lines += ["", "## Goals", "", *goal_table(check.goals)]
    for run in check.runs:
        lines += ["", f"## {run.workload.label}", ""]
        if run.report is None:
            lines.append(f"failed: {run.reason}")
        else:
            lines += _section(markdown(run.report))
    if check.error:
        lines += ["", "## Error", "", "```", check.error.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def write_check(check: GpuCheck, out: Path, *, say: Say) -> None:
    """Write ``gpu-check.json``, ``gpu-check.md`` and ``throughput.png`` (a plot that fails is
    said, not raised: it is not worth losing the report for)."""
    (out / "gpu-check.json").write_text(json.dumps(check.to_dict(), indent=1, default=str) + "\n")
    (out / "gpu-check.md").write_text(check_markdown(check))
    reports = [r.report for r in check.runs if r.report is not None]
    where = (check.environment.get("cuda") or {}).get("name") or check.environment["cpu"]
    try:
        plot_best_throughput(reports, out / "throughput.png", f"genzoo GPU check on {where}")
    except Exception as e:
        say(f"plot failed: {e!r}")
