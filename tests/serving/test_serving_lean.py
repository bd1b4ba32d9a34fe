"""Lean backends, variants end to end, and plain KServe v2 clients, against a real Triton."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from serving.client import ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.repository import (
    RepositoryOptions,
    build_repository,
    parse_config,
    write_configs,
)
from serving.server.triton import TritonServer
from zoo.registry import create_model

if TYPE_CHECKING:
    from conftest import ProcessTools  # type: ignore[import-not-found]

#: A StyleGAN2 variant at 64² (small widths, so export stays quick on two cores).
VARIANT = {"resolution": 64, "width": 8, "max_channels": 16}


def test_onnxruntime_backends_never_map_libtorch(triton: TritonServer, proc: ProcessTools) -> None:
    """Every Python-backend stub of the session server (ONNX Runtime runner) is torch-free."""
    assert triton.pid is not None
    stubs = [p for p in proc.group(triton.pid) if p != triton.pid]
    assert len(stubs) >= 11  # one per Triton model
    for pid in stubs:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
        assert "onnxruntime" in maps, f"stub {pid} has no ONNX Runtime mapped: not a model stub?"
        assert "libtorch" not in maps, f"stub {pid} mapped libtorch"


def test_a_variant_is_served_with_its_own_signature(tmp_path: Path, proc: ProcessTools) -> None:
    """stylegan2-mnist at 64²: config, backend and SDK all follow the variant's config."""
    torch.manual_seed(0)
    module = create_model("stylegan2-mnist", **VARIANT).eval()
    built = build_repository(
        ["stylegan2-mnist"],
        out_dir=tmp_path / "repo",
        options=RepositoryOptions(threads=1),
        modules={"stylegan2-mnist": module},
        parity_n=4,
    )
    (item,) = [b for b in built if b.path.name == "stylegan2-mnist"]  # generate
    text = (item.path / "config.pbtxt").read_text()
    cfg = parse_config(text)
    assert list(cfg.output[0].dims) == [64, 64, 1]
    assert json.loads(cfg.parameters["zoo_config"].string_value) == VARIANT
    # The same variant named by overrides (no module) gives the same config.
    path = write_configs(
        tmp_path / "configs", ["stylegan2-mnist"], overrides={"stylegan2-mnist": VARIANT}
    )[0]
    assert path.read_text() == text
    meta = json.loads((item.path / "1" / "export.json").read_text())
    assert meta["overrides"] == VARIANT
    with (
        TritonServer(proc.config(tmp_path / "repo"), log_file=tmp_path / "log.txt") as server,
        ZooClient(server.http_url) as zoo,
    ):
        served = zoo.generate("stylegan2-mnist", range(6), psi=0.7)
    local = InProcessZoo("torch", modules={"stylegan2-mnist": module}, threads=1)
    expected = local.generate("stylegan2-mnist", range(6), psi=0.7)
    assert served.shape == expected.shape == (6, 64, 64, 1)
    assert np.abs(served.astype(int) - expected.astype(int)).max() <= 1


def _infer_json(server: TritonServer, model: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """A KServe v2 JSON request with urllib, as any HTTP client would send it; the image back."""
    body = {
        "inputs": [
            {"name": k, "shape": list(v.shape), "datatype": "INT64", "data": v.ravel().tolist()}
            for k, v in inputs.items()
        ],
        "outputs": [{"name": "image"}],
    }
    request = urllib.request.Request(
        f"http://{server.http_url}/v2/models/{model}/infer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        (out,) = json.load(response)["outputs"]
    assert out["datatype"] == "UINT8"
    return np.asarray(out["data"], dtype=np.uint8).reshape(out["shape"])


def test_plain_json_requests_need_only_seeds(triton: TritonServer) -> None:
    """ψ and mix_seed are optional: a seed-only request gets the SDK's bytes (ψ 1, no mixing)."""
    seeds = np.arange(100, 104, dtype=np.int64).reshape(-1, 1)
    labels = np.array([[3], [1], [4], [1]], dtype=np.int64)
    with ZooClient(triton.http_url) as zoo:
        sdk = {
            "dcgan-mnist": zoo.generate("dcgan-mnist", seeds[:, 0]),
            "cgan-mnist": zoo.generate("cgan-mnist", seeds[:, 0], labels=labels[:, 0]),
            "stylegan2-mnist": zoo.generate("stylegan2-mnist", seeds[:, 0]),
            "vae-mnist_sample": zoo.generate("vae-mnist", seeds[:, 0]),
        }
        mixed = zoo.generate("stylegan2-mnist", seeds[:, 0], mix_seeds=seeds[::-1, 0])
    for name, expected in sdk.items():
        inputs = {"seed": seeds, **({"label": labels} if name == "cgan-mnist" else {})}
        np.testing.assert_array_equal(_infer_json(triton, name, inputs), expected, err_msg=name)
    # An optional input that is sent still counts.
    sent = _infer_json(triton, "stylegan2-mnist", {"seed": seeds, "mix_seed": seeds[::-1]})
    np.testing.assert_array_equal(sent, mixed)
    assert not np.array_equal(sent, sdk["stylegan2-mnist"])
