"""The OpenVINO runner: parity with ONNX Runtime, the gates, the IR checks, the missing extra."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from torch import nn

from export.artifacts import IR_BIN_NAME, IR_MANIFEST_NAME, IR_NAME, check_ir_artifact
from export.gates import check_runner
from export.openvino import OpenVinoRunner, save_ir
from export.runners import make_runner
from export.samples import sample_inputs
from zoo.errors import ArtifactNotFoundError, ExportGateError, MissingDependencyError
from zoo.evaluate import EVALUATOR, compare_reports, evaluate
from zoo.registry import get_spec
from zoo.runners import Runner, TorchRunner

Exporter = Callable[..., Any]


def _copy_export(src: Path, dst: Path) -> Path:
    """A private copy of a cached export's version folder (tests here write IR beside it)."""
    shutil.copytree(src.parent, dst)
    return dst / src.name


def test_openvino_matches_onnxruntime_on_every_entry_point(
    model_name: str, exported: Exporter
) -> None:
    for ep in get_spec(model_name).entry_points:
        path = exported(model_name, ep.name).onnx_path
        ov = make_runner("openvino", model_name, ep.name, artifact=path, threads=1)
        ort = make_runner("onnxruntime", model_name, ep.name, artifact=path, threads=1)
        assert isinstance(ov, OpenVinoRunner) and ov.entry == ort.entry == ep
        inputs = sample_inputs(ep, 5)
        got, want = ov(*inputs), ort(*inputs)
        assert len(got) == len(want) == len(ep.outputs)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_parity_gate_passes_on_openvino_for_float_and_uint8_graphs(
    exported: Exporter, random_module: Callable[[str], nn.Module], parity_n: int
) -> None:
    module = random_module("cyclegan-digits")
    for uint8 in (False, True):
        path = exported("cyclegan-digits", "translate_a2b", uint8_output=uint8).onnx_path
        runner = make_runner("openvino", "cyclegan-digits", "translate_a2b", artifact=path)
        report = check_runner(
            module, runner.entry, runner, n=parity_n, uint8_output=uint8, engine="openvino"
        )
        assert report.passed and report.engine == "openvino", report.summary()


def test_quality_gate_dcgan_metrics_through_openvino_match_torch(
    exported: Exporter, random_module: Callable[[str], nn.Module]
) -> None:
    """The quality gate as ``zoo optimize`` runs it: metrics within 1% of torch's."""
    model = "dcgan-mnist"
    module, evaluator = random_module(model), random_module(EVALUATOR)
    path = exported(model, "generate").onnx_path

    def ov(m: str, e: str) -> Runner:
        return make_runner("openvino", m, e, artifact=path, threads=1)

    expected = evaluate(
        model, runner_factory=lambda m, e: TorchRunner(m, module, e), n=64, evaluator=evaluator
    )
    actual = evaluate(model, runner_factory=ov, n=64, evaluator=evaluator, engine="openvino")
    assert compare_reports(expected, actual, rel=0.01, abs_=0.0) == []


def test_ir_saved_beside_the_onnx_is_run_and_gives_the_same_bytes(
    exported: Exporter, tmp_path: Path
) -> None:
    onnx = _copy_export(
        exported("dcgan-mnist", "generate", uint8_output=True).onnx_path, tmp_path / "1"
    )
    from_onnx = make_runner("openvino", "dcgan-mnist", artifact=onnx, threads=1)
    xml = save_ir(onnx, "dcgan-mnist", "generate")
    assert xml == onnx.with_name(IR_NAME) and xml.with_name(IR_BIN_NAME).is_file()
    from_ir = make_runner("openvino", "dcgan-mnist", artifact=onnx, threads=1)
    assert isinstance(from_ir, OpenVinoRunner) and from_ir.source == xml
    inputs = sample_inputs(from_ir.entry, 4)
    np.testing.assert_array_equal(from_ir(*inputs)[0], from_onnx(*inputs)[0])


def test_corrupt_or_mismatched_ir_is_refused(exported: Exporter, tmp_path: Path) -> None:
    onnx = _copy_export(exported("dcgan-mnist", "generate").onnx_path, tmp_path / "1")
    xml = save_ir(onnx, "dcgan-mnist", "generate")
    weights = xml.with_name(IR_BIN_NAME)
    good = weights.read_bytes()
    weights.write_bytes(good[:-8] + b"\0" * 8)  # same size, other weights
    with pytest.raises(ExportGateError, match="changed since it was converted"):
        make_runner("openvino", "dcgan-mnist", artifact=onnx)
    weights.write_bytes(good)
    # An IR of another graph copied over this one's (e.g. after a re-export).
    other = _copy_export(exported("dcgan-mnist", "interpolate").onnx_path, tmp_path / "2")
    save_ir(other, "dcgan-mnist", "interpolate")
    for name in (IR_NAME, IR_BIN_NAME, IR_MANIFEST_NAME):
        shutil.copyfile(other.with_name(name), xml.with_name(name))
    with pytest.raises(ExportGateError, match="dcgan-mnist:interpolate, not dcgan-mnist:generate"):
        make_runner("openvino", "dcgan-mnist", artifact=onnx)
    # An ONNX file changed under its IR: the artifact check of the ONNX refuses it first.
    save_ir(onnx, "dcgan-mnist", "generate")
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(ExportGateError, match="changed since it was exported"):
        make_runner("openvino", "dcgan-mnist", artifact=onnx)


def test_missing_onnx_is_refused_with_the_export_command(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFoundError, match="zoo export dcgan-mnist"):
        make_runner("openvino", "dcgan-mnist", artifact=tmp_path / "model.onnx")


def test_missing_openvino_is_one_line_naming_the_extra(
    exported: Exporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``None`` entry in ``sys.modules`` makes ``import openvino`` fail as if not installed
    (uninstalling the wheel under the running suite is not an option)."""
    path = exported("dcgan-mnist", "generate").onnx_path
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(MissingDependencyError) as info:
        make_runner("openvino", "dcgan-mnist", artifact=path)
    message = str(info.value)
    assert "\n" not in message and "genzoo[openvino]" in message


def test_cli_export_format_openvino_writes_a_checked_ir_beside_the_onnx(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zoo.cli.main import app

    args = ["export", "dcgan-mnist", "--entry", "generate", "--format", "openvino"]
    result = CliRunner().invoke(app, [*args, "--random-weights", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    xml = tmp_path / "dcgan-mnist" / "1" / IR_NAME
    assert check_ir_artifact(xml, "dcgan-mnist", "generate")["onnx_file"] == "model.onnx"
    runner = make_runner("openvino", "dcgan-mnist", artifact=xml.with_name("model.onnx"))
    assert isinstance(runner, OpenVinoRunner) and runner.source == xml
