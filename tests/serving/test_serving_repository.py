"""The repository writer: configs parse with Triton's protobuf, tracked configs don't drift."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from serving.server.repository import (
    HEADER,
    RepositoryOptions,
    build_repository,
    model_configs,
    parse_config,
    write_configs,
)
from serving.server.wire import graph_inputs, wire_inputs, wire_results
from zoo.errors import InvalidInputError, InvalidNameError
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
        RepositoryOptions(engine="torch", instances=2, threads=2),
        RepositoryOptions(engine="tensorrt"),
        RepositoryOptions(native=True),
        RepositoryOptions(native=True, engine="tensorrt"),
    ],
    ids=["embedded-ort", "embedded-torch", "embedded-trt", "native-ort", "native-trt"],
)
def test_every_config_parses_with_tritons_protobuf(
    options: RepositoryOptions, tmp_path: Path
) -> None:
    paths = write_configs(tmp_path, options=options)
    names = {triton_model_name(m, e) for m in list_models() for e in get_spec(m).entry_names}
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
    served = {triton_model_name(m, e) for m in list_models() for e in get_spec(m).entry_names}
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
        RepositoryOptions(native=True, engine="torch")
    with pytest.raises(InvalidNameError):
        RepositoryOptions(engine="tvm")
    with pytest.raises(InvalidInputError, match="preferred"):
        RepositoryOptions(max_batch_size=8, preferred_batch_sizes=(16,))


_M64 = 2**64 - 1


def _splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def latent_by_hand(seed: int, dim: int) -> list[float]:
    """The seed → latent rule as zoo.latent's docstring states it, in plain Python integers."""
    key = _splitmix64(seed) ^ _splitmix64(0)  # stream 0: generator latents
    u = [((_splitmix64((key + j) & _M64) >> 11) + 0.5) / 2**53 for j in range(2 * dim)]
    return [
        math.sqrt(-2 * math.log(u[2 * k])) * math.cos(2 * math.pi * u[2 * k + 1])
        for k in range(dim)
    ]


def test_wire_conversion_follows_the_rules(model_name: str) -> None:
    """graph_inputs(wire) against values worked out from serving.server.wire's rules by hand."""
    rng = np.random.default_rng(0)
    seeds, mix_seeds = [0, 7, 2**63 - 1], [5, 5, 123456789]
    for entry in get_spec(model_name).entry_points:
        wire: dict[str, np.ndarray] = {}
        want: dict[str, np.ndarray] = {}  # per graph input
        for t, w in zip(entry.inputs, wire_inputs(entry), strict=True):
            if t.name == "z":
                wire[w.name] = np.array([[s] for s in seeds], np.int64)
                want[t.name] = np.array([latent_by_hand(s, t.shape[0]) for s in seeds])
            elif t.name == "mix_z":
                wire[w.name] = np.array([[s] for s in mix_seeds], np.int64)
                want[t.name] = np.array([latent_by_hand(s, t.shape[0]) for s in mix_seeds])
            elif t.name == "z_to":  # interpolation's end seed
                wire[w.name] = np.array([[s] for s in mix_seeds[::-1]], np.int64)
                want[t.name] = np.array([latent_by_hand(s, t.shape[0]) for s in mix_seeds[::-1]])
            elif t.name == "t":
                wire[w.name] = np.array([[0.0], [0.25], [1.0]], np.float32)
                want[t.name] = np.array([0.0, 0.25, 1.0])
            elif t.name == "mix_layer":
                wire[w.name] = np.array([[0], [4], [8]], np.int64)
                want[t.name] = np.array([0, 4, 8])
            elif t.name == "label":
                wire[w.name] = np.array([[3], [0], [9]], np.int64)
                want[t.name] = np.array([3, 0, 9])
            elif t.name == "psi":
                wire[w.name] = np.array([[0.5], [1.0], [-2.0]], np.float32)
                want[t.name] = np.array([0.5, 1.0, -2.0])
            elif t.name == "mask":  # uint8 NHWC, nonzero = known → float NCHW 0/1
                wire[w.name] = np.resize(np.array([0, 1, 7, 255], np.uint8), (3, *w.dims))
                want[t.name] = np.resize([0.0, 1.0, 1.0, 1.0], (3, *w.dims)).transpose(0, 3, 1, 2)
            elif w.dtype == "uint8":  # image: uint8 NHWC → float NCHW, 0 → -1, 255 → 1
                wire[w.name] = np.resize(np.array([0, 51, 204, 255], np.uint8), (3, *w.dims))
                want[t.name] = np.resize([-1.0, -0.6, 0.6, 1.0], (3, *w.dims)).transpose(0, 3, 1, 2)
            else:  # latent codes and ws travel as they are
                wire[w.name] = rng.standard_normal((3, *w.dims)).astype(np.float32)
                want[t.name] = wire[w.name]
        graph = graph_inputs(entry, wire)
        assert len(graph) == len(entry.inputs)
        for t, got in zip(entry.inputs, graph, strict=True):
            assert got.shape == (3, *t.shape) and got.dtype == np.dtype(t.dtype), t.name
            np.testing.assert_allclose(got, want[t.name], rtol=1e-6, atol=1e-6, err_msg=t.name)


def test_wire_results_turn_float_images_into_bytes() -> None:
    """Float NCHW in [-1, 1] → uint8 NHWC, round((x + 1) * 127.5) clipped; others unchanged."""
    vae = get_spec("vae-mnist")
    entry = vae.entry_point("decode")  # one float image output (1, 32, 32)
    floats = np.resize(np.array([-1, -0.6, 0, 0.6, 1, 2, -3], np.float32), (2, 1, 32, 32))
    (got,) = wire_results(entry, [floats])
    want = np.resize(np.array([0, 51, 128, 204, 255, 255, 0], np.uint8), (2, 1, 32, 32))
    np.testing.assert_array_equal(got, want.transpose(0, 2, 3, 1))
    assert got.dtype == np.uint8
    uint8 = np.arange(2 * 32 * 32, dtype=np.uint8).reshape(2, 32, 32, 1)
    assert wire_results(entry, [uint8])[0] is uint8  # a uint8 graph already returns the bytes
    encode = vae.entry_point("encode")
    codes = np.arange(2 * 16, dtype=np.float32).reshape(2, 16)
    np.testing.assert_array_equal(wire_results(encode, [codes, -codes])[1], -codes)


def test_torch_engine_serves_checked_weights(
    tmp_path: Path, serving_modules: dict, proc: ProcessTools
) -> None:
    """`--engine torch`: the weights are saved beside model.py with their sha256, and served."""
    from serving.client import ZooClient
    from serving.server.inprocess import InProcessZoo
    from serving.server.triton import TritonServer
    from zoo.weights import sha256_file

    built = build_repository(
        ["dcgan-mnist"],
        out_dir=tmp_path,
        options=RepositoryOptions(engine="torch"),
        modules=serving_modules,
    )
    (item,) = [b for b in built if b.path.name == "dcgan-mnist"]  # interpolate is the other
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
