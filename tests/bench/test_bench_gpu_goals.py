"""The GPU check's goals (serving.apps.bench.gpu): ratios of the best cells of one run, and for a
missed one where the served request's time goes. Cells are written by hand: no GPU here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from serving.apps.bench.flops import MatmulPeak
from serving.apps.bench.gpu import (
    GpuCheck,
    Workload,
    WorkloadRun,
    check_markdown,
    evaluate_gpu_goals,
    workloads,
)
from serving.apps.bench.results import (
    BenchReport,
    Cell,
    Figures,
    Latency,
    ModelFigures,
    ServerFigures,
)


def _cell(target: str, throughput: float, batch: int = 64, conc: int = 1, **extra: Any) -> Cell:
    server, mean = extra.pop("server", None), extra.pop("mean", None)
    figures = Figures(
        client="threads",
        throughput=throughput,
        requests=10,
        images=10 * batch,
        wall_s=1.0,
        error_count=0,
        errors=(),
        latency_ms=Latency(count=10, mean=mean, p50=1.0, p90=1.0, p99=1.0, max=1.0),
        client_cpu_cores=None,
        process_cpu_cores=None,
        server_cpu_cores=None,
        server=server,
    )
    return Cell(target, batch, conc, "ok", figures=figures, **extra)


def _run(w: Workload, *cells: Cell, gflop: float | None = None) -> WorkloadRun:
    model = ModelFigures(w.model, "generate", "random", dict(w.overrides), gflop)
    report = BenchReport("genzoo.bench/2", "2026-12-07", {}, {}, model, None, results=cells)
    return WorkloadRun(w, report)


def _peak(gflops: float, dtype: str) -> MatmulPeak:
    return MatmulPeak(gflops, gflops, 8192, 16, 10, device="cuda", dtype=dtype)


def test_goals_are_ratios_of_the_best_cells_and_say_what_holds_them_back() -> None:
    server = ServerFigures(
        requests=10,
        request_ms=3.0,
        queue_ms=0.5,
        compute_input_ms=0.25,
        compute_infer_ms=2.0,
        compute_output_ms=0.25,
        executions=10,
        avg_batch=64.0,
    )
    dcgan, sg2, cyclegan = workloads(quick=False)
    runs = [
        _run(
            dcgan,
            _cell("torch", 1000),
            _cell("compile-graphs", 4000),
            _cell("triton-grpc", 1200, conc=4),
            _cell("triton-grpc", 900),
        ),
        _run(
            sg2,
            _cell("torch", 100, gflops=200.0),
            _cell("torch-fp16-cl", 400, batch=32, gflops=350.0),
            _cell("triton-grpc", 80, server=server, mean=10.0),
            gflop=0.875,
        ),
        WorkloadRun(cyclegan, None, "InvalidInputError: ..."),  # failed ones drop out
    ]
    peaks = {"fp16": _peak(1000.0, "float16"), "fp32": _peak(500.0, "float32")}
    goals = {g.id: g for g in evaluate_gpu_goals(runs, peaks)}
    assert list(goals) == ["served_large", "served_dcgan", "fp16_peak"]
    assert goals["served_dcgan"].value == pytest.approx(1200 / 4000)
    assert goals["served_dcgan"].met is True
    assert goals["served_large"].value == pytest.approx(80 / 400)
    assert goals["served_large"].met is False
    detail = goals["served_large"].detail
    assert "infer 2.00 ms" in detail and "7.00 ms of it outside the server" in detail
    assert "in-process torch-fp16-cl: 80.00 ms per batch of 32" in detail
    assert goals["fp16_peak"].value == pytest.approx(0.35)  # fp16 cells only
    assert (
        "350 of 1,000 GFLOP/s (0.9 GFLOP/image, 400 img/s at batch 32)" in goals["fp16_peak"].detail
    )
    assert goals["fp16_peak"].met is True
    assert goals["served_large"].goal == (
        "compute-bound variants through Triton vs the best in-process target ≥ 0.8"
    )

    nothing = {g.id: g for g in evaluate_gpu_goals([], {"fp32": _peak(1.0, "float32")})}
    assert all(g.value is None and g.met is None for g in nothing.values())
    assert nothing["fp16_peak"].detail == "not measured"


def test_the_check_report_holds_each_workload_as_a_bench_report_section() -> None:
    dcgan = Workload("dcgan-mnist", batches=(8,))
    run = _run(dcgan, _cell("torch", 1000, batch=8), _cell("triton-grpc", 500, batch=8, conc=2))
    report = run.report
    assert report is not None
    settings = {
        "duration_s": 0.5,
        "warmup_s": 0.2,
        "client": "threads",
        "instances": 1,
        "threads": 2,
        "preferred_batch_sizes": [],
        "max_queue_delay_us": 0,
        "litserve": {"max_batch_size": 64, "batch_timeout_s": 0.005},
        "targets": ["torch", "triton-grpc"],
        "device": "cpu",
        "triton_runner": "torch",
    }
    env = {"cpu": "a CPU", "cores": 2, "python": "3.12", "versions": {"torch": "2", "numpy": "1"}}
    run = WorkloadRun(dcgan, replace(report, settings=settings, environment=env))
    check = GpuCheck("2026-12-07", "quick", "cpu", env, runs=[run], peaks={})
    check.goals = evaluate_gpu_goals(check.runs, check.peaks)
    md = check_markdown(check)
    assert md.startswith("# GPU check — cpu\n")
    assert "## Goals" in md and "| dcgan-mnist through Triton vs" in md
    assert "## dcgan-mnist\n" in md and "# zoo bench" not in md  # the bench title gives way
    assert "### Throughput and latency" in md and "| triton-grpc | 8 | 2 | 500 |" in md
    assert "2 torch thread(s)" in md  # what Triton's models ran
    assert check.to_dict()["bench"][0]["report"]["schema"] == "genzoo.bench/2"
