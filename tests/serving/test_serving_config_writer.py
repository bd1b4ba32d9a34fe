"""The repository writer's configs, field by field, and how it writes and prunes folders.

No export and no server: only ``config.pbtxt`` files, checked against Triton's own
``ModelConfig`` protobuf (from tritonclient).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from google.protobuf.text_format import ParseError

from export.artifacts import IR_NAME
from serving.server.repository import (
    HEADER,
    RepositoryOptions,
    _pb,
    _remove_stale,
    embedded_config,
    model_configs,
    native_configs,
    parse_config,
    render_config,
    write_configs,
)
from zoo.errors import InvalidInputError, InvalidNameError, MissingDependencyError
from zoo.registry import EntryPoint, TensorSpec, get_spec

KIND_GPU, KIND_CPU = 1, 2  # ModelInstanceGroup.Kind in Triton's model_config.proto


def entry(model: str, name: str | None = None):
    return get_spec(model).entry_point(name)


def params(cfg) -> dict[str, str]:
    return {k: v.string_value for k, v in cfg.parameters.items()}


def tensors(msgs) -> list[tuple[str, int, list[int], bool]]:
    """(name, data type, dims, has a reshape) of each input or output."""
    return [(t.name, t.data_type, list(t.dims), t.HasField("reshape")) for t in msgs]


INT64, UINT8, FP32 = 9, 2, 11  # DataType values in model_config.proto


def test_options_bounds() -> None:
    RepositoryOptions(max_batch_size=1, preferred_batch_sizes=(1,), instances=1, threads=1)
    RepositoryOptions(max_batch_size=8, preferred_batch_sizes=(1, 8))
    RepositoryOptions(native=True, engine="tensorrt")
    for engine in ("onnxruntime", "openvino", "openvino-bf16", "torch", "tensorrt"):
        RepositoryOptions(engine=engine)
    RepositoryOptions(native=True, engine="openvino")
    for bad in ({"max_batch_size": 0}, {"instances": 0}, {"threads": 0}):
        with pytest.raises(
            InvalidInputError, match=r"^max_batch_size, instances and threads must be at least 1\.$"
        ):
            RepositoryOptions(preferred_batch_sizes=(), **bad)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInputError, match=r"^preferred batch sizes must lie in 1\.\.max_batch_size \(8\)\.$"
    ):
        RepositoryOptions(max_batch_size=8, preferred_batch_sizes=(4, 9))
    with pytest.raises(InvalidInputError, match="preferred"):
        RepositoryOptions(preferred_batch_sizes=(0, 16))
    RepositoryOptions(engine="torch", half=True)
    for engine in ("onnxruntime", "tensorrt"):
        with pytest.raises(
            InvalidInputError, match=r"^half \(float16\) is an option of the torch engine only\.$"
        ):
            RepositoryOptions(engine=engine, half=True)
    with pytest.raises(
        InvalidNameError,
        match=r"^engine 'torch' is not available for the native repository; "
        r"choose one of onnxruntime, tensorrt, openvino\.$",
    ):
        RepositoryOptions(native=True, engine="torch")
    with pytest.raises(
        InvalidNameError,
        match=r"the embedded repository; choose one of onnxruntime, openvino, openvino-bf16, "
        r"torch, tensorrt\.$",
    ):
        RepositoryOptions(engine="tvm")


def test_embedded_config_follows_the_options() -> None:
    opts = RepositoryOptions(
        engine="torch",
        max_batch_size=32,
        preferred_batch_sizes=(4, 32),
        max_queue_delay_us=250,
        instances=3,
        threads=2,
        response_cache=False,
    )
    cfg = embedded_config("cgan-mnist", entry("cgan-mnist"), opts, sha256="ab" * 32)
    assert cfg.name == "cgan-mnist" and cfg.backend == "python" and cfg.platform == ""
    assert cfg.max_batch_size == 32
    assert [(g.count, g.kind) for g in cfg.instance_group] == [(3, KIND_CPU)]
    assert list(cfg.dynamic_batching.preferred_batch_size) == [4, 32]
    assert cfg.dynamic_batching.max_queue_delay_microseconds == 250
    assert tensors(cfg.input) == [("seed", INT64, [1], False), ("label", INT64, [1], False)]
    assert tensors(cfg.output) == [("image", UINT8, [32, 32, 1], False)]
    assert params(cfg) == {
        "zoo_model": "cgan-mnist",
        "zoo_entry": "generate",
        "zoo_label_classes": "10",  # the range the SDK checks labels against
        "zoo_backend": "torch",
        "zoo_threads": "2",
        "zoo_sha256": "ab" * 32,
    }
    assert not cfg.response_cache.enable  # turned off by the options
    cached = embedded_config("cgan-mnist", entry("cgan-mnist"), RepositoryOptions())
    assert cached.response_cache.enable and "zoo_sha256" not in params(cached)
    assert params(cached)["zoo_threads"] == "1"
    encode = embedded_config("vae-mnist", entry("vae-mnist", "encode"), RepositoryOptions())
    assert encode.name == "vae-mnist_encode" and not encode.response_cache.enable


def test_embedded_config_of_a_variant_on_a_gpu_host() -> None:
    opts = RepositoryOptions(engine="torch", device="cuda", half=True)
    variant = {"z_dim": 32, "resolution": 64}  # not in sorted order: the parameter sorts them
    cfg = embedded_config("dcgan-mnist", entry("dcgan-mnist"), opts, overrides=variant)
    assert params(cfg) == {
        "zoo_model": "dcgan-mnist",
        "zoo_entry": "generate",
        "zoo_backend": "torch",
        "zoo_threads": "1",
        "zoo_config": '{"resolution": 64, "z_dim": 32}',  # the runner builds this variant
        "zoo_device": "cuda",
        "zoo_half": "true",
    }
    assert [(g.count, g.kind) for g in cfg.instance_group] == [(1, KIND_CPU)]  # a Python model


def test_variants_reach_every_config(tmp_path: Path) -> None:
    variant = {"dcgan-mnist": {"resolution": 64}}
    configs = model_configs(["dcgan-mnist"], overrides=variant)
    for _, _, cfg in configs.values():
        assert tensors(cfg.output) == [("image", UINT8, [64, 64, 1], False)]
        assert params(cfg)["zoo_config"] == '{"resolution": 64}'
    (path, _) = write_configs(tmp_path, ["dcgan-mnist"], overrides=variant)
    cfg = parse_config(path.read_text())
    assert tensors(cfg.output) == [("image", UINT8, [64, 64, 1], False)]
    assert params(cfg)["zoo_config"] == '{"resolution": 64}'


def test_native_seeded_model_is_pre_net_ensemble() -> None:
    opts = RepositoryOptions(
        native=True, instances=2, max_batch_size=16, preferred_batch_sizes=(16,)
    )
    configs = native_configs("cgan-mnist", entry("cgan-mnist"), opts)
    assert list(configs) == ["cgan-mnist", "cgan-mnist_pre", "cgan-mnist_net"]
    ens, pre, net = configs["cgan-mnist"], configs["cgan-mnist_pre"], configs["cgan-mnist_net"]

    assert ens.name == "cgan-mnist" and ens.platform == "ensemble" and ens.max_batch_size == 16
    assert tensors(ens.input) == [("seed", INT64, [1], False), ("label", INT64, [1], False)]
    assert tensors(ens.output) == [("image", UINT8, [32, 32, 1], False)]
    assert ens.response_cache.enable and not pre.response_cache.enable
    assert not net.response_cache.enable
    assert not ens.instance_group  # an ensemble has no instances of its own
    first, second = ens.ensemble_scheduling.step
    assert (first.model_name, first.model_version) == ("cgan-mnist_pre", -1)
    assert dict(first.input_map) == {"seed": "seed", "label": "label"}
    assert dict(first.output_map) == {"z": "graph_z", "label": "graph_label"}
    assert (second.model_name, second.model_version) == ("cgan-mnist_net", -1)
    assert dict(second.input_map) == {"z": "graph_z", "label": "graph_label"}
    assert dict(second.output_map) == {"image": "image"}

    assert pre.backend == "python" and pre.max_batch_size == 16
    assert [(g.count, g.kind) for g in pre.instance_group] == [(2, KIND_CPU)]
    assert tensors(pre.input) == tensors(ens.input)
    assert tensors(pre.output) == [("z", FP32, [64], False), ("label", INT64, [1], False)]
    assert params(pre) == {"zoo_entry": "generate", "zoo_scalar_inputs": "label"}

    assert net.platform == "onnxruntime_onnx" and net.backend == ""
    assert [(g.count, g.kind) for g in net.instance_group] == [(2, KIND_GPU)]
    assert list(net.dynamic_batching.preferred_batch_size) == [16]
    # The scalar label is [1] in the request and () in the graph: a reshape says so.
    assert tensors(net.input) == [("z", FP32, [64], False), ("label", INT64, [1], True)]
    assert tensors(net.output) == [("image", UINT8, [32, 32, 1], False)]

    trt = native_configs(
        "dcgan-mnist", entry("dcgan-mnist"), RepositoryOptions(native=True, engine="tensorrt")
    )
    assert trt["dcgan-mnist_net"].platform == "tensorrt_plan"
    assert params(trt["dcgan-mnist_pre"])["zoo_scalar_inputs"] == ""


def test_native_model_without_preprocessing_is_served_alone() -> None:
    configs = native_configs(
        "vae-mnist", entry("vae-mnist", "decode"), RepositoryOptions(native=True)
    )
    assert list(configs) == ["vae-mnist_decode"]
    (net,) = configs.values()
    assert net.name == "vae-mnist_decode" and net.platform == "onnxruntime_onnx"
    assert tensors(net.input) == [("latent", FP32, [16], False)]
    assert tensors(net.output) == [("image", UINT8, [32, 32, 1], False)]
    assert not net.response_cache.enable  # not seed-driven


def test_native_openvino_model_runs_on_cpu_with_the_runners_options() -> None:
    opts = RepositoryOptions(native=True, engine="openvino", threads=3, instances=2)
    (net,) = native_configs("vae-mnist", entry("vae-mnist", "decode"), opts).values()
    assert net.backend == "openvino" and net.platform == ""
    assert net.default_model_filename == IR_NAME
    assert [(g.count, g.kind) for g in net.instance_group] == [(2, KIND_CPU)]
    assert params(net) == {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": "3"}


def test_native_renamed_output_maps_back_to_the_wire_name() -> None:
    configs = native_configs(
        "cyclegan-digits", entry("cyclegan-digits", "translate_b2a"), RepositoryOptions(native=True)
    )
    ens = configs["cyclegan-digits_translate_b2a"]
    net = configs["cyclegan-digits_translate_b2a_net"]
    assert [t.name for t in net.output] == ["image_out"]
    assert [t.name for t in ens.output] == ["image"]
    assert dict(ens.ensemble_scheduling.step[-1].output_map) == {"image_out": "image"}
    assert dict(ens.ensemble_scheduling.step[-1].input_map) == {"image": "graph_image"}
    assert not ens.response_cache.enable  # image input: not seed-driven


def test_native_configs_of_signatures_the_zoo_does_not_have_yet() -> None:
    """Branches no shipped entry point reaches: the entry points are written out here."""
    latent = TensorSpec("latent", "float32", (16,))
    # An output named like its input and nothing to convert: the net alone would do, but ONNX
    # renamed the output, so an ensemble maps it back (and no _pre step is made).
    clash = EntryPoint("decode", (latent,), (latent,))
    configs = native_configs("vae-mnist", clash, RepositoryOptions(native=True))
    assert list(configs) == ["vae-mnist_decode", "vae-mnist_decode_net"]
    ens, net = configs["vae-mnist_decode"], configs["vae-mnist_decode_net"]
    assert [t.name for t in net.output] == ["latent_out"]
    (step,) = ens.ensemble_scheduling.step
    assert step.model_name == "vae-mnist_decode_net"
    assert dict(step.input_map) == {"latent": "latent"} and dict(step.output_map) == {
        "latent_out": "latent"
    }
    # A scalar output gets dims [1] and a reshape, like a scalar input.
    scored = EntryPoint("decode", (latent,), (TensorSpec("score", "float32", ()),))
    (net,) = native_configs("vae-mnist", scored, RepositoryOptions(native=True)).values()
    assert tensors(net.output) == [("score", FP32, [1], True)]
    # A label the graph takes as it comes: the net is served alone, and declares the classes.
    labelled = EntryPoint(
        "decode",
        (latent, TensorSpec("label", "int64", (1,), classes=10)),
        (TensorSpec("image", "float32", (1, 4, 4)),),
    )
    (net,) = native_configs("vae-mnist", labelled, RepositoryOptions(native=True)).values()
    assert net.name == "vae-mnist_decode" and params(net) == {"zoo_label_classes": "10"}
    # Several scalar inputs are listed for the _pre step, comma-separated.
    two = EntryPoint(
        "generate",
        (
            TensorSpec("z", "float32", (8,)),
            TensorSpec("label", "int64", (), classes=10),
            TensorSpec("psi", "float32", ()),
        ),
        (TensorSpec("image", "float32", (1, 4, 4)),),
    )
    pre = native_configs("cgan-mnist", two, RepositoryOptions(native=True))["cgan-mnist_pre"]
    assert params(pre)["zoo_scalar_inputs"] == "label,psi"


def test_missing_tritonclient_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tritonclient.grpc", None)  # `import` now raises ImportError
    with pytest.raises(MissingDependencyError) as info:
        _pb()
    assert str(info.value) == (
        "tritonclient is not installed. Install it with `pip install 'genzoo[serve]'`."
    )


def test_render_keeps_unicode_and_refuses_what_does_not_round_trip() -> None:
    cfg = _pb().ModelConfig(name="m")
    cfg.parameters["note"].string_value = "ψ = 0.7"
    assert 'string_value: "ψ = 0.7"' in render_config(cfg)  # readable, not octal escapes
    cfg.sequence_batching.direct.minimum_slot_utilization = float("nan")  # NaN != NaN
    with pytest.raises(RuntimeError, match=r"^config of m does not round-trip through text format"):
        render_config(cfg)


def test_render_and_parse_round_trip() -> None:
    cfg = embedded_config("dcgan-mnist", entry("dcgan-mnist"), RepositoryOptions())
    text = render_config(cfg)
    assert text.startswith(HEADER) and text.count(HEADER) == 1
    assert text.splitlines()[1] == 'name: "dcgan-mnist"'
    assert parse_config(text) == cfg
    with pytest.raises(ParseError):
        parse_config('name: "x"\nno_such_field: 3\n')


def test_model_configs_cover_every_entry_and_route_digests() -> None:
    configs = model_configs(["vae-mnist", "dcgan-mnist"], sha256={"dcgan-mnist": "f" * 64})
    assert sorted(configs) == [
        "dcgan-mnist",
        "dcgan-mnist_interpolate",
        "vae-mnist_decode",
        "vae-mnist_encode",
        "vae-mnist_inpaint",
        "vae-mnist_interpolate",
        "vae-mnist_reconstruct",
        "vae-mnist_sample",
    ]
    model, entry_name, cfg = configs["vae-mnist_inpaint"]
    assert (model, entry_name, cfg.name) == ("vae-mnist", "inpaint", "vae-mnist_inpaint")
    assert "zoo_sha256" not in params(cfg)
    assert params(configs["dcgan-mnist"][2])["zoo_sha256"] == "f" * 64
    native = model_configs(["dcgan-mnist"], RepositoryOptions(native=True))
    assert {n: (m, e) for n, (m, e, _) in native.items()} == {
        "dcgan-mnist": ("dcgan-mnist", "generate"),
        "dcgan-mnist_pre": ("dcgan-mnist", "generate"),
        "dcgan-mnist_net": ("dcgan-mnist", "generate"),
        "dcgan-mnist_interpolate": ("dcgan-mnist", "interpolate"),
        "dcgan-mnist_interpolate_pre": ("dcgan-mnist", "interpolate"),
        "dcgan-mnist_interpolate_net": ("dcgan-mnist", "interpolate"),
    }


def test_write_configs_writes_only_what_changed(tmp_path: Path) -> None:
    paths = write_configs(tmp_path, ["dcgan-mnist", "cgan-mnist"])
    assert paths == [
        tmp_path / name / "config.pbtxt"
        for name in (
            "dcgan-mnist",
            "dcgan-mnist_interpolate",
            "cgan-mnist",
            "cgan-mnist_interpolate",
        )
    ]
    dcgan, cgan = paths[0], paths[2]
    os.utime(dcgan, ns=(1, 1))  # an old file time: a rewrite would change it
    cgan.write_text(HEADER + 'name: "stale"\n')
    os.utime(cgan, ns=(1, 1))
    write_configs(tmp_path, ["dcgan-mnist", "cgan-mnist"])
    assert dcgan.stat().st_mtime_ns == 1  # same text: left alone
    assert cgan.stat().st_mtime_ns != 1
    assert parse_config(cgan.read_text()).name == "cgan-mnist"


def test_write_configs_passes_options_and_digests_on(tmp_path: Path) -> None:
    opts = RepositoryOptions(native=True, max_batch_size=8, preferred_batch_sizes=(8,))
    written = write_configs(tmp_path, ["dcgan-mnist"], opts)
    assert sorted(p.parent.name for p in written) == [
        "dcgan-mnist",
        "dcgan-mnist_interpolate",
        "dcgan-mnist_interpolate_net",
        "dcgan-mnist_interpolate_pre",
        "dcgan-mnist_net",
        "dcgan-mnist_pre",
    ]
    assert (
        parse_config((tmp_path / "dcgan-mnist_net" / "config.pbtxt").read_text()).max_batch_size
        == 8
    )
    paths = write_configs(tmp_path / "torch", ["dcgan-mnist"], sha256={"dcgan-mnist": "0" * 64})
    assert [params(parse_config(p.read_text()))["zoo_sha256"] for p in paths] == ["0" * 64] * 2


def test_write_configs_defaults_to_the_settings_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path / "repo"))
    path = write_configs(models=["dcgan-mnist"])[0]
    assert path == tmp_path / "repo" / "dcgan-mnist" / "config.pbtxt"
    assert parse_config(path.read_text()).name == "dcgan-mnist"


def test_remove_stale_deletes_only_this_writers_old_folders(tmp_path: Path) -> None:
    def folder(name: str, text: str) -> Path:
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.pbtxt").write_text(text)
        return tmp_path / name

    ours = HEADER + 'name: "x"\n'
    stale = [folder("dcgan-mnist_pre", ours), folder("dcgan-mnist_net", ours)]
    kept = [
        folder("dcgan-mnist", ours),  # still built
        folder("dcgan-mnist_custom", 'name: "dcgan-mnist_custom"\n'),  # someone else's
        folder("dcgan-mnistic", ours),  # another model's name, not "<model>_..."
        folder("cgan-mnist_net", ours),  # a model this build does not touch
    ]
    (tmp_path / "loose-folder").mkdir()  # no config.pbtxt at all
    _remove_stale(tmp_path, ["dcgan-mnist", "vae-mnist"], {"dcgan-mnist"})
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept) and (tmp_path / "loose-folder").is_dir()
    _remove_stale(tmp_path / "missing", ["dcgan-mnist"], set())  # no repository yet: nothing to do
