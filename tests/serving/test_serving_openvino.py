"""OpenVINO in the repository: served by the embedded Python model, and Triton's native config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from export.artifacts import IR_NAME, check_ir_artifact
from serving.server.repository import (
    RepositoryOptions,
    build_repository,
    parse_config,
    write_configs,
)
from zoo.registry import get_spec, list_models, triton_model_name

if TYPE_CHECKING:
    from conftest import ProcessTools  # type: ignore[import-not-found]


def test_openvino_engine_is_served_by_triton_and_matches_onnxruntime(
    tmp_path: Path, serving_modules: dict, proc: ProcessTools
) -> None:
    """`--engine openvino`: the embedded stub runs OpenVINO on the export, without torch; the
    same images as ONNX Runtime within the gate's one grey level."""
    from serving.client import ZooClient
    from serving.server.inprocess import InProcessZoo
    from serving.server.triton import TritonServer

    models = ["dcgan-mnist", "cyclegan-digits"]
    options = RepositoryOptions(engine="openvino")
    built = build_repository(models, out_dir=tmp_path, options=options, modules=serving_modules)
    for item in built:
        cfg = parse_config((item.path / "config.pbtxt").read_text())
        assert cfg.backend == "python"
        assert cfg.parameters["zoo_backend"].string_value == "openvino"
    digits = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 1), dtype=np.uint8)
    with (
        TritonServer(proc.config(tmp_path), log_file=tmp_path / "log.txt") as server,
        ZooClient(server.grpc_url, protocol="grpc") as zoo,
    ):
        generated = zoo.generate("dcgan-mnist", range(20))
        translated = zoo.translate("cyclegan-digits", digits, direction="a2b")
        assert server.pid is not None
        stubs = [p for p in proc.group(server.pid) if p != server.pid]
        assert len(stubs) == len(built)  # one Python-backend stub per Triton model
        for pid in stubs:  # the stub stays torch-free with OpenVINO as with ONNX Runtime
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert "libopenvino" in maps, f"stub {pid} has no OpenVINO mapped"
            assert "libtorch" not in maps, f"stub {pid} mapped libtorch"
    ort = InProcessZoo("onnxruntime", repository=tmp_path, threads=1)
    want_generated = ort.generate("dcgan-mnist", range(20))
    want_translated = ort.translate("cyclegan-digits", digits, direction="a2b")
    for got, want in ((generated, want_generated), (translated, want_translated)):
        assert got.shape == want.shape and got.dtype == want.dtype == np.uint8
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1  # the gate's uint8 bound


def test_native_openvino_configs_are_written_and_parse(tmp_path: Path) -> None:
    """Triton's native ``openvino`` backend (NGC images): written and parsed here, not run."""
    paths = write_configs(tmp_path, options=RepositoryOptions(native=True, engine="openvino"))
    configs = {p.parent.name: parse_config(p.read_text()) for p in paths}
    served = {triton_model_name(m, e) for m in list_models() for e in get_spec(m).entry_names}
    assert served <= set(configs)
    nets = [c for c in configs.values() if c.backend == "openvino"]
    assert len(nets) == len(served)
    for net in nets:
        assert net.default_model_filename == IR_NAME
        assert net.instance_group[0].kind == 2  # KIND_CPU
        assert net.parameters["PERFORMANCE_HINT"].string_value == "LATENCY"
        assert net.parameters["INFERENCE_NUM_THREADS"].string_value == "1"


def test_native_openvino_build_writes_a_checked_ir(tmp_path: Path, serving_modules: dict) -> None:
    options = RepositoryOptions(native=True, engine="openvino")
    build_repository(["vae-mnist"], out_dir=tmp_path, options=options, modules=serving_modules)
    xml = tmp_path / "vae-mnist_decode" / "1" / IR_NAME
    manifest = check_ir_artifact(xml, "vae-mnist", "decode")
    assert manifest["onnx_file"] == "model.onnx"
