"""TensorRT: manifest, staleness and fp16 fallback search for real; engine builds need a GPU."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from export.artifacts import ENGINE_MANIFEST_NAME
from export.tensorrt import (
    BuildOptions,
    EngineManifest,
    find_fp32_layers,
    read_manifest,
    require_tensorrt,
    stale_reasons,
    write_manifest,
)
from zoo.errors import ExportGateError, MissingDependencyError

try:
    import tensorrt  # noqa: F401

    HAVE_TRT = True
except ImportError:
    HAVE_TRT = False

NO_TRT = "TensorRT is not installable on this CPU machine"

HOST = {
    "tensorrt": "10.9.0",
    "cuda": "12.8",
    "driver": "12.8",
    "gpu": "NVIDIA H100 80GB HBM3",
    "compute_capability": "9.0",
}


def _manifest(**changes: Any) -> EngineManifest:
    base = EngineManifest(
        host=dict(HOST),
        onnx_file="model.onnx",
        onnx_sha256="a" * 64,
        options=BuildOptions(fp16=True, fp32_layers=("conv_1", "mul_3")),
        engine_sha256="b" * 64,
        built="2026-01-01T00:00:00+00:00",
    )
    return EngineManifest(**{**base.__dict__, **changes})


def test_matching_manifest_is_not_stale() -> None:
    m = _manifest()
    assert stale_reasons(m, dict(HOST), "a" * 64, m.options) == []
    assert stale_reasons(m, dict(HOST), None) == []  # graph gone: judged by the host alone


@pytest.mark.parametrize("key", sorted(HOST))
def test_any_host_change_makes_the_engine_stale(key: str) -> None:
    host = {**HOST, key: "something else"}
    (reason,) = stale_reasons(_manifest(), host, "a" * 64)
    assert reason.startswith(key) and "something else" in reason


def test_changed_graph_options_or_missing_manifest_are_stale() -> None:
    m = _manifest()
    assert stale_reasons(m, dict(HOST), "c" * 64) == ["the ONNX graph changed since the build"]
    other = BuildOptions(fp16=True, max_batch=128, fp32_layers=("conv_1", "mul_3"))
    assert stale_reasons(m, dict(HOST), "a" * 64, other) == ["build options changed"]
    assert stale_reasons(None, dict(HOST), "a" * 64) == ["no readable engine manifest"]


def test_manifest_round_trips_through_engine_json(tmp_path: Path) -> None:
    engine = tmp_path / "model.plan"
    m = _manifest(parity={"passed": True, "rel_l2": 1e-3}, notes=["rebuilt: driver changed"])
    write_manifest(engine, m)
    data = json.loads((tmp_path / ENGINE_MANIFEST_NAME).read_text())
    assert data["host"] == HOST and data["options"]["fp32_layers"] == ["conv_1", "mul_3"]
    assert read_manifest(engine) == m
    (tmp_path / ENGINE_MANIFEST_NAME).write_text("{not json")
    assert read_manifest(engine) is None
    assert read_manifest(tmp_path / "elsewhere" / "model.plan") is None


@pytest.mark.parametrize(
    "kwargs", [{"min_batch": 0}, {"opt_batch": 100, "max_batch": 64}, {"workspace_mib": 0}]
)
def test_impossible_build_options_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        BuildOptions(**kwargs)


def _gate(responsible: set[str], calls: list[frozenset[str]]) -> Callable[[frozenset[str]], bool]:
    def passes(fp32: frozenset[str]) -> bool:
        calls.append(fp32)
        return responsible <= fp32

    return passes


@pytest.mark.parametrize(
    "responsible", [set(), {"l0"}, {"l5"}, {"l3", "l40"}, {"l10", "l11", "l62"}]
)
def test_fp32_fallback_search_finds_exactly_the_responsible_layers(responsible: set[str]) -> None:
    layers = [f"l{i}" for i in range(64)]
    calls: list[frozenset[str]] = []
    found = find_fp32_layers(layers, _gate(responsible, calls))
    assert set(found) == responsible
    assert found == [name for name in layers if name in responsible]  # network order
    assert len(calls) < len(layers)  # a search, not one build per layer


def test_fp32_fallback_search_gives_up_when_even_fp32_fails() -> None:
    with pytest.raises(ExportGateError, match="even with every layer in float32"):
        find_fp32_layers(["a", "b"], lambda keep: False)


@pytest.mark.skipif(HAVE_TRT, reason="TensorRT is installed; this checks the hint where it is not")
def test_missing_tensorrt_raises_the_install_hint() -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install 'genzoo\[tensorrt\]'"):
        require_tensorrt()


@pytest.mark.skipif(not HAVE_TRT, reason=NO_TRT)
@pytest.mark.gpu
@pytest.mark.parametrize("fp16", [False, True])
def test_engine_builds_passes_the_gate_and_is_rebuilt_when_stale(
    fp16: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    random_module: Callable[[str], Any],
) -> None:
    import torch

    from export.gates import parity_inputs
    from export.runners import make_runner
    from export.tensorrt import build_tensorrt, load_engine

    if not torch.cuda.is_available():
        pytest.skip("TensorRT is installed but no CUDA device is visible")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    res = build_tensorrt(
        "dcgan-mnist",
        module=random_module("dcgan-mnist"),
        out_dir=tmp_path / "dcgan-mnist" / "1",
        options=BuildOptions(max_batch=16, fp16=fp16),
        parity_n=16,
    )
    assert res.parity.passed and res.parity.backend == "tensorrt"
    assert res.parity.precision == ("fp16" if fp16 else "fp32")
    assert (tmp_path / "home" / "tensorrt" / "timing.cache").is_file()
    runner = make_runner("tensorrt", "dcgan-mnist", artifact=res.engine_path)
    (out,) = runner(*parity_inputs(runner.entry, 3))
    assert out.shape == (3, 1, 32, 32)

    manifest = read_manifest(res.engine_path)
    assert manifest is not None and manifest.parity is not None
    write_manifest(
        res.engine_path,
        EngineManifest(**{**manifest.__dict__, "host": {**manifest.host, "gpu": "another GPU"}}),
    )
    load_engine(res.engine_path)
    rebuilt = read_manifest(res.engine_path)
    assert rebuilt is not None and rebuilt.notes[0].startswith("rebuilt: gpu")
