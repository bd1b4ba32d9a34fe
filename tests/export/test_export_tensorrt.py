"""TensorRT: manifest, staleness and fp16 fallback search for real; engine builds need a GPU.

Where TensorRT cannot be installed (every CPU machine here), the build logic runs against
``tensorrt_standin`` (its docstring says what it stands in for) on real ONNX exports.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from export.artifacts import ENGINE_MANIFEST_NAME
from export.tensorrt import find_fp32_layers
from export.tensorrt_engine import (
    BuildOptions,
    EngineManifest,
    read_manifest,
    require_tensorrt,
    stale_reasons,
    tensorrt_available,
    write_manifest,
)
from zoo.errors import ExportGateError, MissingDependencyError

HAVE_TRT = tensorrt_available()

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

    from export.runners import make_runner
    from export.samples import sample_inputs
    from export.tensorrt import build_tensorrt
    from export.tensorrt_engine import load_engine

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
    assert res.parity.passed and res.parity.engine == "tensorrt"
    assert res.parity.precision == ("fp16" if fp16 else "fp32")
    assert (tmp_path / "home" / "tensorrt" / "timing.cache").is_file()
    runner = make_runner("tensorrt", "dcgan-mnist", artifact=res.engine_path)
    (out,) = runner(*sample_inputs(runner.entry, 3))
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


# ---------------------------------------------------------------------------------------------
# Detection, and the build logic against the stand-in (tensorrt_standin.py).
# ---------------------------------------------------------------------------------------------


def test_an_importable_tensorrt_without_its_api_is_not_tensorrt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What tensorrt-stubs leaves on sys.path: a tensorrt/ folder of .pyi files, which Python
    # imports as an empty namespace package.
    (tmp_path / "tensorrt").mkdir()
    (tmp_path / "tensorrt" / "__init__.pyi").write_text("class Builder: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tensorrt", raising=False)
    import tensorrt

    assert not hasattr(tensorrt, "Builder")
    assert not tensorrt_available()
    with pytest.raises(MissingDependencyError, match=r"pip install 'genzoo\[tensorrt\]'"):
        require_tensorrt()


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The stand-in as ``tensorrt``; the host fingerprint (it needs a GPU) made settable."""
    import tensorrt_standin

    import export.tensorrt_engine as engine_mod

    monkeypatch.setitem(sys.modules, "tensorrt", tensorrt_standin)
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    host = dict(HOST)
    monkeypatch.setattr(engine_mod, "host_fingerprint", lambda device=0: dict(host))
    return host


def _input_shapes(onnx_path: Path) -> dict[str, list[int]]:
    import onnx

    graph = onnx.load(str(onnx_path)).graph
    weights = {i.name for i in graph.initializer}
    return {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim][1:]
        for v in graph.input
        if v.name not in weights
    }


def test_engine_build_sets_profiles_flags_and_the_timing_cache(
    standin: dict[str, str], exported: Callable[..., Any], tmp_path: Path
) -> None:
    import tensorrt_standin

    from export.tensorrt_engine import build_engine, default_timing_cache, load_engine

    onnx_path = exported("cgan-mnist", "generate").onnx_path
    engine = tmp_path / "model.plan"
    options = BuildOptions(min_batch=2, opt_batch=8, max_batch=32, workspace_mib=256)
    manifest = build_engine(onnx_path, engine, options)
    plan = tensorrt_standin.read_plan(engine.read_bytes())
    want = {
        name: [[n, *rest] for n in (2, 8, 32)] for name, rest in _input_shapes(onnx_path).items()
    }
    assert len(want) == 2 and plan["profiles"] == [want]  # latent and label, batch axis first
    assert plan["workspace"] == 256 << 20 and plan["flags"] == [] and not plan["strongly_typed"]
    assert manifest.host == HOST and manifest.options == options
    assert read_manifest(engine) == manifest
    assert default_timing_cache().read_bytes() == b"standin-timing-cache 1"

    fp16 = BuildOptions(fp16=True, fp32_layers=("no-such-layer",))
    build_engine(onnx_path, engine, fp16)  # the cache is read back and extended
    plan = tensorrt_standin.read_plan(engine.read_bytes())
    assert plan["flags"] == ["FP16", "OBEY_PRECISION_CONSTRAINTS"] and plan["fp32_layers"] == []
    assert default_timing_cache().read_bytes() == b"standin-timing-cache 2"
    assert load_engine(engine, options=fp16).plan == plan  # fresh: loaded as built


def test_a_manifest_that_does_not_match_causes_a_rebuild(
    standin: dict[str, str], exported: Callable[..., Any], tmp_path: Path
) -> None:
    import shutil

    from export.tensorrt_engine import build_engine, load_engine

    onnx_path = tmp_path / "model.onnx"
    shutil.copy(exported("dcgan-mnist", "generate").onnx_path, onnx_path)
    engine = tmp_path / "model.plan"
    build_engine(onnx_path, engine, BuildOptions(max_batch=16))
    built = read_manifest(engine)
    assert built is not None and built.onnx_file == "model.onnx" and built.notes == []

    standin["gpu"] = "NVIDIA H200"  # another GPU
    load_engine(engine)
    rebuilt = read_manifest(engine)
    assert rebuilt is not None and rebuilt.host["gpu"] == "NVIDIA H200"
    assert rebuilt.notes == ["rebuilt: gpu 'NVIDIA H100 80GB HBM3' != 'NVIDIA H200' here"]

    load_engine(engine)  # now it matches: loaded, not rebuilt
    assert read_manifest(engine) == rebuilt

    load_engine(engine, options=BuildOptions(max_batch=32))
    assert read_manifest(engine).notes == ["rebuilt: build options changed"]  # type: ignore[union-attr]

    onnx_path.unlink()  # graph gone, host changed: nothing to rebuild from
    standin["tensorrt"] = "10.14.0"
    with pytest.raises(ExportGateError, match="run `zoo export NAME --format tensorrt`"):
        load_engine(engine)


def test_fp16_falls_back_to_fp32_for_exactly_the_layers_the_gate_needs(
    standin: dict[str, str],
    random_module: Callable[[str], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np
    import tensorrt_standin

    import export.tensorrt as pipeline
    from export.runners import OrtRunner
    from export.tensorrt import FP16_ONNX_DIR, build_tensorrt
    from export.tensorrt_engine import load_engine, network_layers

    out = tmp_path / "dcgan-mnist" / "1"
    responsible: list[str] = []
    builds: list[dict[str, Any]] = []

    class EngineRunner:
        """Runs a stand-in engine's ONNX graph in ONNX Runtime, with the damage fp16 does to
        the ``responsible`` layers unless the engine keeps them in float32 (no GPU here)."""

        def __init__(self, model_name: str, entry: str, engine_path: Path) -> None:
            self.plan = load_engine(engine_path).plan
            builds.append(self.plan)
            manifest = read_manifest(engine_path)
            assert manifest is not None
            self.ort = OrtRunner(
                model_name, entry, engine_path.parent / manifest.onnx_file, check_meta=False
            )
            self.entry = self.ort.entry

        def __call__(self, *inputs: Any) -> tuple[Any, ...]:
            outs = self.ort(*inputs)
            fp16 = self.plan["strongly_typed"] or "FP16" in self.plan["flags"]
            if fp16 and not set(responsible) <= set(self.plan["fp32_layers"]):
                return tuple(o + np.float32(0.2) for o in outs)
            return outs

    monkeypatch.setattr(pipeline, "TensorRTRunner", EngineRunner)
    module = random_module("dcgan-mnist")
    fp32 = build_tensorrt(
        "dcgan-mnist",
        module=module,
        out_dir=out,
        options=BuildOptions(opt_batch=8, max_batch=8),
        parity_n=8,
    )
    assert fp32.parity.passed and fp32.parity.precision == "fp32" and fp32.fp32_layers == ()
    assert len(builds) == 1 and builds[0]["flags"] == []

    layers = network_layers(out / "model.onnx")
    assert len(layers) >= 4
    responsible[:] = [layers[-1], layers[1]]
    builds.clear()
    res = build_tensorrt(
        "dcgan-mnist",
        module=module,
        out_dir=out,
        options=BuildOptions(opt_batch=8, max_batch=8, fp16=True),
        parity_n=8,
    )
    assert builds[0]["strongly_typed"]  # first the fp16 graph, strongly typed
    assert (out / FP16_ONNX_DIR / "model.onnx").is_file()
    assert res.fp32_layers == (layers[1], layers[-1])  # just those, in network order
    assert not res.strongly_typed and res.parity.passed and res.parity.precision == "fp16"
    # After the typed engine, every build is the fp32 graph with the FP16 flag, constrained
    # to keep the layers being tried in float32 (the search's cost: test_fp32_fallback_search_*).
    assert all(not b["strongly_typed"] and b["flags"][0] == "FP16" for b in builds[1:])
    manifest = read_manifest(res.engine_path)
    assert manifest is not None and manifest.parity is not None and manifest.parity["passed"]
    assert manifest.options.fp32_layers == res.fp32_layers
    plan = tensorrt_standin.read_plan(res.engine_path.read_bytes())
    assert plan["fp32_layers"] == list(res.fp32_layers)
    assert plan["flags"] == ["FP16", "OBEY_PRECISION_CONSTRAINTS"]


def test_an_engine_that_failed_its_gate_is_not_loaded(
    standin: dict[str, str], exported: Callable[..., Any], tmp_path: Path
) -> None:
    from export.tensorrt_engine import build_engine, load_engine

    engine = tmp_path / "model.plan"
    build_engine(exported("dcgan-mnist", "generate").onnx_path, engine, BuildOptions())
    m = read_manifest(engine)
    assert m is not None
    write_manifest(engine, EngineManifest(**{**m.__dict__, "parity": {"passed": False}}))
    with pytest.raises(ExportGateError, match="failed its parity gate"):
        load_engine(engine)
