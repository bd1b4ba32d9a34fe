"""Goals, JSON, Markdown and PNG plots from a report with fixed figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from serving.apps.bench.report import evaluate_goals, markdown, summary_rows, write_report
from serving.apps.bench.results import BenchReport, Cell

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_goals_from_the_figures(fake_report: dict[str, Any]) -> None:
    goals = {g.id: g for g in evaluate_goals(BenchReport.from_dict(fake_report))}
    assert set(goals) == {"grpc64", "dynamic", "p50", "litserve", "peak"}
    # triton-grpc batch 64: best over concurrency is 3900; ORT 4000.
    assert goals["grpc64"].value == pytest.approx(3900 / 4000)
    assert goals["grpc64"].met is True
    # batch 1 at concurrency 16: gRPC's 3000 beats HTTP's 2500.
    assert goals["dynamic"].value == pytest.approx(3000 / 4000)
    assert goals["dynamic"].met is False
    assert "triton-grpc" in goals["dynamic"].detail
    # p50 at batch 1, concurrency 1: gRPC 1.2 ms, ORT 0.5 ms.
    assert goals["p50"].value == pytest.approx(0.7)
    assert goals["p50"].met is True
    # 3000 vs LitServe's 1000, p99 9 < 30.
    assert goals["litserve"].value == pytest.approx(3.0)
    assert goals["litserve"].met is True
    # best GFLOP/s: ORT batch 64, 40 of 100.
    assert goals["peak"].value == pytest.approx(0.4)
    assert goals["peak"].met is False


def test_litserve_goal_needs_the_lower_p99(fake_report: dict[str, Any]) -> None:
    for cell in fake_report["results"]:
        if cell["target"] == "litserve":
            cell["latency_ms"]["p99"] = 5.0  # LitServe's tail now beats Triton's 9 ms
    goal = next(g for g in evaluate_goals(BenchReport.from_dict(fake_report)) if g.id == "litserve")
    assert goal.value == pytest.approx(3.0)
    assert goal.met is False


def test_goals_not_measured_without_their_cells(fake_report: dict[str, Any]) -> None:
    fake_report["results"] = [c for c in fake_report["results"] if c["target"] != "onnxruntime"]
    goals = {g.id: g for g in evaluate_goals(BenchReport.from_dict(fake_report))}
    for gid in ("grpc64", "dynamic", "p50"):
        assert goals[gid].met is None and goals[gid].value is None
        assert "not measured" in goals[gid].detail


def test_write_report(tmp_path: Path, fake_report: dict[str, Any]) -> None:
    fake_report["goals"] = [g.to_dict() for g in evaluate_goals(BenchReport.from_dict(fake_report))]
    paths = write_report(BenchReport.from_dict(fake_report), tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "bench.json",
        "bench.md",
        "throughput.png",
        "latency.png",
    }
    data = json.loads(paths["json"].read_text())
    assert data["schema"] == "genzoo.bench/2"
    for key in ("settings", "environment", "model", "peak", "results", "goals", "command"):
        assert key in data
    assert data["results"][0]["latencies_ms"] == fake_report["results"][0]["latencies_ms"]

    for key in ("throughput", "latency"):
        raw = paths[key].read_bytes()
        assert raw.startswith(PNG_MAGIC)
        with Image.open(paths[key]) as im:
            im.verify()
        with Image.open(paths[key]) as im:
            assert im.width > 400 and im.height > 200

    md = paths["markdown"].read_text()
    assert md.startswith("# zoo bench: dcgan-mnist (generate)")
    assert "`zoo bench dcgan-mnist`" in md
    assert "Test CPU, 2 cores, no GPU" in md
    assert "0.10/0.20/0.30" in md  # load at start
    assert "| triton-grpc | 1 | 16 | 3,000 | 5.00 | 9.00 | 9.00 | 10.00 |" in md
    assert "## Triton: client-side and server-side time" in md
    assert "tensorrt (skipped): TensorRT needs a CUDA GPU" in md
    assert md.count("**met**") == 3 and md.count("**not met**") == 2


def test_markdown_without_servers(fake_report: dict[str, Any]) -> None:
    fake_report["results"] = [c for c in fake_report["results"] if c["target"] == "onnxruntime"]
    fake_report["goals"] = [g.to_dict() for g in evaluate_goals(BenchReport.from_dict(fake_report))]
    md = markdown(BenchReport.from_dict(fake_report))
    assert "client-side and server-side" not in md
    assert "not measured" in md


def test_summary_rows(fake_report: dict[str, Any]) -> None:
    rows = summary_rows(BenchReport.from_dict(fake_report))
    assert len(rows) == 9  # the skipped cell is left out
    assert rows[0] == {
        "target": "onnxruntime",
        "batch": 1,
        "concurrency": 1,
        "throughput": 2000.0,
        "p50_ms": 0.5,
        "p99_ms": 1.0,
    }


def test_the_json_form_reads_back_unchanged(fake_report: dict[str, Any]) -> None:
    """genzoo.bench/2 keys and values survive the typed form, for every kind of cell."""
    report = BenchReport.from_dict(fake_report)
    assert all(isinstance(c, Cell) for c in report.results)
    again = report.to_dict()
    assert again["results"] == fake_report["results"]
    for key in ("schema", "created", "command", "settings", "environment", "peak", "notes"):
        assert again[key] == fake_report[key]
    assert again["model"] == {
        **fake_report["model"],
        "flops_counted_by": "torch.utils.flop_counter.FlopCounterMode (matmul + conv, 2/MAC)",
    }
    assert BenchReport.from_dict(again) == report


def test_a_bench_1_report_reads_as_the_bench_2_report_it_would_be_now(
    fake_report: dict[str, Any],
) -> None:
    """genzoo.bench/1 named a cell's target `backend` and the settings' list `backends`."""
    old = json.loads(json.dumps(fake_report))
    old["schema"] = "genzoo.bench/1"
    old["settings"]["backends"] = old["settings"].pop("targets")
    old["results"] = [
        {("backend" if k == "target" else k): v for k, v in c.items()} for c in old["results"]
    ]
    report = BenchReport.from_dict(old)
    assert report == BenchReport.from_dict(fake_report)
    assert report.schema == "genzoo.bench/2"
    assert report.to_dict()["results"] == fake_report["results"]
    assert [c.target for c in report.results][-1] == "tensorrt"  # the skipped cell too
    assert markdown(report) == markdown(BenchReport.from_dict(fake_report))
