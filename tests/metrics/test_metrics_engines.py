"""The evaluation protocol on an exported ONNX graph gives the torch figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from torch import nn
from typer.testing import CliRunner

from zoo.cli.main import app
from zoo.evaluate import compare_reports, evaluate
from zoo.runners import Runner


@pytest.fixture(autouse=True)
def _onnxruntime(missing_component: Callable[[str], NoReturn]) -> None:
    """The exported graph runs in the real ONNX Runtime (genzoo[export]); skipped only off CI."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        missing_component("onnxruntime is not installed: `make setup` installs genzoo[export]")


@pytest.mark.parametrize("uint8_output", [False, True], ids=["float32", "uint8-nhwc"])
def test_onnxruntime_graph_reproduces_the_torch_figures(
    uint8_output: bool,
    tmp_path: Path,
    random_modules: Callable[[str], nn.Module],
    random_factory: Callable[[str, str], Runner],
    random_evaluator: nn.Module,
) -> None:
    from export.onnx import export_onnx
    from export.runners import make_runner

    name = "dcgan-mnist"
    result = export_onnx(
        name, out_dir=tmp_path, module=random_modules(name), uint8_output=uint8_output
    )
    assert result.onnx_path.name == "model.onnx"

    def ort(model_name: str, entry: str) -> Runner:
        return make_runner("onnxruntime", model_name, entry, artifact=result.onnx_path)

    kw = {"evaluator": random_evaluator, "n": 200}
    torch_report = evaluate(name, runner_factory=random_factory, **kw)  # type: ignore[arg-type]
    ort_report = evaluate(name, runner_factory=ort, engine="onnxruntime", **kw)  # type: ignore[arg-type]
    assert ort_report.engine == "onnxruntime"
    # float32 graphs agree to round-off; uint8 output moves each pixel by ≤ 1/255.
    tol = 0.05 if uint8_output else 1e-3
    assert compare_reports(torch_report, ort_report, rel=tol, abs_=tol) == []


def test_eval_without_an_exported_graph_says_how_to_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_shipped: Callable[..., None]
) -> None:
    require_shipped("classifier-mnist")
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path))
    result = CliRunner().invoke(app, ["eval", "classifier-mnist", "--engine", "onnxruntime"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "zoo export" in lines[0], result.output
