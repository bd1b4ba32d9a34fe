"""The GPU check: CUDA tests, then the zoo bench on the GPU, in one bounded run.

On the device machine (Python 3.12, a CUDA torch, no network), from the repository root::

    python3 scripts/gpu_check.py --bundle .gpu-bundle --out "$OUT"

``--bundle`` first builds a venv from ``make gpu-bundle``'s folder (numpy<2 and tritonclient
from its cp312 wheels, the embedded Triton unpacked beside them, the host's torch and the
repository reached through a ``.pth`` file), then runs this script again inside it. Then:

1. ``pytest -m gpu tests/gpu``: the torch runner on CUDA against CPU, fp16 and channels_last
   within the gates' tolerance, ``torch.compile``, Triton's Python backend serving the torch
   runner on the GPU, CUDA shared memory through the SDK where it exists;
2. the matmul peak (fp16 and fp32 ``torch.mm``) measured in this run;
3. the bench: dcgan-mnist with its trained weights, and large random-weight variants
   (StyleGAN2 256², CycleGAN 256²) on every backend there is: torch eager fp32 and fp16,
   fp16 channels_last, ``torch.compile`` with CUDA graphs, and Triton over gRPC (with CUDA
   shared memory where the SDK has it), driven by ``zoo bench``'s load generator;
4. the targets (Triton against the best in-process backend, fp16 against the matmul peak),
   each missed one with the figures that say what holds it back.

Everything goes into ``--out`` as at most eight files (what a device call brings back):
``gpu-check.json``, ``gpu-check.md``, ``throughput.png``, ``pytest.log``, ``gpu-check.log``
and one ``tritonserver-<model>.log`` per workload. A time budget (``--budget-s``) keeps the run
inside one device call: what does not fit is recorded as skipped, with the reason.

``--device cpu --quick`` runs the same stages small on a CPU (under a minute; the test suite
does, so this script cannot rot between GPU runs).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from serving.apps.bench.settings import BenchSettings
    from zoo.registry import EntryPoint

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Where ``--bundle`` builds its venv.
DEFAULT_VENV = Path("/tmp/genzoo-gpu-venv")
#: Schema of ``gpu-check.json``.
SCHEMA = "genzoo.gpu-check/1"
#: The targets of issue 18, as (id, what, threshold).
TARGETS = (
    ("served_large", "compute-bound variants through Triton vs the best in-process backend", 0.8),
    ("served_dcgan", "dcgan-mnist through Triton vs the best in-process backend", 0.25),
    ("fp16_peak", "StyleGAN2 256² in fp16 vs the fp16 matmul peak of this run", 0.30),
)


@dataclass(frozen=True)
class Workload:
    """One model (or random-weight variant) and the cells it is measured in."""

    model: str  # zoo model
    overrides: dict[str, Any] = field(default_factory=dict)  # `zoo bench --set` of a variant
    batches: tuple[int, ...] = (64,)  # images per request
    concurrency: tuple[int, ...] = (1, 4)  # Triton requests in flight
    large: bool = False  # a compute-bound variant (its own target)

    @property
    def label(self) -> str:
        """``model`` plus its overrides, as people write them."""
        sets = " ".join(f"{k}={v}" for k, v in self.overrides.items())
        return f"{self.model} ({sets})" if sets else self.model


#: In-process variants: (name, half, channels_last, compile mode or None, compiled).
GPU_VARIANTS = (
    ("torch-fp32", False, False, None, False),
    ("torch-fp16", True, False, None, False),
    ("torch-fp16-cl", True, True, None, False),
    ("compile-graphs", True, True, "reduce-overhead", True),
)
#: The in-process variants that run in float16.
FP16 = frozenset(name for name, half, *_ in GPU_VARIANTS if half)
#: On a CPU: float32 only (CPU half convolutions are slow or missing), no compile (minutes).
CPU_VARIANTS = (
    ("torch-fp32", False, False, None, False),
    ("torch-fp32-cl", False, True, None, False),
)


def workloads(device: str, quick: bool) -> list[Workload]:
    """What the run measures."""
    if quick:
        return [Workload("dcgan-mnist", batches=(8,), concurrency=(1, 2))]
    stylegan2 = {"resolution": 256, "width": 128, "max_channels": 512}
    cyclegan = {"resolution": 256, "width": 64}
    return [
        Workload("dcgan-mnist", batches=(64, 1024), concurrency=(1, 4)),
        Workload("stylegan2-mnist", stylegan2, batches=(32,), concurrency=(2, 4), large=True),
        Workload("cyclegan-digits", cyclegan, batches=(32,), concurrency=(2, 4), large=True),
    ]


class Run:
    """The state of one check: its output folder, its deadline, its log and its results."""

    def __init__(self, out: Path, budget_s: float) -> None:
        self.out = out
        self.deadline = time.monotonic() + budget_s
        self.log_path = out / "gpu-check.log"
        self.result: dict[str, Any] = {
            "schema": SCHEMA,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.deadline - time.monotonic()

    def say(self, message: str) -> None:
        """One line to stdout and the log."""
        line = f"[{datetime.now(timezone.utc):%H:%M:%S}] {message}"
        print(line, flush=True)
        with open(self.log_path, "a") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------------------------------------
# The venv on the device, from the bundle.
# ---------------------------------------------------------------------------------------------


def setup_from_bundle(bundle: Path, venv: Path) -> Path:
    """A venv with the bundle's wheels and Triton, reaching this interpreter's packages.

    The venv's own site-packages come first (numpy<2 for the Triton stub, tritonclient), then,
    through ``genzoo-gpu.pth``, the host's (torch) and the repository. Returns its python.
    """
    import site

    if not (bundle / "bundle.json").is_file():
        sys.exit(f"{bundle} is not a GPU bundle: build it with `make gpu-bundle`.")
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    want = json.loads((bundle / "bundle.json").read_text())["python"]
    if ver != want:
        sys.exit(f"the bundle is for Python {want}; this is Python {ver}.")
    host_sites = [p for p in site.getsitepackages() if Path(p).is_dir()]
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], check=True
    )
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = Path(purelib)
    wheels = sorted(str(p) for p in (bundle / "wheels").glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-compile",
            "--disable-pip-version-check",
            "--target",
            str(target),
            *wheels,
        ],
        check=True,
    )
    with tarfile.open(bundle / "triton.tar.xz") as tar:
        tar.extractall(target, filter="tar")
    # addsitedir, not a bare path: the host's own .pth files (namespace packages) apply too.
    lines = [f"import site; site.addsitedir({d!r})" for d in host_sites] + [str(ROOT)]
    (target / "genzoo-gpu.pth").write_text("\n".join(lines) + "\n")
    return py


# ---------------------------------------------------------------------------------------------
# Stages.
# ---------------------------------------------------------------------------------------------


def environment(device: str) -> dict[str, Any]:
    """The machine, the GPU and the versions of this run."""
    import numpy
    import torch

    from serving.apps.bench.environment import environment as bench_environment

    env = bench_environment()
    env["device"] = device
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = {
            "name": props.name,
            "compute_capability": f"{props.major}.{props.minor}",
            "memory_gib": round(props.total_memory / 2**30, 1),
            "multiprocessors": props.multi_processor_count,
            "cuda": torch.version.cuda,
        }
        try:
            smi = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=20,
            )
            env["gpu"]["nvidia_smi"] = smi.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            env["gpu"]["nvidia_smi"] = None
    env["versions"]["numpy"] = numpy.__version__
    env["executable"] = sys.executable
    missing = stub_missing_libraries()
    if missing and any(m.startswith("libpython") for m in missing):
        env["libpython_found_at"] = add_libpython_path()
        missing = stub_missing_libraries()
    env["triton_stub_missing_libraries"] = missing
    return env


def add_libpython_path() -> str | None:
    """Put a folder holding this Python's ``libpython3.X.so.1.0`` on ``LD_LIBRARY_PATH`` (the
    stub links it; not every image keeps it in the interpreter's ``LIBDIR``)."""
    name = f"libpython{sys.version_info[0]}.{sys.version_info[1]}.so.1.0"
    for root in ("/usr/lib", "/usr/local/lib", "/opt", sys.base_prefix):
        for found in Path(root).rglob(name) if Path(root).is_dir() else ():
            folder = str(found.parent)
            os.environ["LD_LIBRARY_PATH"] = ":".join(
                p for p in (folder, os.environ.get("LD_LIBRARY_PATH", "")) if p
            )
            return folder
    return None


def stub_missing_libraries() -> list[str] | None:
    """Libraries the Python-backend stub for this Python cannot find (``ldd``), or ``None``
    when that cannot be checked. The stub links the interpreter's own ``libpython3.X.so``."""
    from serving.server.triton import server_env, wheel_dir

    try:
        ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
        stub = wheel_dir() / "python_backend_stubs" / ver / "triton_python_backend_stub"
        out = subprocess.run(
            ["ldd", str(stub)], env=server_env(), capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, ImportError, subprocess.TimeoutExpired):
        return None
    return [line.split()[0] for line in out.splitlines() if "not found" in line]


def run_pytest(run: Run, device: str) -> dict[str, Any]:
    """``pytest -m gpu tests/gpu`` in a subprocess; its summary line and exit code.

    With ``--device cpu`` the GPU is hidden from it (the CUDA tests skip) even where there is one.
    """
    log = run.out / "pytest.log"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-m",
        "gpu",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=-ra --strict-markers",
        str(ROOT / "tests" / "gpu"),
    ]
    timeout = max(30.0, min(240.0, run.left() - 60))
    env = dict(os.environ)
    if not device.startswith("cuda"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    run.say(f"pytest -m gpu tests/gpu (up to {timeout:.0f} s)")
    try:
        with open(log, "w") as f:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=f,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        code = None
    lines = log.read_text(errors="replace").strip().splitlines()
    summary = lines[-1] if lines else "(no output)"
    run.say(f"pytest: {summary} (exit {code})")
    return {"command": " ".join(cmd[1:]), "exit_code": code, "summary": summary}


def matmul_peak(device: str, quick: bool) -> dict[str, Any]:
    """The fp16 and fp32 ``torch.mm`` rate of this device (CUDA events; best of the reps)."""
    import torch

    from serving.apps.bench.flops import measure_matmul_peak

    if not device.startswith("cuda"):
        cpu = measure_matmul_peak(size=1024 if quick else 2048, seconds=0.3 if quick else 1.0)
        return {"fp32": cpu.to_dict()}
    out: dict[str, Any] = {}
    n = 8192
    for name, dtype in (("fp16", torch.float16), ("fp32", torch.float32)):
        gen = torch.Generator(device=device).manual_seed(0)
        a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        c = torch.empty(n, n, device=device, dtype=dtype)
        for _ in range(3):
            torch.mm(a, b, out=c)
        rates = []
        for _ in range(10):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.mm(a, b, out=c)
            end.record()
            end.synchronize()
            rates.append(2 * n**3 / (start.elapsed_time(end) / 1e3) / 1e9)
        out[name] = {
            "gflops": max(rates),
            "median_gflops": sorted(rates)[len(rates) // 2],
            "method": f"torch.mm {name} {n}x{n}x{n}, random data, CUDA events, best of 10",
            "tf32": bool(torch.backends.cuda.matmul.allow_tf32) if name == "fp32" else None,
        }
        del a, b, c
    torch.cuda.empty_cache()
    return out


def _cell(target: Any, maker: Any, conc: int, settings: Any) -> dict[str, Any]:
    from serving.apps.bench.run import measure_cell

    cell = measure_cell(
        target, maker, backend="", concurrency=conc, settings=settings, client="threads"
    ).to_dict()  # the caller names the backend
    cell.pop("latencies_ms", None)  # summarized in latency_ms; the raw list is too long here
    return cell


def _shared_memory_kinds() -> list[str]:
    """The ``shared_memory`` kinds the SDK's client takes (none before the client branch)."""
    from serving.client import ZooClient

    params = inspect.signature(ZooClient).parameters
    return ["cuda"] if "shared_memory" in params else []


def bench_workload(run: Run, w: Workload, device: str, quick: bool) -> dict[str, Any]:
    """Every in-process variant and Triton over gRPC for one workload."""
    from serving.apps.bench.flops import count_flops
    from serving.apps.bench.settings import BenchSettings, load_bench_module
    from zoo.errors import ZooError
    from zoo.registry import get_spec

    out: dict[str, Any] = {
        "label": w.label,
        "model": w.model,
        "overrides": w.overrides,
        "large": w.large,
        "cells": [],
    }
    try:
        module, weights = load_bench_module(w.model, w.overrides)
    except (ZooError, ValueError, TypeError) as e:
        out["status"] = "blocked"
        out["reason"] = f"{type(e).__name__}: {e}"
        run.say(f"{w.label}: blocked: {e}")
        return out
    ep = get_spec(w.model).entry_point()
    out["weights"] = weights
    out["gflop_per_image"] = count_flops(module, ep) / 1e9
    settings = BenchSettings(
        model=w.model,
        backends=("torch",),
        batches=w.batches,
        concurrency=w.concurrency,
        duration=0.5 if quick else 2.0,
        warmup=0.2 if quick else 1.0,
        threads=os.cpu_count() or 1,
    )
    seeds = iter(range(1, 10**6))
    bench = _Bench(run, w, device, module, ep, settings, seeds)
    out["cells"] += _in_process_cells(bench)
    if run.left() < 60:
        out["cells"].append(
            {"backend": "triton-grpc", "status": "skipped", "reason": "out of time"}
        )
        return out
    triton_half = device.startswith("cuda")
    out["triton_runner"] = f"torch on {device}" + (", fp16 channels_last" if triton_half else "")
    out["cells"] += _triton_cells(bench, quick)
    for c in out["cells"]:
        if c.get("status") == "ok":
            c["gflops"] = c["throughput"] * out["gflop_per_image"]
    out["status"] = "ok"
    return out


@dataclass
class _Bench:
    """One workload being measured: its model, entry point, settings and the seeds left."""

    run: Run
    w: Workload
    device: str
    module: nn.Module  # the module measured
    ep: EntryPoint
    settings: BenchSettings
    seeds: Iterator[int]  # request seed bases, each used once


def _in_process_cells(b: _Bench) -> list[dict[str, Any]]:
    """Each torch variant (fp16, channels_last, torch.compile ...) in process, concurrency 1."""
    import torch

    from serving.apps.bench.targets import InProcessTarget, RequestMaker
    from zoo.runners import TorchRunner

    cells: list[dict[str, Any]] = []
    w, run, device = b.w, b.run, b.device
    variants = GPU_VARIANTS if device.startswith("cuda") else CPU_VARIANTS
    for name, half, cl, mode, compiled in variants:
        if run.left() < (90 if compiled else 30):
            cells.append({"backend": name, "status": "skipped", "reason": "out of time"})
            continue
        run.say(f"{w.label}: {name}")
        try:
            runner = TorchRunner(
                w.model,
                copy.deepcopy(b.module),
                b.ep.name,
                device=device,
                half=half,
                channels_last=cl,
                compile=compiled,
                compile_mode=mode,
            )
            target = InProcessTarget(name, runner)
            for batch in w.batches:
                maker = RequestMaker(b.ep, batch, base=next(b.seeds) * 10**10)
                cell = _cell(target, maker, 1, b.settings)
                cell.update(backend=name, batch=batch, concurrency=1)
                cells.append(cell)
            del runner, target
            if compiled:
                torch._dynamo.reset()  # let go of the compiled graphs and their CUDA graph pools
        except Exception as e:  # one variant failing must not cost the others
            cells.append({"backend": name, "status": "error", "reason": repr(e)})
            run.say(f"{w.label}: {name} failed: {e!r}")
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return cells


def _triton_cells(b: _Bench, quick: bool) -> list[dict[str, Any]]:
    """Triton over gRPC (and CUDA shared memory on a GPU), a torch runner serving the module."""
    from serving.apps.bench.registry import triton_names
    from serving.server.repository import RepositoryOptions, build_repository
    from serving.server.triton import ServerConfig, TritonServer
    from zoo.registry import triton_model_name

    cells: list[dict[str, Any]] = []
    w, run, device = b.w, b.run, b.device
    work = Path(tempfile.mkdtemp(prefix=f"gpu-check-{w.model}-"))
    options = RepositoryOptions(
        backend="torch",
        device=device,
        half=device.startswith("cuda"),
        max_batch_size=max(64, *w.batches),
        preferred_batch_sizes=(),
        max_queue_delay_us=0 if quick else 100,
        response_cache=False,
    )
    server = None
    try:
        run.say(f"{w.label}: building the Triton repository (torch runner on {device})")
        build_repository([w.model], out_dir=work, options=options, modules={w.model: b.module})
        config = ServerConfig.on_free_ports(
            work,
            cache_size=0,
            load_models=tuple(triton_names(w.model)),
            exit_timeout_secs=3,  # the bench's clients are closed by then: no need to drain
        )
        server = TritonServer(config, log_file=run.out / f"tritonserver-{w.model}.log")
        server.start(timeout=min(180.0, max(30.0, run.left() - 30)))
        name = triton_model_name(w.model, b.ep.name)
        kinds = [None, *_shared_memory_kinds()] if device.startswith("cuda") else [None]
        for kind in kinds:
            _served_cells(b, server, name, kind, cells)
    except Exception as e:
        cells.append({"backend": "triton-grpc", "status": "error", "reason": repr(e)})
        run.say(f"{w.label}: Triton failed: {e!r}")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return cells


def _served_cells(
    b: _Bench, server: Any, name: str, kind: str | None, cells: list[dict[str, Any]]
) -> None:
    """Add to ``cells`` every batch × concurrency against the served ``name`` (``kind``: the
    shared memory its client sends through), each as it is measured."""
    from serving.apps.bench.targets import RequestMaker, TritonTarget

    label = "triton-grpc" + (f"-{kind}shm" if kind else "")
    served = TritonTarget(
        label,
        "grpc",
        server.grpc_url,
        name,
        stats_url=server.http_url,
        server=server,
        shared_memory=kind,
    )
    for batch in b.w.batches:
        for conc in b.w.concurrency:
            if b.run.left() < 20:
                cells.append(
                    {"backend": label, "batch": batch, "status": "skipped", "reason": "out of time"}
                )
                continue
            b.run.say(f"{b.w.label}: {label} batch {batch} concurrency {conc}")
            maker = RequestMaker(b.ep, batch, base=next(b.seeds) * 10**10)
            cell = _cell(served, maker, conc, b.settings)
            cell.update(backend=label, batch=batch, concurrency=conc)
            cells.append(cell)
    served.close()


# ---------------------------------------------------------------------------------------------
# Targets and the report.
# ---------------------------------------------------------------------------------------------


def _best(cells: list[dict[str, Any]], served: bool) -> dict[str, Any] | None:
    ok = [c for c in cells if c.get("status") == "ok"]
    ok = [c for c in ok if c["backend"].startswith("triton") == served]
    return max(ok, key=lambda c: c["throughput"], default=None)


def holds_back(served: dict[str, Any], local: dict[str, Any]) -> str:
    """Where a Triton request's time goes, against one in-process call of the same batch."""
    srv = served.get("server") or {}
    lat = (served.get("latency_ms") or {}).get("mean")
    local_ms = 1e3 * local["batch"] / local["throughput"]
    parts = [f"in-process {local['backend']}: {local_ms:.2f} ms per batch of {local['batch']}"]
    if srv.get("compute_infer_ms") is not None:
        parts.append(
            f"Triton per request: queue {srv.get('queue_ms') or 0:.2f} ms, input "
            f"{srv.get('compute_input_ms') or 0:.2f} ms, infer {srv['compute_infer_ms']:.2f} ms, "
            f"output {srv.get('compute_output_ms') or 0:.2f} ms, "
            f"{srv.get('avg_batch') or 0:.1f} images per execution"
        )
    if lat is not None and srv.get("request_ms") is not None:
        parts.append(
            f"the client waits {lat:.2f} ms per request, {lat - srv['request_ms']:.2f} ms of it "
            "outside the server (gRPC, serialisation, the Python client)"
        )
    return "; ".join(parts)


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: the ratio measured in this run, met or not, and what holds it back."""
    peak16 = (result.get("peak") or {}).get("fp16", {}).get("gflops")
    goals = []
    for tid, what, threshold in TARGETS:
        value, detail = None, "not measured"
        rows = [w for w in result.get("bench", []) if w.get("status") == "ok"]
        if tid == "served_dcgan":
            rows = [w for w in rows if w["model"] == "dcgan-mnist" and not w["large"]]
        elif tid == "served_large":
            rows = [w for w in rows if w["large"]]
        else:
            rows = [w for w in rows if w["model"] == "stylegan2-mnist" and w["large"]]
        ratios, details = [], []
        for w in rows:
            local = _best(w["cells"], served=False)
            if tid == "fp16_peak":
                fp16 = [c for c in w["cells"] if c.get("status") == "ok" and c["backend"] in FP16]
                top = max(fp16, key=lambda c: c.get("gflops", 0), default=None)
                if top and peak16:
                    ratios.append(top["gflops"] / peak16)
                    details.append(
                        f"{top['backend']} {top['gflops']:,.0f} of {peak16:,.0f} GFLOP/s "
                        f"({w['gflop_per_image']:.1f} GFLOP/image, {top['throughput']:,.0f} img/s "
                        f"at batch {top['batch']})"
                    )
                continue
            served = _best(w["cells"], served=True)
            if local and served:
                ratios.append(served["throughput"] / local["throughput"])
                details.append(
                    f"{w['label']}: {served['backend']} {served['throughput']:,.0f} img/s "
                    f"(batch {served['batch']}, concurrency {served['concurrency']}) vs "
                    f"{local['backend']} {local['throughput']:,.0f} img/s"
                    + ("" if ratios[-1] >= threshold else f" — {holds_back(served, local)}")
                )
        if ratios:
            value = min(ratios)
            detail = "; ".join(details)
        goals.append(
            {
                "id": tid,
                "goal": f"{what} ≥ {threshold}",
                "threshold": threshold,
                "value": value,
                "met": None if value is None else value >= threshold,
                "detail": detail,
            }
        )
    return goals


def markdown(result: dict[str, Any]) -> str:
    """``gpu-check.md``: the device, the tests, the targets and every cell."""
    env = result["environment"]
    gpu = env.get("gpu") or {}
    device = gpu.get("name") if isinstance(gpu, dict) else None
    lines = [
        f"# GPU check — {device or env['device']}",
        "",
        f"- date: {result['created']}; mode: {result['mode']}; device: {env['device']}",
        f"- machine: {env['cpu']}, {env['cores']} cores; Python {env['python']}; "
        f"torch {env['versions']['torch']}; numpy {env['versions']['numpy']}",
    ]
    if isinstance(gpu, dict) and gpu:
        lines.append(
            f"- GPU: {gpu.get('name')} (compute {gpu.get('compute_capability')}, "
            f"{gpu.get('memory_gib')} GiB, CUDA {gpu.get('cuda')}); nvidia-smi: "
            f"{gpu.get('nvidia_smi')}"
        )
    git = env.get("git") or {}
    lines.append(f"- commit: {(git.get('commit') or 'unknown')[:12]}")
    if env.get("triton_stub_missing_libraries"):
        lines.append(f"- the Triton stub lacks {', '.join(env['triton_stub_missing_libraries'])}")
    t = result.get("pytest") or {}
    lines += [
        "",
        "## CUDA tests",
        "",
        f"`{t.get('command')}`: {t.get('summary')} (exit {t.get('exit_code')})",
    ]
    lines += ["", "## Matmul peak", ""]
    for k, v in (result.get("peak") or {}).items():
        lines.append(f"- {k}: {v['gflops']:,.0f} GFLOP/s ({v['method']})")
    lines += ["", "## Targets", "", "| target | measured | result | detail |", "|---|---|---|---|"]
    for g in result.get("targets", []):
        mark = {True: "**met**", False: "**not met**", None: "not measured"}[g["met"]]
        val = "–" if g["value"] is None else f"{g['value']:.2f}"
        lines.append(f"| {g['goal']} | {val} | {mark} | {g['detail']} |")
    for w in result.get("bench", []):
        lines += ["", f"## {w['label']}", ""]
        if w.get("status") != "ok":
            lines.append(f"{w.get('status')}: {w.get('reason')}")
            continue
        lines.append(
            f"{w['weights']}; {w['gflop_per_image']:.3f} GFLOP/image; Triton runs the "
            f"{w.get('triton_runner')}"
        )
        lines += [
            "",
            "| backend | batch | conc. | img/s | p50 ms | p99 ms | TFLOP/s |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in w["cells"]:
            if c.get("status") != "ok":
                lines.append(
                    f"| {c['backend']} | {c.get('batch', '–')} | – | {c.get('status')}: "
                    f"{c.get('reason')} | | | |"
                )
                continue
            lat = c.get("latency_ms") or {}
            lines.append(
                f"| {c['backend']} | {c['batch']} | {c['concurrency']} | {c['throughput']:,.0f} | "
                f"{lat.get('p50', 0):.2f} | {lat.get('p99', 0):.2f} | {c['gflops'] / 1e3:.2f} |"
            )
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """``throughput.png``: the best img/s of each backend, one panel per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [w for w in result.get("bench", []) if w.get("status") == "ok"]
    fig, axes = plt.subplots(1, max(1, len(rows)), figsize=(5 * max(1, len(rows)), 3.6))
    axes = axes if hasattr(axes, "__len__") else [axes]
    for ax, w in zip(axes, rows, strict=False):
        best: dict[str, float] = {}
        for c in w["cells"]:
            if c.get("status") == "ok":
                best[c["backend"]] = max(best.get(c["backend"], 0.0), c["throughput"])
        names = list(best)
        ax.barh(
            names,
            [best[n] for n in names],
            color=["tab:orange" if n.startswith("triton") else "tab:blue" for n in names],
        )
        ax.set_title(w["label"], fontsize=9)
        ax.set_xlabel("images/s (best cell)")
    env = result["environment"]
    gpu = env.get("gpu")
    fig.suptitle(f"genzoo GPU check on {gpu['name'] if isinstance(gpu, dict) else env['cpu']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def check(args: argparse.Namespace) -> int:
    """Every stage; the report is written even when a stage fails."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, args.budget_s)
    device = args.device
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        run.say(f"--device {device}, but torch {torch.__version__} sees no CUDA device")
        return 2
    run.result["mode"] = "quick" if args.quick else "full"
    run.result["environment"] = environment(device)
    env = run.result["environment"]
    run.say(f"device {device}: {env.get('gpu') or env['cpu']}")
    code = 0
    try:
        if not args.skip_tests:
            run.result["pytest"] = run_pytest(run, device)
            code = 0 if run.result["pytest"]["exit_code"] in (0, 5) else 1
        run.result["peak"] = matmul_peak(device, args.quick)
        run.say(
            "matmul peak: "
            + ", ".join(f"{k} {v['gflops']:,.0f} GFLOP/s" for k, v in run.result["peak"].items())
        )
        run.result["bench"] = []
        for w in workloads(device, args.quick):
            run.result["bench"].append(bench_workload(run, w, device, args.quick))
        run.result["targets"] = evaluate_targets(run.result)
    except Exception:
        run.result["error"] = traceback.format_exc()
        run.say(run.result["error"])
        code = 1
    finally:
        run.result["seconds_left"] = round(run.left(), 1)
        (out / "gpu-check.json").write_text(json.dumps(run.result, indent=2, default=str) + "\n")
        (out / "gpu-check.md").write_text(markdown(run.result))
        try:
            plot(run.result, out / "throughput.png")
        except Exception as e:  # a plot is not worth losing the report for
            run.say(f"plot failed: {e!r}")
    for g in run.result.get("targets", []):
        val = "–" if g["value"] is None else f"{g['value']:.2f}"
        run.say(
            f"{'met' if g['met'] else 'NOT MET' if g['met'] is False else 'not measured'}: "
            f"{g['goal']}: {val}"
        )
    run.say(f"report: {out / 'gpu-check.md'}")
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments; with ``--bundle``, set up the venv and run again inside it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--quick", action="store_true", help="small and fast (CPU, tests)")
    parser.add_argument("--out", type=Path, default=Path("out/gpu-check"), help="output folder")
    parser.add_argument("--bundle", type=Path, help="`make gpu-bundle`'s folder: set up first")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="venv --bundle builds")
    parser.add_argument("--budget-s", type=float, default=450.0, help="time budget, seconds")
    parser.add_argument("--skip-tests", action="store_true", help="bench only, no pytest")
    args = parser.parse_args(argv)
    # The device machine has no network: the trained weights resolve to the bundled copy (after
    # its sha256 check) without trying the Hub first. Set before huggingface_hub is imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.bundle is not None:
        t0 = time.monotonic()
        py = setup_from_bundle(args.bundle.resolve(), args.venv)
        budget = args.budget_s - (time.monotonic() - t0)
        rest = ["--device", args.device, "--out", str(args.out), "--budget-s", f"{budget:.0f}"]
        rest += ["--quick"] * args.quick + ["--skip-tests"] * args.skip_tests
        print(f"venv ready in {time.monotonic() - t0:.0f} s: {py}", flush=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1"}
        return subprocess.run([str(py), __file__, *rest], env=env, check=False).returncode
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
