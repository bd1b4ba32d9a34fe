"""make_runner: every engine and entry point, and one clear error for each misuse."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from torch import nn

from export.gates import torch_reference
from export.openvino import OpenVinoRunner
from export.runners import ENGINES, OrtRunner, make_runner
from export.samples import sample_inputs
from zoo.errors import ArtifactNotFoundError, InvalidInputError, InvalidNameError
from zoo.registry import get_spec
from zoo.runners import TorchRunner

Exporter = Callable[..., Any]


def test_onnxruntime_and_torch_runners_agree_on_every_entry_point(
    model_name: str, exported: Exporter, random_module: Callable[[str], nn.Module]
) -> None:
    module = random_module(model_name)
    for ep in get_spec(model_name).entry_points:
        path = exported(model_name, ep.name).onnx_path
        ort = make_runner("onnxruntime", model_name, ep.name, artifact=path, threads=1)
        eager = make_runner("torch", model_name, ep.name, module=module)
        assert isinstance(ort, OrtRunner) and isinstance(eager, TorchRunner)
        assert ort.entry == eager.entry == ep
        inputs = sample_inputs(ep, 5)
        got, want = ort(*inputs), eager(*inputs)
        assert len(got) == len(want) == len(ep.outputs)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype == np.float32
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_runner_returns_the_graphs_dtype(exported: Exporter) -> None:
    path = exported("dcgan-mnist", "generate", uint8_output=True).onnx_path
    runner = make_runner("onnxruntime", "dcgan-mnist", artifact=path, threads=1)
    (out,) = runner(*sample_inputs(runner.entry, 2))
    assert out.dtype == np.uint8 and out.shape == (2, 32, 32, 1)


@pytest.mark.slow
def test_compile_engine_runs_the_compiled_graph(
    random_module: Callable[[str], nn.Module],
) -> None:
    """``compile``: torch.compile really compiles the entry point, and it gives eager's images."""
    import torch._dynamo

    module = random_module("dcgan-mnist")
    compiled = make_runner("compile", "dcgan-mnist", module=module)
    eager = make_runner("torch", "dcgan-mnist", module=module)
    inputs = sample_inputs(compiled.entry, 3)
    torch._dynamo.reset()
    frames = torch._dynamo.utils.counters["frames"]["ok"]  # frames dynamo compiled
    (got,) = compiled(*inputs)
    assert torch._dynamo.utils.counters["frames"]["ok"] > frames, "nothing was compiled"
    (want,) = eager(*inputs)
    assert got.shape == want.shape == (3, 1, 32, 32) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_channels_last_and_compile_mode_reach_the_torch_runner(
    random_module: Callable[[str], nn.Module],
) -> None:
    """channels_last follows half unless given; compile_mode is the compile engine's only."""
    import torch

    module = random_module("dcgan-mnist")
    eager = make_runner("torch", "dcgan-mnist", module=module)
    nhwc = make_runner("torch", "dcgan-mnist", module=copy.deepcopy(module), channels_last=True)
    assert isinstance(eager, TorchRunner) and isinstance(nhwc, TorchRunner)
    assert not eager.channels_last and nhwc.channels_last and nhwc.dtype == torch.float32
    kernels = [p for p in nhwc.module.parameters() if p.dim() == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    inputs = sample_inputs(eager.entry, 3)
    np.testing.assert_allclose(nhwc(*inputs)[0], eager(*inputs)[0], rtol=1e-4, atol=1e-5)
    with pytest.raises(InvalidInputError, match="compile_mode is an option of the compile"):
        make_runner("torch", "dcgan-mnist", module=module, compile_mode="reduce-overhead")
    with pytest.raises(InvalidInputError, match="channels_last is an option of the torch"):
        make_runner("onnxruntime", "dcgan-mnist", channels_last=True)


def test_runner_inputs_are_cast_and_counted(
    exported: Exporter, random_module: Callable[[str], nn.Module]
) -> None:
    path = exported("cgan-mnist", "generate").onnx_path
    runner = make_runner("onnxruntime", "cgan-mnist", artifact=path, threads=1)
    z, label = sample_inputs(runner.entry, 3)
    (a,) = runner(z.astype(np.float64), label.astype(np.int32))
    (ref,) = torch_reference(
        random_module("cgan-mnist"), runner.entry, (z, label), uint8_output=False
    )
    np.testing.assert_allclose(a, ref, atol=1e-5)
    with pytest.raises(InvalidInputError, match=r"takes 2 input\(s\) \(z, label\), got 1"):
        runner(z)


def test_missing_onnx_says_to_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path))
    with pytest.raises(ArtifactNotFoundError, match="zoo export vae-mnist --format onnx") as e:
        make_runner("onnxruntime", "vae-mnist", "encode")
    assert str(tmp_path / "vae-mnist_encode" / "1" / "model.onnx") in str(e.value)


def test_missing_engine_says_to_build_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path))
    with pytest.raises(ArtifactNotFoundError, match="zoo export dcgan-mnist --format tensorrt"):
        make_runner("tensorrt", "dcgan-mnist")


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            ("tflite", "dcgan-mnist"),
            InvalidNameError,
            "unknown engine 'tflite'; choose one of torch, compile",
        ),
        (("onnxruntime", "dcgan-mnst"), KeyError, "Did you mean: dcgan-mnist"),
        (("onnxruntime", "vae-mnist", "explode"), InvalidNameError, "offers sample, encode"),
    ],
)
def test_bad_engine_model_or_entry(args: tuple[str, ...], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make_runner(*args)


def test_every_listed_engine_is_one_make_runner_builds(
    exported: Exporter, random_module: Callable[[str], nn.Module], tmp_path: Path
) -> None:
    """ENGINES is what make_runner dispatches on: each name builds its runner class."""
    module = random_module("dcgan-mnist")
    onnx = exported("dcgan-mnist", "generate").onnx_path
    built = {
        "torch": make_runner("torch", "dcgan-mnist", module=module),
        "compile": make_runner("compile", "dcgan-mnist", module=module),
        "onnxruntime": make_runner("onnxruntime", "dcgan-mnist", artifact=onnx, threads=1),
        "openvino": make_runner("openvino", "dcgan-mnist", artifact=onnx, threads=1),
        "openvino-bf16": make_runner("openvino-bf16", "dcgan-mnist", artifact=onnx, threads=1),
    }
    assert isinstance(built["torch"], TorchRunner) and isinstance(built["compile"], TorchRunner)
    assert isinstance(built["onnxruntime"], OrtRunner)
    assert isinstance(built["openvino"], OpenVinoRunner)
    assert isinstance(built["openvino-bf16"], OpenVinoRunner)
    # TensorRT gets as far as looking for its engine (none here; built on GPU hosts).
    with pytest.raises(ArtifactNotFoundError, match="TensorRT engine"):
        make_runner("tensorrt", "dcgan-mnist", artifact=tmp_path / "model.plan")
    assert set(ENGINES) == {*built, "tensorrt"}
    # Each engine's file is where InProcessZoo and the Triton Python model look for it.
    artifacts = {name: b.artifact_in(tmp_path) for name, b in ENGINES.items()}
    assert artifacts == {
        "torch": None,
        "compile": None,
        "onnxruntime": tmp_path / "model.onnx",
        "openvino": tmp_path / "model.onnx",
        "openvino-bf16": tmp_path / "model.onnx",
        "tensorrt": tmp_path / "model.plan",
    }
