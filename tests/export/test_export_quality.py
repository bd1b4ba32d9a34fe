"""Quality gate: the model's metrics through the ONNX Runtime graph stay within 1% of torch."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from export.onnx import export_onnx
from export.runners import make_runner
from zoo.evaluate import EVALUATOR, compare_reports, evaluate
from zoo.registry import create_model, get_spec
from zoo.runners import Runner, TorchRunner


def _weights(name: str) -> nn.Module:
    """Trained weights once they are registered; random-init before (parity is what counts)."""
    if get_spec(name).sha256:
        from zoo.hub import pull_bundled

        return pull_bundled(name).load()
    torch.manual_seed(1)
    return create_model(name).eval()


def test_dcgan_metrics_through_onnxruntime_match_torch(tmp_path: Path) -> None:
    model, entry = "dcgan-mnist", "generate"
    module, evaluator = _weights(model), _weights(EVALUATOR)
    res = export_onnx(model, entry, out_dir=tmp_path / "1", module=module, parity_n=8, threads=1)
    assert res.passed

    def ort(m: str, e: str) -> Runner:
        return make_runner("onnxruntime", m, e, artifact=res.onnx_path, threads=1)

    expected = evaluate(
        model, runner_factory=lambda m, e: TorchRunner(m, module, e), n=100, evaluator=evaluator
    )
    actual = evaluate(model, runner_factory=ort, n=100, evaluator=evaluator, engine="onnxruntime")
    assert [m.name for m in actual.metrics] == [m.name for m in expected.metrics]
    assert compare_reports(expected, actual, rel=0.01, abs_=0.0) == []
