"""The machine a bench ran on: CPU, cores, GPUs, load, versions and git commit."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from serving.apps.bench.settings import cores


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
    root = Path(__file__).resolve().parents[3]
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
    and memory of each CUDA device (not the driver). ``None`` also where neither is installed.
    """
    try:
        out = subprocess.run(
            NVIDIA_SMI_QUERY, capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    found = parse_nvidia_smi(out)
    if found or importlib.util.find_spec("torch") is None:  # a client-only install has no torch
        return found or None
    import torch

    if not torch.cuda.is_available():
        return None
    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    return [{"name": p.name, "memory_mib": p.total_memory // 2**20, "driver": None} for p in props]


def environment() -> dict[str, Any]:
    """CPU, cores, GPUs, load, versions and git commit of this run.

    torch's version and threads are ``None`` where it is not installed (a client-only install
    benchmarking Triton targets).
    """
    import numpy

    torch = importlib.import_module("torch") if importlib.util.find_spec("torch") else None
    return {
        "cpu": _cpu_model(),
        "cores": cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": gpus(),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            "genzoo": _version("genzoo"),
            "torch": torch.__version__ if torch else None,
            "torch_threads": torch.get_num_threads() if torch else None,
            "numpy": numpy.__version__,
            "onnxruntime": _version("onnxruntime"),
            "tritonserver": None,  # filled in once a server answers
            "nvidia-pytriton": _version("nvidia-pytriton"),
            "tritonclient": _version("tritonclient"),
            "litserve": _version("litserve"),
        },
        "git": _git_commit(),
    }
