"""``zoo export`` through typer's CliRunner: JSON and human output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import export.onnx
from export.wrappers import EntryModule
from zoo.cli.main import app


def _invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_export_json_writes_the_repository_layout(tmp_path: Path) -> None:
    code, out, _ = _invoke(
        "export",
        "cyclegan-digits",
        "--random-weights",
        "--out",
        str(tmp_path),
        "--threads",
        "1",
        "--json",
    )
    assert code == 0, out
    rows = json.loads(out)
    assert [r["entry"] for r in rows] == ["translate_a2b", "translate_b2a"]
    for row in rows:
        assert row["passed"] and row["parity"]["rel_l2"] <= 1e-5 and row["parity"]["n"] == 64
        path = Path(row["onnx_path"])
        assert path == tmp_path / f"cyclegan-digits_{row['entry']}" / "1" / "model.onnx"
        assert path.is_file() and path.with_name("export.json").is_file()


def test_export_one_entry_prints_the_parity_report(tmp_path: Path) -> None:
    code, out, _ = _invoke(
        "export",
        "vae-mnist",
        "--entry",
        "decode",
        "--uint8-output",
        "--random-weights",
        "--out",
        str(tmp_path),
        "--threads",
        "1",
    )
    assert code == 0, out
    assert "vae-mnist:decode" in out and "parity passed (onnxruntime, fp32, n=64)" in out
    meta = json.loads((tmp_path / "vae-mnist_decode" / "1" / "export.json").read_text())
    assert meta["uint8_output"] and meta["signature"]["outputs"][0]["dtype"] == "uint8"


class _NoisyEntry(EntryModule):
    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(x + torch.randn_like(x) for x in super().forward(*inputs))


def test_failing_gate_exits_1_with_the_report_and_keeps_the_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export.onnx, "EntryModule", _NoisyEntry)
    code, out, err = _invoke(
        "export", "dcgan-mnist", "--random-weights", "--out", str(tmp_path), "--threads", "1"
    )
    assert code == 1
    assert "parity FAILED" in out
    assert err.count("\n") == 1 and "parity gate failed for dcgan-mnist:generate" in err
    assert (tmp_path / "dcgan-mnist" / "1" / "model.failed.onnx").is_file()
    assert not (tmp_path / "dcgan-mnist" / "1" / "model.onnx").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dcgan-mnst",), "unknown model 'dcgan-mnst'. Did you mean: dcgan-mnist"),
        (("../etc",), "unknown model"),
        (("vae-mnist", "--entry", "nope"), "has no entry point 'nope'"),
    ],
)
def test_bad_names_give_one_line_and_exit_1(args: tuple[str, ...], message: str) -> None:
    code, out, err = _invoke("export", *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_tensorrt_without_tensorrt_gives_the_install_hint(tmp_path: Path) -> None:
    from export.tensorrt_engine import tensorrt_available

    if tensorrt_available():
        pytest.skip("TensorRT is installed here; this checks the hint where it is not")
    code, _, err = _invoke(
        "export", "dcgan-mnist", "--format", "tensorrt", "--random-weights", "--out", str(tmp_path)
    )
    assert code == 1 and "pip install 'genzoo[tensorrt]'" in err
