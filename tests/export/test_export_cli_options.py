"""``zoo export --fp16 --measure-optimizer``: a float16 graph behind float32 I/O, and the
optimiser's effect recorded (its figures are present, not judged: timing is zoo bench's job).
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from typer.testing import CliRunner

from zoo.cli.main import app

FLOAT, FLOAT16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16


def test_fp16_export_with_the_optimizer_measured(tmp_path: Path) -> None:
    args = ["export", "dcgan-mnist", "--fp16", "--measure-optimizer", "--random-weights"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path), "--threads", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # generate and interpolate, one Triton model each
    folder = tmp_path / "dcgan-mnist" / "1"
    paths = {Path(r["onnx_path"]): r for r in rows}
    assert set(paths) == {
        folder / "model.onnx",
        tmp_path / "dcgan-mnist_interpolate" / "1" / "model.onnx",
    }
    assert all(r["passed"] for r in rows)
    row = paths[folder / "model.onnx"]
    meta = json.loads((folder / "export.json").read_text())
    assert meta["fp16"] is True and meta["passed"] is True

    graph = onnx.load(str(folder / "model.onnx")).graph
    # float32 at the edges, float16 inside: every weight is stored as float16.
    assert [i.type.tensor_type.elem_type for i in graph.input] == [FLOAT]
    assert [o.type.tensor_type.elem_type for o in graph.output] == [FLOAT]
    weights = [t for t in graph.initializer if len(t.dims) >= 2]  # conv and linear weights
    assert weights and all(t.data_type == FLOAT16 for t in weights)

    # The parity gate compared it with torch float32 at the fp16 tolerance; a float16 graph
    # cannot match float32 exactly, so a zero error would mean it ran in float32.
    parity = meta["parity"]
    assert parity["n"] == 64 and 0 < parity["rel_l2"] <= 1e-2

    opt = meta["optimizer"]
    assert opt["enabled"] and opt["after"]["nodes"] <= opt["before"]["nodes"]
    assert opt["ort_ms_batch16_before"] > 0 and opt["ort_ms_batch16_after"] > 0
    assert row["optimizer"] == opt
