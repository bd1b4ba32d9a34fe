"""project, synthesize and interpolate through the real Triton: the same bytes as in-process.

The session server serves ONNX graphs exported from seeded random weights (conftest); the same
graphs run in-process with ONNX Runtime give byte-equal outputs, and torch within one level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from serving.client import BaseZooClient, InvalidInputError, ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.triton import TritonServer

PROTOCOLS = ("http", "grpc")
T = np.linspace(0.0, 1.0, 5)


@pytest.fixture(scope="module")
def same_graphs(serving_repo: Any) -> InProcessZoo:
    """The server's own ONNX files, run in this process."""
    return InProcessZoo("onnxruntime", repository=serving_repo, threads=1)


@pytest.fixture(scope="module")
def torch_zoo(serving_modules: dict[str, torch.nn.Module]) -> InProcessZoo:
    return InProcessZoo("torch", modules=serving_modules, threads=1)


def calls(zoo: BaseZooClient, digits: np.ndarray) -> dict[str, np.ndarray]:
    ws, recon = zoo.project("stylegan2-mnist", digits)
    return {
        "ws": ws,
        "recon": recon,
        "synth": zoo.synthesize("stylegan2-mnist", ws),
        "restyled": zoo.synthesize("stylegan2-mnist", ws, psi=0.7, mix_seeds=9, mix_layer=4),
        "sg_morph": zoo.interpolate("stylegan2-mnist", 3, 7, T),
        "dc_morph": zoo.interpolate("dcgan-mnist", 3, 7, T),
        "cgan_morph": zoo.interpolate("cgan-mnist", 3, 7, T, labels=5),
        "vae_morph": zoo.interpolate("vae-mnist", 3, 7, T),
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_served_projection_synthesis_interpolation_equal_in_process(
    triton: TritonServer, protocol: str, same_graphs: InProcessZoo, torch_zoo: InProcessZoo
) -> None:
    digits = torch_zoo.generate("dcgan-mnist", range(4))
    url = triton.http_url if protocol == "http" else triton.grpc_url
    with ZooClient(url, protocol=protocol) as zoo:  # type: ignore[arg-type]
        served = calls(zoo, digits)
    local = calls(same_graphs, digits)
    for name, ref in local.items():
        assert served[name].dtype == ref.dtype and np.array_equal(served[name], ref), name
    eager = calls(torch_zoo, digits)
    for name, ref in eager.items():
        diff = np.abs(served[name].astype(np.float64) - ref.astype(np.float64)).max()
        assert diff <= (1 if ref.dtype == np.uint8 else 1e-3), f"{name}: {diff}"
    # The ends of a morph are the two seeds' digits; mixing changes the image.
    assert np.array_equal(served["dc_morph"][[0, -1]], torch_zoo.generate("dcgan-mnist", [3, 7]))
    assert not np.array_equal(served["restyled"], served["synth"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_refuses_bad_ws_and_t(triton: TritonServer, protocol: str) -> None:
    """Past the client's checks, the backend answers with a typed error and keeps serving."""
    url = triton.http_url if protocol == "http" else triton.grpc_url
    with ZooClient(url, protocol=protocol) as zoo:  # type: ignore[arg-type]
        sig = zoo.signature("stylegan2-mnist", ("synthesize",))
        bad_w = np.zeros((1, 8, 64), np.float32)
        bad_w[0, 3, 5] = np.nan
        with pytest.raises(InvalidInputError, match="finite"):
            zoo.infer(sig, {"w": bad_w})
        with pytest.raises(InvalidInputError, match="mix_layer"):
            zoo.infer(sig, {"w": np.zeros_like(bad_w), "mix_layer": np.array([[2]], np.int64)})
        sig = zoo.signature("dcgan-mnist", ("interpolate",))
        seed = np.array([[1]], np.int64)
        t = np.array([[1.5 if protocol == "http" else -0.5]], np.float32)  # not in the cache
        with pytest.raises(InvalidInputError, match=r"t must lie in \[0, 1\]"):
            zoo.infer(sig, {"seed": seed, "seed_to": seed + 1, "t": t})
        with pytest.raises(InvalidInputError, match="shape"):  # Triton's own shape check
            zoo.infer(sig, {"seed": seed, "seed_to": seed, "t": np.zeros((1, 2), np.float32)})
        assert zoo.interpolate("dcgan-mnist", 1, 2, 0.5).shape == (1, 32, 32, 1)
