"""The GPU check: CUDA tests, then the zoo bench on the GPU, in one bounded run.

On the device machine (Python 3.12, a CUDA torch, no network), from the repository root::

    python3 scripts/gpu_check.py --bundle .gpu-bundle --out "$OUT"

``--bundle`` first builds a venv from ``make gpu-bundle``'s folder (numpy<2 and tritonclient
from its cp312 wheels, the embedded Triton unpacked beside them, the host's torch and the
repository reached through a ``.pth`` file), then runs this script again inside it. Then:

1. ``pytest -m gpu tests/gpu``: the torch runner on CUDA against CPU, fp16 and channels_last
   within the gates' tolerance, ``torch.compile``, the matmul peak on CUDA, Triton's Python
   backend serving the torch runner on the GPU, CUDA shared memory through the SDK;
2. the bench (:mod:`serving.apps.bench.gpu`): the matmul peak of this run, then ``zoo bench``
   on dcgan-mnist and the large random-weight variants (StyleGAN2 256², CycleGAN 256²) on
   every target there is, and the goals of the GPU issue, each missed one with the figures
   that say what holds it back.

This script keeps what is particular to the device machine: the venv from the bundle, the
libraries the Triton stub links, the CUDA tests and the time budget. Everything goes into
``--out`` as at most eight files (what a device call brings back): ``gpu-check.json`` (each
workload a ``genzoo.bench/2`` report), ``gpu-check.md``, ``throughput.png``, ``pytest.log``,
``gpu-check.log`` and one ``tritonserver-<model>.log`` per workload. A time budget
(``--budget-s``) keeps the run inside one device call: what does not fit is recorded as
skipped, "out of time".

``--device cpu --quick`` runs the same stages small on a CPU (under a minute; the test suite
does, so this script cannot rot between GPU runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Where ``--bundle`` builds its venv.
DEFAULT_VENV = Path("/tmp/genzoo-gpu-venv")


class Run:
    """The state of one check: its output folder, its deadline and its log."""

    def __init__(self, out: Path, budget_s: float) -> None:
        self.out = out
        self.deadline = time.monotonic() + budget_s
        self.log_path = out / "gpu-check.log"

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.deadline - time.monotonic()

    def say(self, message: str) -> None:
        """One line to stdout and the log."""
        line = f"[{datetime.now(UTC):%H:%M:%S}] {message}"
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


def stub_environment() -> dict[str, Any]:
    """What the Triton stub links that this machine lacks (``libpython`` found and put on the
    library path first, where it is missing)."""
    out: dict[str, Any] = {}
    missing = stub_missing_libraries()
    if missing and any(m.startswith("libpython") for m in missing):
        out["libpython_found_at"] = add_libpython_path()
        missing = stub_missing_libraries()
    out["triton_stub_missing_libraries"] = missing
    return out


def check(args: argparse.Namespace) -> int:
    """Every stage; the report is written even when a stage fails."""
    import torch

    from serving.apps.bench.gpu import GpuCheck, check_environment, run_gpu_bench, write_check

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, args.budget_s)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        run.say(f"--device {device}, but torch {torch.__version__} sees no CUDA device")
        return 2
    result = GpuCheck(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        mode="quick" if args.quick else "full",
        device=device,
        environment={**check_environment(device), **stub_environment()},
    )
    env = result.environment
    run.say(f"device {device}: {env.get('cuda') or env['cpu']}")
    code = 0
    try:
        if not args.skip_tests:
            result.pytest = run_pytest(run, device)
            code = 0 if result.pytest["exit_code"] in (0, 5) else 1
        run_gpu_bench(result, quick=args.quick, out=out, deadline=run.deadline, say=run.say)
    except Exception:
        result.error = traceback.format_exc()
        run.say(result.error)
        code = 1
    finally:
        result.seconds_left = round(run.left(), 1)
        write_check(result, out, say=run.say)
    for g in result.goals:
        val = "–" if g.value is None else f"{g.value:.2f}"
        run.say(
            f"{'met' if g.met else 'NOT MET' if g.met is False else 'not measured'}: "
            f"{g.goal}: {val}"
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
