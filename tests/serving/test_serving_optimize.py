"""``zoo optimize``: every engine is gated, the rest measured, the measured best written.

Small on purpose (one small model, batch ≤ 4, fractions of a second per engine): what is
checked is the pipeline, never a timing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from serving.apps.optimize import TIE, Candidate, pick, run_optimize
from serving.server.repository import RepositoryOptions, build_repository, parse_config
from zoo.registry import create_model

SMALL = {"batches": [1, 4], "seconds": 0.3, "quality_n": 16, "parity_n": 8}


@pytest.fixture
def dcgan_repo(tmp_path: Path, serving_modules: dict) -> Path:
    repo = tmp_path / "repo"
    options = RepositoryOptions(threads=1)
    build_repository(["dcgan-mnist"], out_dir=repo, options=options, modules=serving_modules)
    return repo


def test_optimize_gates_measures_and_writes_the_measured_best(
    dcgan_repo: Path, serving_modules: dict, tmp_path: Path
) -> None:
    before = (dcgan_repo / "dcgan-mnist_interpolate" / "config.pbtxt").read_text()
    (report,) = run_optimize(
        ["dcgan-mnist"],
        repository=dcgan_repo,
        write=True,
        report_dir=tmp_path / "report",
        modules=serving_modules,
        entries=["generate"],
        engines=("onnxruntime", "openvino", "torch", "tensorrt"),
        evaluator=serving_modules["classifier-mnist"],
        **SMALL,
    )
    (choice,) = report.entries
    by_engine = {c.engine: c for c in choice.candidates}
    if not torch.cuda.is_available():
        assert by_engine["tensorrt"].status == "unavailable" and by_engine["tensorrt"].reason
    measured = [c for c in choice.candidates if c.status == "measured"]
    assert {"onnxruntime", "openvino", "torch"} <= {c.engine for c in measured}
    for c in measured:
        assert "parity passed" in c.parity and c.quality == []
        assert set(c.img_per_s) == {1, 4} and all(v > 0 for v in c.img_per_s.values())
        assert c.rss_mib and c.rss_mib > 0 and c.ready_s and c.ready_s > 0
    # The winner is the best at the largest batch, or within the tie margin with less memory.
    best = max(c.img_per_s[4] for c in measured)
    winner = by_engine[str(choice.winner)]
    assert winner.img_per_s[4] >= (1 - TIE) * best
    assert choice.winner == pick(choice.candidates, "throughput", [1, 4])
    # Written into that entry's config and export.json, nowhere else.
    cfg = parse_config((dcgan_repo / "dcgan-mnist" / "config.pbtxt").read_text())
    assert cfg.parameters["zoo_backend"].string_value == choice.winner
    assert cfg.parameters["zoo_threads"].string_value == str(choice.threads) == "1"
    assert (dcgan_repo / "dcgan-mnist_interpolate" / "config.pbtxt").read_text() == before
    meta = json.loads((dcgan_repo / "dcgan-mnist" / "1" / "export.json").read_text())
    assert meta["engines"]["winner"] == choice.winner
    assert meta["engines"]["machine"]["cores"] and len(meta["engines"]["candidates"]) == 4
    for suffix in ("md", "json", "png"):
        assert (tmp_path / "report" / f"dcgan-mnist.{suffix}").stat().st_size > 0
    assert f"→ **{choice.winner}**" in (tmp_path / "report" / "dcgan-mnist.md").read_text()


def test_engines_that_fail_the_parity_gate_are_dropped_with_the_reason(
    dcgan_repo: Path, serving_modules: dict, tmp_path: Path
) -> None:
    """Optimizing other weights than the repository's export: the graph computes another model,
    so the engines running it fail the gate; torch, on the given weights, is written with them."""
    torch.manual_seed(99)
    other = create_model("dcgan-mnist").eval()
    (report,) = run_optimize(
        ["dcgan-mnist"],
        repository=dcgan_repo,
        write=True,
        report_dir=tmp_path / "report",
        modules={"dcgan-mnist": other},
        entries=["generate"],
        engines=("onnxruntime", "openvino", "torch"),
        evaluator=serving_modules["classifier-mnist"],
        footprint=False,
        **SMALL,
    )
    (choice,) = report.entries
    by_engine = {c.engine: c for c in choice.candidates}
    for engine in ("onnxruntime", "openvino"):
        assert by_engine[engine].status == "dropped"
        assert by_engine[engine].reason.startswith("parity gate: parity FAILED")
        assert by_engine[engine].img_per_s == {}
    assert choice.winner == "torch"
    cfg = parse_config((dcgan_repo / "dcgan-mnist" / "config.pbtxt").read_text())
    assert cfg.parameters["zoo_backend"].string_value == "torch"
    assert (dcgan_repo / "dcgan-mnist" / "1" / "model.safetensors").is_file()
    assert "parity FAILED" in (tmp_path / "report" / "dcgan-mnist.md").read_text()


def test_pick_follows_the_strategy_and_breaks_ties_by_memory() -> None:
    fast = Candidate("a", img_per_s={1: 100.0, 64: 1000.0}, latency_ms={1: 10.0}, rss_mib=500)
    lean = Candidate("b", img_per_s={1: 90.0, 64: 990.0}, latency_ms={1: 5.0}, rss_mib=100)
    slow = Candidate("c", img_per_s={1: 50.0, 64: 500.0}, latency_ms={1: 1.0}, rss_mib=50)
    gone = Candidate("d", status="dropped", img_per_s={1: 1e9, 64: 1e9}, latency_ms={1: 0.1})
    assert pick([fast, lean, slow, gone], "throughput", [1, 64]) == "b"  # 1% behind, 5x leaner
    assert pick([fast, slow, gone], "throughput", [1, 64]) == "a"
    assert pick([fast, lean, slow, gone], "latency", [1, 64]) == "c"
    assert pick([gone], "throughput", [1, 64]) is None


def test_cli_optimize_writes_only_into_out_and_repo_build_refuses_the_tracked_one(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from zoo.cli.main import app

    runner = CliRunner()
    refused = runner.invoke(app, ["repo", "build", "--optimize", "--models", "dcgan-mnist"])
    assert refused.exit_code == 1 and "--out" in refused.output
    repo, report = tmp_path / "repo", tmp_path / "report"
    args = ["optimize", "dcgan-mnist", "--entry", "generate", "--out", str(repo)]
    args += ["--engines", "onnxruntime,openvino", "--batch", "2", "--seconds", "0.2"]
    args += ["--quality-n", "16", "--report", str(report), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    (entry,) = out["entries"]
    assert entry["winner"] in ("onnxruntime", "openvino") and entry["batches"] == [2]
    cfg = parse_config((repo / "dcgan-mnist" / "config.pbtxt").read_text())
    assert cfg.parameters["zoo_backend"].string_value == entry["winner"]
    assert (report / "dcgan-mnist.png").is_file()
