"""torch → ONNX: every entry point exports, passes parity, has a dynamic batch; broken ones fail."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from export.artifacts import FAILED_ONNX_NAME, META_NAME, ONNX_NAME
from export.gates import (
    FP16_REL_L2,
    FP32_REL_L2,
    ParityReport,
    compare_outputs,
    parity_check,
    torch_reference,
)
from export.onnx import export_onnx
from export.runners import OrtRunner, make_runner
from export.samples import sample_inputs
from export.signature import graph_signature
from zoo.errors import ArtifactNotFoundError, ExportGateError
from zoo.pipeline import to_uint8_nhwc
from zoo.registry import get_spec, triton_model_name

Exporter = Callable[..., Any]
_ONNX_DTYPES = {"float32": onnx.TensorProto.FLOAT, "int64": onnx.TensorProto.INT64}
_ONNX_DTYPES["uint8"] = onnx.TensorProto.UINT8


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_every_entry_point_exports_and_passes_parity(
    model_name: str, exported: Exporter, parity_n: int
) -> None:
    for ep in get_spec(model_name).entry_points:
        res = exported(model_name, ep.name)
        assert res.passed and res.parity is not None, res.parity
        assert res.parity.n == parity_n and res.parity.rel_l2 <= FP32_REL_L2
        assert res.onnx_path.name == ONNX_NAME and res.onnx_path.is_file()

        graph = onnx.load(str(res.onnx_path)).graph
        sig = graph_signature(ep)
        for got, want in zip(
            [*graph.input, *graph.output], [*sig.inputs, *sig.outputs], strict=True
        ):
            assert got.name == want.name
            assert got.type.tensor_type.elem_type == _ONNX_DTYPES[want.dtype]
            assert _dims(got) == ["batch", *want.shape], (ep.name, got.name)
        # Noise and latents are inputs or buffers: no random op may be in the graph.
        assert not [n.op_type for n in graph.node if n.op_type.startswith("Random")]

        meta = json.loads(res.meta_path.read_text())
        assert meta["sha256"] == res.sha256 and meta["opset"] == 18 and meta["passed"]
        assert meta["signature"] == sig.to_dict()
        assert meta["parity"]["engine"] == "onnxruntime"
        assert meta["optimizer"]["after"]["nodes"] <= meta["optimizer"]["before"]["nodes"]
        assert set(meta["versions"]) == {"torch", "onnx", "onnxscript", "onnxruntime"}


def test_parity_reports_read_back_including_the_old_backend_key() -> None:
    """The report names its engine; export.json files written before the rename still read."""
    ref = (np.linspace(0, 1, 12, dtype=np.float32).reshape(2, 6),)
    report = compare_outputs(ref, ref, ["image"], engine="openvino")
    data = report.to_dict()
    assert data["engine"] == "openvino" and "backend" not in data
    assert ParityReport.from_dict(data) == report
    old = {("backend" if k == "engine" else k): v for k, v in data.items()}
    assert ParityReport.from_dict(old) == report
    assert "(openvino, fp32, n=2)" in report.summary()


def test_the_summary_names_the_bound_that_judged_each_kind_of_output() -> None:
    """A uint8 image is held to grey levels, not to the float bound its rel-L2 may exceed."""
    image = np.zeros((2, 4, 4, 1), np.uint8)
    off_by_one = image.copy()
    off_by_one[0, 0, 0, 0] = 1
    logits = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    uint8_only = compare_outputs((image,), (off_by_one,), ["image"])
    assert uint8_only.passed and uint8_only.rel_l2 > uint8_only.bound
    assert uint8_only.summary().endswith("(bound: uint8 outputs ≤ 1 level)")
    both = compare_outputs((image, logits), (off_by_one, logits), ["image", "logits"])
    assert both.summary().endswith("(bound: uint8 outputs ≤ 1 level, rel-L2 ≤ 1e-05)")
    half = compare_outputs((image,), (off_by_one,), ["image"], fp16=True)
    assert not half.passed and half.summary().endswith("(bound: rel-L2 ≤ 0.01)")


def test_outputs_named_like_an_input_are_suffixed() -> None:
    sig = graph_signature(get_spec("cyclegan-digits").entry_point("translate_a2b"))
    assert [t.name for t in sig.inputs] == ["image"]
    assert [t.name for t in sig.outputs] == ["image_out"]
    assert [t.name for t in graph_signature(get_spec("dcgan-mnist").entry_point()).outputs] == [
        "image"
    ]


def test_batch_axis_is_dynamic_one_by_one_equals_batch_of_seven(
    model_name: str, exported: Exporter
) -> None:
    for ep in get_spec(model_name).entry_points:
        runner = OrtRunner(model_name, ep.name, exported(model_name, ep.name).onnx_path, threads=1)
        inputs = sample_inputs(ep, 7)
        batch = runner(*inputs)
        for i in range(7):
            single = runner(*(a[i : i + 1] for a in inputs))
            for b, s in zip(batch, single, strict=True):
                assert s.shape == (1, *b.shape[1:])
                np.testing.assert_allclose(s[0], b[i], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "entry"), [("dcgan-mnist", "generate"), ("vae-mnist", "inpaint")]
)
def test_uint8_output_matches_torch_postprocessing(
    model: str, entry: str, exported: Exporter, random_module: Callable[[str], nn.Module]
) -> None:
    res = exported(model, entry, uint8_output=True)
    assert res.passed
    ep = get_spec(model).entry_point(entry)
    inputs = sample_inputs(ep, 16)
    (got,) = OrtRunner(model, entry, res.onnx_path, threads=1)(*inputs)
    with torch.inference_mode():
        images = getattr(random_module(model), entry)(*map(torch.from_numpy, inputs)).numpy()
    want = to_uint8_nhwc(images)
    assert got.dtype == np.uint8 and got.shape == want.shape == (16, 32, 32, 1)
    assert int(np.abs(got.astype(int) - want.astype(int)).max()) <= 1
    assert len(np.unique(got)) > 10  # real images, not a constant


def test_fp16_graph_computes_in_half_with_float32_io(exported: Exporter) -> None:
    res = exported("dcgan-mnist", "generate", fp16=True)
    assert res.passed and res.parity is not None
    assert res.parity.precision == "fp16" and res.parity.bound == FP16_REL_L2
    assert 0 < res.parity.rel_l2 <= FP16_REL_L2  # really half: not bit-equal to float32
    model = onnx.load(str(res.onnx_path))
    assert {i.type.tensor_type.elem_type for i in model.graph.input} == {onnx.TensorProto.FLOAT}
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


class _Noisy(nn.Module):
    """A generator with a random op: torch and ONNX Runtime draw different noise."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        img: torch.Tensor = self.inner.generate(z)
        return img + 0.1 * torch.randn_like(img)


def test_random_op_in_graph_fails_the_gate_and_is_kept_not_served(
    random_module: Callable[[str], nn.Module], exported: Exporter, out_dir: Path, parity_n: int
) -> None:
    # A good export first: a failing one must not leave it in place.
    shutil.copytree(exported("dcgan-mnist", "generate").onnx_path.parent, out_dir)
    res = export_onnx(
        "dcgan-mnist",
        out_dir=out_dir,
        module=_Noisy(random_module("dcgan-mnist")),
        parity_n=parity_n,
        threads=1,
    )
    assert not res.passed and res.parity is not None and res.parity.rel_l2 > 1e-2
    assert res.onnx_path == out_dir / FAILED_ONNX_NAME and res.onnx_path.is_file()
    assert not (out_dir / ONNX_NAME).exists()
    meta = json.loads((out_dir / META_NAME).read_text())
    assert meta["passed"] is False and meta["onnx_file"] == FAILED_ONNX_NAME
    with pytest.raises(ExportGateError, match="failed its parity gate"):
        OrtRunner("dcgan-mnist", None, res.onnx_path)
    with pytest.raises(ArtifactNotFoundError, match="failed its parity gate is kept"):
        make_runner("onnxruntime", "dcgan-mnist", artifact=out_dir / ONNX_NAME)


def test_weights_changed_after_export_fail_the_parity_check(
    random_module: Callable[[str], nn.Module], exported: Exporter
) -> None:
    res = exported("classifier-mnist", "classify")
    perturbed = create_perturbed(random_module("classifier-mnist"))
    report = parity_check("classifier-mnist", None, perturbed, res.onnx_path, n=8, threads=1)
    assert not report.passed and report.rel_l2 > FP32_REL_L2
    same = parity_check(
        "classifier-mnist", None, random_module("classifier-mnist"), res.onnx_path, n=8, threads=1
    )
    assert same.passed


def create_perturbed(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with its first weight nudged by 1%."""
    import copy

    clone = copy.deepcopy(module)
    with torch.no_grad():
        p = next(clone.parameters())
        p.mul_(1.01)
    return clone


def test_tampered_or_mislabelled_artifacts_are_refused(exported: Exporter, out_dir: Path) -> None:
    shutil.copytree(exported("dcgan-mnist", "generate").onnx_path.parent, out_dir)
    path = out_dir / ONNX_NAME
    with pytest.raises(ExportGateError, match="not cgan-mnist:generate"):
        OrtRunner("cgan-mnist", None, path)
    with path.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ExportGateError, match="changed since it was exported"):
        OrtRunner("dcgan-mnist", None, path)


def test_export_from_older_bundled_weights_is_refused(exported: Exporter, out_dir: Path) -> None:
    shutil.copytree(exported("dcgan-mnist", "generate").onnx_path.parent, out_dir)
    meta_path = out_dir / META_NAME
    meta = json.loads(meta_path.read_text())
    meta["weights"] = {"source": "bundled", "sha256": "0" * 64}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ExportGateError, match="older weights"):
        OrtRunner("dcgan-mnist", None, out_dir / ONNX_NAME)


def test_default_destination_is_the_model_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, random_module: Callable[[str], nn.Module]
) -> None:
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path))
    res = export_onnx(
        "vae-mnist", "decode", module=random_module("vae-mnist"), parity_n=4, threads=1
    )
    folder = tmp_path / triton_model_name("vae-mnist", "decode") / "1"
    assert res.onnx_path == folder / ONNX_NAME and res.meta_path == folder / META_NAME
    assert sorted(p.name for p in folder.iterdir()) == [META_NAME, ONNX_NAME]  # no temp files
    runner = make_runner("onnxruntime", "vae-mnist", "decode", threads=1)
    latent = sample_inputs(get_spec("vae-mnist").entry_point("decode"), 3)
    ref = torch_reference(
        random_module("vae-mnist"),
        get_spec("vae-mnist").entry_point("decode"),
        latent,
        uint8_output=False,
    )
    np.testing.assert_allclose(runner(*latent)[0], ref[0], atol=1e-5)


def test_export_does_not_change_the_callers_module(
    random_module: Callable[[str], nn.Module], out_dir: Path
) -> None:
    module = random_module("cgan-mnist")
    before = {k: v.clone() for k, v in module.state_dict().items()}
    res = export_onnx(
        "cgan-mnist", out_dir=out_dir, module=module, fp16=True, parity_n=4, threads=1
    )
    assert res.passed
    for k, v in module.state_dict().items():
        assert v.dtype == before[k].dtype and torch.equal(v, before[k]), k


@pytest.mark.parametrize(
    ("model", "entry"),
    [
        ("cgan-mnist", "interpolate"),
        ("stylegan2-mnist", "synthesize"),
        ("stylegan2-mnist", "interpolate"),
        ("stylegan2-mnist-encoder", "project"),
    ],
)
def test_projection_synthesis_and_interpolation_export_within_the_gate(
    model: str, entry: str, exported: Exporter
) -> None:
    """The new entry points' graphs (slerp, lerp in w, ws in, ws + image out) pass parity."""
    res = exported(model, entry, uint8_output=True)
    assert res.passed, res.parity
    sig = json.loads(res.meta_path.read_text())["signature"]
    names = [t.name for t in get_spec(model).entry_point(entry).inputs]
    assert [t["name"] for t in sig["inputs"]] == names
