"""The repository writer: configs parse with Triton's protobuf, tracked configs don't drift."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from serving.repository import (
    HEADER,
    RepositoryOptions,
    build_repository,
    model_configs,
    parse_config,
    write_configs,
)
from serving.wire import graph_inputs, wire_inputs, wire_results
from zoo.errors import InvalidInputError, InvalidNameError
from zoo.pipeline import generator_inputs, to_uint8_nhwc
from zoo.registry import get_spec, list_models, triton_model_name

if TYPE_CHECKING:
    from conftest import ProcessTools  # type: ignore[import-not-found]

TRACKED = Path(__file__).resolve().parents[2] / "model_repository"


def test_tracked_configs_are_what_the_writer_produces(tmp_path: Path) -> None:
    """model_repository/*/config.pbtxt in git == `zoo repo build` output (fails on drift)."""
    written = write_configs(tmp_path)
    tracked = sorted(TRACKED.glob("*/config.pbtxt"))
    assert [p.parent.name for p in tracked] == sorted(p.parent.name for p in written)
    for path in written:
        ours = (TRACKED / path.parent.name / "config.pbtxt").read_text()
        assert ours == path.read_text(), f"{path.parent.name}: run `zoo repo build --configs-only`"


@pytest.mark.parametrize(
    "options",
    [
        RepositoryOptions(),
        RepositoryOptions(backend="torch", instances=2, threads=2),
        RepositoryOptions(backend="tensorrt"),
        RepositoryOptions(native=True),
        RepositoryOptions(native=True, backend="tensorrt"),
    ],
    ids=["embedded-ort", "embedded-torch", "embedded-trt", "native-ort", "native-trt"],
)
def test_every_config_parses_with_tritons_protobuf(
    options: RepositoryOptions, tmp_path: Path
) -> None:
    paths = write_configs(tmp_path, options=options)
    names = {triton_model_name(m, e) for m in list_models() for e in get_spec(m).tasks}
    assert names <= {p.parent.name for p in paths}
    for path in paths:
        text = path.read_text()
        assert text.startswith(HEADER)
        cfg = parse_config(text)
        assert cfg.name == path.parent.name and cfg.max_batch_size == 64
        assert cfg.backend == "python" or cfg.platform in (
            "ensemble",
            "onnxruntime_onnx",
            "tensorrt_plan",
        )


def test_embedded_config_wires_seeds_and_the_cache() -> None:
    configs = model_configs(["stylegan2-mnist", "vae-mnist"])
    _, _, sg = configs["stylegan2-mnist"]
    assert [(t.name, list(t.dims)) for t in sg.input] == [
        ("seed", [1]),
        ("psi", [1]),
        ("mix_seed", [1]),
    ]
    assert [(t.name, list(t.dims)) for t in sg.output] == [("image", [32, 32, 1])]
    assert sg.response_cache.enable and sg.dynamic_batching.max_queue_delay_microseconds > 0
    assert sg.parameters["zoo_backend"].string_value == "onnxruntime"
    _, _, enc = configs["vae-mnist_encode"]
    assert not enc.response_cache.enable  # image inputs are not cached
    assert [t.name for t in enc.output] == ["latent", "logvar"]


def test_native_ensemble_steps_connect() -> None:
    """Ensemble step maps name real tensors of the composing models, end to end."""
    configs = {
        n: c for n, (_, _, c) in model_configs(options=RepositoryOptions(native=True)).items()
    }
    ensembles = {n: c for n, c in configs.items() if c.platform == "ensemble"}
    served = {triton_model_name(m, e) for m in list_models() for e in get_spec(m).tasks}
    assert set(ensembles) == served - {"vae-mnist_decode"}  # a float latent needs no pre-step
    assert configs["vae-mnist_decode"].platform == "onnxruntime_onnx"
    for ens in ensembles.values():
        steps = list(ens.ensemble_scheduling.step)
        produced = {t.name for t in ens.input}
        for step in steps:
            model = configs[step.model_name]
            assert set(step.input_map) == {t.name for t in model.input}
            assert set(step.input_map.values()) <= produced  # fed by the request or a step before
            assert set(step.output_map) == {t.name for t in model.output}
            produced |= set(step.output_map.values())
        assert {t.name for t in ens.output} <= produced
        net = configs[steps[-1].model_name]
        assert net.instance_group[0].kind == 1  # KIND_GPU
    # CycleGAN's graph output is "image_out" (ONNX forbids an output named like an input).
    net = configs["cyclegan-digits_translate_a2b_net"]
    assert [t.name for t in net.output] == ["image_out"]
    assert [t.name for t in configs["cyclegan-digits_translate_a2b"].output] == ["image"]


def test_options_are_validated() -> None:
    with pytest.raises(InvalidNameError, match="onnxruntime, tensorrt"):
        RepositoryOptions(native=True, backend="torch")
    with pytest.raises(InvalidNameError):
        RepositoryOptions(backend="tvm")
    with pytest.raises(InvalidInputError, match="preferred"):
        RepositoryOptions(max_batch_size=8, preferred_batch_sizes=(16,))


def test_wire_conversion_matches_the_pipeline(model_name: str) -> None:
    """graph_inputs(wire) is exactly what zoo.pipeline feeds the graph in-process."""
    rng = np.random.default_rng(0)
    for entry in get_spec(model_name).entry_points:
        wire = {}
        for w in wire_inputs(entry):
            if w.name in ("seed", "mix_seed", "label"):
                wire[w.name] = rng.integers(0, 10, (3, 1)).astype(np.int64)
            elif w.dtype == "uint8":
                wire[w.name] = rng.integers(0, 256, (3, *w.dims)).astype(np.uint8)
            else:
                wire[w.name] = rng.standard_normal((3, *w.dims)).astype(np.float32)
        graph = graph_inputs(entry, wire)
        assert [a.shape[1:] for a in graph] == [t.shape for t in entry.inputs]
        if "seed" in wire:
            expected = generator_inputs(
                entry,
                wire["seed"][:, 0],
                labels=wire["label"][:, 0] if "label" in wire else None,
                psi=wire["psi"][:, 0] if "psi" in wire else None,
                mix_seeds=wire["mix_seed"][:, 0] if "mix_seed" in wire else None,
            )
            for a, b in zip(graph, expected, strict=True):
                np.testing.assert_array_equal(a, b)
        # Float image outputs become the uint8 NHWC bytes users get.
        outs = [rng.uniform(-1, 1, (3, *t.shape)).astype(np.float32) for t in entry.outputs]
        for t, a, r in zip(entry.outputs, outs, wire_results(entry, outs), strict=True):
            if len(t.shape) == 3:
                np.testing.assert_array_equal(r, to_uint8_nhwc(a))


def test_torch_backend_serves_checked_weights(
    tmp_path: Path, serving_modules: dict, proc: ProcessTools
) -> None:
    """`--backend torch`: the weights are saved beside model.py with their sha256, and served."""
    from serving.client import ZooClient
    from serving.inprocess import InProcessZoo
    from serving.server import TritonServer
    from zoo.weights import sha256_file

    (item,) = build_repository(
        ["dcgan-mnist"],
        out_dir=tmp_path,
        options=RepositoryOptions(backend="torch"),
        modules=serving_modules,
    )
    cfg = parse_config((item.path / "config.pbtxt").read_text())
    assert cfg.parameters["zoo_backend"].string_value == "torch"
    weights = item.path / "1" / "model.safetensors"
    assert cfg.parameters["zoo_sha256"].string_value == sha256_file(weights)
    with (
        TritonServer(proc.config(tmp_path), log_file=tmp_path / "log.txt") as server,
        ZooClient(server.grpc_url, protocol="grpc") as zoo,
    ):
        served = zoo.generate("dcgan-mnist", range(20))
    local = InProcessZoo("torch", modules=serving_modules).generate("dcgan-mnist", range(20))
    np.testing.assert_array_equal(served, local)  # torch on both sides: identical bytes


def test_rebuild_removes_stale_models_and_keeps_fresh_exports(
    serving_repo: Path, serving_modules: dict, tmp_path: Path
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(serving_repo, repo)
    before = sorted(p.name for p in repo.iterdir())
    # Leftovers of an earlier native build of dcgan-mnist, and a folder someone else made.
    write_configs(repo, ["dcgan-mnist"], RepositoryOptions(native=True))
    (repo / "dcgan-mnist_custom").mkdir()
    (repo / "dcgan-mnist_custom" / "config.pbtxt").write_text('name: "dcgan-mnist_custom"\n')
    onnx = repo / "dcgan-mnist" / "1" / "model.onnx"
    mtime = onnx.stat().st_mtime_ns
    messages: list[str] = []
    build_repository(
        ["dcgan-mnist"], out_dir=repo, modules=serving_modules, progress=messages.append
    )
    assert onnx.stat().st_mtime_ns == mtime  # same weights, same options: not re-exported
    assert any("up to date" in m for m in messages)
    assert sorted(p.name for p in repo.iterdir()) == sorted([*before, "dcgan-mnist_custom"])
