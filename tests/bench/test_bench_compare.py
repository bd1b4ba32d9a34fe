"""``zoo bench --repository A --repository B``: repositories served in turn, in rounds.

The arithmetic (medians, ratios, failed rounds) is checked on made-up reports; one short real
run serves two repositories (the session's ONNX Runtime one, and a copy of its dcgan-mnist
models configured with two instances) through the real embedded Triton. No test asserts a
timing: the figures are checked for shape and consistency only.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from serving.apps.bench.compare import (
    Comparison,
    ServedAs,
    check_comparison,
    markdown,
    served_as,
    served_entry,
    write_comparison,
)
from serving.apps.bench.results import BenchReport, Cell
from serving.apps.bench.settings import BenchSettings
from serving.server.repository import (
    RepositoryOptions,
    native_configs,
    parse_config,
    render_config,
)
from zoo.cli.main import app
from zoo.errors import InvalidInputError
from zoo.registry import get_spec

runner = CliRunner()


def _report(
    fake_report: dict[str, Any], repository: str, figures: dict[int, float | None]
) -> BenchReport:
    """``fake_report`` with triton-grpc cells at concurrency 1 of the given img/s per batch
    (None: the cell failed), as a run on ``repository`` would record them."""
    base = BenchReport.from_dict(fake_report)
    template = next(c for c in base.results if c.target == "triton-grpc")
    cells = []
    for batch, thr in figures.items():
        cell = replace(template, batch=batch, concurrency=1)
        if thr is None:
            cell = Cell("triton-grpc", batch, 1, "error", reason="first request failed: boom")
        else:
            cell = replace(cell, figures=replace(cell.measured, throughput=thr))
        cells.append(cell)
    settings = {**base.settings, "repository": repository}
    return replace(base, settings=settings, results=tuple(cells))


def _comparison(fake_report: dict[str, Any]) -> Comparison:
    """Two repositories, three rounds; batch 64 failed once on the second repository."""
    rounds = [
        ({1: 100.0, 64: 1000.0}, {1: 150.0, 64: 1800.0}),
        ({1: 120.0, 64: 1100.0}, {1: 90.0, 64: None}),
        ({1: 80.0, 64: 900.0}, {1: 240.0, 64: 2000.0}),
    ]
    reports = tuple((_report(fake_report, "a", a), _report(fake_report, "b", b)) for a, b in rounds)
    served = (
        ServedAs(engine="onnxruntime", threads=1, instances=1),
        ServedAs(engine="openvino", threads=2, instances=1),
    )
    return Comparison(("a", "b"), served, reports)


def test_rows_give_each_repository_its_rounds_median_and_ratio(fake_report: dict[str, Any]) -> None:
    rows = {(r.repository, r.batch): r for r in _comparison(fake_report).rows}
    assert rows["a", 1].rounds == (100.0, 120.0, 80.0) and rows["a", 1].median == 100.0
    assert rows["b", 1].rounds == (150.0, 90.0, 240.0) and rows["b", 1].median == 150.0
    assert rows["a", 1].ratio == 1.0 and rows["b", 1].ratio == pytest.approx(1.5)
    # A failed round is kept as a gap, and the median is of the rounds that measured.
    assert rows["b", 64].rounds == (1800.0, None, 2000.0) and rows["b", 64].median == 1900.0
    assert rows["b", 64].ratio == pytest.approx(1900.0 / 1000.0)


def test_a_repository_that_never_measured_has_no_ratio(fake_report: dict[str, Any]) -> None:
    reports = ((_report(fake_report, "a", {8: None}), _report(fake_report, "b", {8: 500.0})),)
    served = (ServedAs(engine="onnxruntime", threads=1, instances=1),) * 2
    a, b = Comparison(("a", "b"), served, reports).rows
    assert a.median is None and a.ratio is None
    assert b.median == 500.0 and b.ratio is None  # nothing to compare it with


def test_json_markdown_and_plot(fake_report: dict[str, Any], tmp_path: Path) -> None:
    comparison = replace(_comparison(fake_report), command="zoo bench dcgan-mnist …")
    paths = write_comparison(comparison, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["schema"] == "genzoo.bench-compare/1" and data["command"] == comparison.command
    assert [r["serves"]["engine"] for r in data["repositories"]] == ["onnxruntime", "openvino"]
    assert len(data["rows"]) == 4 and len(data["rounds"]) == 3
    assert data["rounds"][1][1]["failed"] == [
        {"target": "triton-grpc", "batch": 64, "reason": "first request failed: boom"}
    ]
    md = paths["markdown"].read_text()
    assert md == markdown(comparison)
    assert "| triton-grpc | 64 | 1 | `b` | 1,800, –, 2,000 | 1,900 | 1.90 |" in md
    assert "| `b` | openvino 2t × 1 |" in md
    with Image.open(paths["plot"]) as im:
        assert im.format == "PNG"


def test_served_as_reads_the_engine_threads_and_instances(serving_repo: Path) -> None:
    got = served_as(serving_repo, "cyclegan-digits_translate_a2b")
    assert (got.engine, got.threads, got.instances) == ("onnxruntime", 1, 1)
    settings = BenchSettings(
        model="cyclegan-digits", entry="translate_b2a", targets=("triton-grpc",)
    )
    assert served_entry(settings, serving_repo) == got  # the b2a model, configured alike


def test_served_as_reads_a_native_config(tmp_path: Path) -> None:
    """A native repository's seeded entry is an ensemble: its graph's own model is described."""
    entry = get_spec("dcgan-mnist").entry_point(None)
    options = RepositoryOptions(engine="openvino", instances=2, threads=2)
    configs = native_configs("dcgan-mnist", entry, options)
    assert configs["dcgan-mnist"].platform == "ensemble"
    for name, cfg in configs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.pbtxt").write_text(render_config(cfg))
    assert served_as(tmp_path, "dcgan-mnist") == ServedAs("openvino", 2, 2)


def test_a_repository_without_the_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"does not serve dcgan-mnist.*zoo repo build"):
        served_as(tmp_path, "dcgan-mnist")


@pytest.mark.parametrize(
    ("targets", "url", "repositories", "rounds", "message"),
    [
        (("triton-grpc",), None, ["a"], 3, "two or more"),
        (("triton-grpc",), None, ["a", "b"], 0, r"--rounds must lie in 1\.\.50"),
        (("triton-grpc",), None, ["a", "./a"], 3, "different folder"),
        (("triton-grpc",), "127.0.0.1:8000", ["a", "b"], 3, "drop --url"),
        (("onnxruntime", "triton-grpc"), None, ["a", "b"], 3, "onnxruntime do not run in Triton"),
    ],
)
def test_comparisons_that_cannot_answer_are_refused(
    targets: tuple[str, ...], url: str | None, repositories: list[str], rounds: int, message: str
) -> None:
    settings = BenchSettings(model="dcgan-mnist", targets=targets, url=url)
    with pytest.raises(InvalidInputError, match=message):
        check_comparison(settings, [Path(r) for r in repositories], rounds)


def test_cli_compares_two_served_repositories(serving_repo: Path, tmp_path: Path) -> None:
    """Two real repositories, two rounds each, through the CLI, with its report."""
    other = tmp_path / "two-instances"
    for name in ("dcgan-mnist", "dcgan-mnist_interpolate"):
        shutil.copytree(serving_repo / name, other / name)
        path = other / name / "config.pbtxt"
        cfg = parse_config(path.read_text())
        cfg.instance_group[0].count = 2
        path.write_text(render_config(cfg))
    out = tmp_path / "report"
    args = ["bench", "dcgan-mnist", "--targets", "triton-grpc", "--batch", "4"]
    args += ["--concurrency", "2", "--duration", "0.5", "--warmup", "0.1", "--rounds", "2"]
    args += ["--repository", str(serving_repo), "--repository", str(other), "--report", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "compare.json").read_text())
    assert [r["path"] for r in data["repositories"]] == [str(serving_repo), str(other)]
    assert [r["serves"]["instances"] for r in data["repositories"]] == [1, 2]
    first, second = data["rows"]
    for row in (first, second):
        assert (row["target"], row["batch"], row["concurrency"]) == ("triton-grpc", 4, 2)
        assert len(row["rounds_img_s"]) == 2 and all(x > 0 for x in row["rounds_img_s"])
    assert first["ratio_to_first"] == 1.0
    assert second["ratio_to_first"] == pytest.approx(second["median_img_s"] / first["median_img_s"])
    assert all(not run["failed"] for runs in data["rounds"] for run in runs)
    # The rounds alternate the repositories: A, B in each.
    assert [[run["repository"] for run in runs] for runs in data["rounds"]] == [
        [str(serving_repo), str(other)]
    ] * 2
    assert (out / "compare.png").is_file() and "× first" in result.output


def test_cli_benches_one_given_repository_as_configured(serving_repo: Path, tmp_path: Path) -> None:
    """One --repository: served as it is, not rebuilt (the report names it)."""
    report = tmp_path / "bench.json"
    args = ["bench", "dcgan-mnist", "--targets", "triton-grpc", "--batch", "2"]
    args += ["--concurrency", "1", "--duration", "0.3", "--warmup", "0.1"]
    result = runner.invoke(
        app, [*args, "--repository", str(serving_repo), "--json-out", str(report)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["settings"]["repository"] == str(serving_repo)
    [cell] = data["results"]
    assert cell["status"] == "ok" and cell["throughput"] > 0


def test_cli_refuses_a_repository_that_lacks_the_model(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["bench", "dcgan-mnist", "--targets", "triton-grpc", "--repository", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "doesnotservedcgan-mnist" in "".join(result.output.split())  # rich wraps lines
