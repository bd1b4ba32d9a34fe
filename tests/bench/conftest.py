"""Bench fixtures: a synthetic report (for the report writer and the goals) built from fixed
figures, so those tests need no server and assert no timing."""

from __future__ import annotations

from typing import Any

import pytest


def _cell(target: str, batch: int, conc: int, thr: float, p50: float, p99: float) -> dict[str, Any]:
    lat = {"count": 10, "mean": p50, "p50": p50, "p90": p99, "p99": p99, "max": p99 + 1}
    cell: dict[str, Any] = {
        "target": target,
        "batch": batch,
        "concurrency": conc,
        "status": "ok",
        "client": "in-process" if target == "onnxruntime" else "threads",
        "throughput": thr,
        "requests": 10,
        "images": 10 * batch,
        "wall_s": 1.0,
        "error_count": 0,
        "errors": [],
        "client_cpu_cores": None if target == "onnxruntime" else 0.2,
        "process_cpu_cores": 0.3,
        "server_cpu_cores": None if target == "onnxruntime" else 1.5,
        "latency_ms": lat,
        "gflops": thr * 0.01,
        "peak_fraction": thr * 0.01 / 100.0,
        "server": None,
        "latencies_ms": [p50] * 9 + [p99],
    }
    if target.startswith("triton"):
        cell["server"] = {
            "requests": 10,
            "request_ms": p50 - 0.2,
            "queue_ms": 0.1,
            "compute_input_ms": 0.01,
            "compute_infer_ms": p50 - 0.4,
            "compute_output_ms": 0.05,
            "executions": 5,
            "avg_batch": 2.0 * batch,
        }
    return cell


@pytest.fixture
def fake_report() -> dict[str, Any]:
    """A report in its JSON form (``BenchReport.to_dict``), with made-up figures chosen to hit
    every goal branch; tests mutate it, then read it with ``BenchReport.from_dict``."""
    results = [
        _cell("onnxruntime", 1, 1, 2000.0, 0.5, 1.0),
        _cell("onnxruntime", 64, 1, 4000.0, 16.0, 20.0),
        _cell("triton-grpc", 1, 1, 600.0, 1.2, 2.0),
        _cell("triton-grpc", 1, 16, 3000.0, 5.0, 9.0),
        _cell("triton-grpc", 64, 1, 3900.0, 16.5, 22.0),
        _cell("triton-grpc", 64, 16, 3700.0, 250.0, 300.0),
        _cell("triton-http", 1, 1, 550.0, 1.7, 2.5),
        _cell("triton-http", 1, 16, 2500.0, 6.0, 12.0),
        _cell("litserve", 1, 16, 1000.0, 15.0, 30.0),
        {
            "target": "tensorrt",
            "batch": 1,
            "concurrency": 1,
            "status": "skipped",
            "reason": "TensorRT needs a CUDA GPU; this machine has none",
        },
    ]
    return {
        "schema": "genzoo.bench/2",
        "created": "2026-01-01T00:00:00+00:00",
        "command": "zoo bench dcgan-mnist",
        "settings": {
            "model": "dcgan-mnist",
            "entry": "generate",
            "targets": ["onnxruntime", "tensorrt", "triton-http", "triton-grpc", "litserve"],
            "batches": [1, 64],
            "concurrency": [1, 16],
            "duration_s": 1.0,
            "warmup_s": 0.5,
            "client": "threads",
            "threads": 2,
            "instances": 1,
            "preferred_batch_sizes": [16, 64],
            "max_queue_delay_us": 0,
            "litserve": {"max_batch_size": 64, "batch_timeout_s": 0.001, "threads": 2},
        },
        "environment": {
            "cpu": "Test CPU",
            "cores": 2,
            "python": "3.11",
            "gpu": None,
            "loadavg_start": [0.1, 0.2, 0.3],
            "loadavg_end": [0.4, 0.5, 0.6],
            "versions": {"torch": "2", "onnxruntime": "1", "tritonserver": "2.51.0"},
            "git": {"commit": "0123456789abcdef", "dirty": False},
        },
        "model": {
            "name": "dcgan-mnist",
            "entry": "generate",
            "weights": "random",
            "overrides": {},
            "gflop_per_image": 0.01,
        },
        "peak": {"gflops": 100.0, "median_gflops": 95.0, "method": "torch.mm"},
        "notes": ["a note"],
        "results": results,
    }
