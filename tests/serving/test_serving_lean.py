"""Lean backends and variants end to end, against a real Triton."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from serving.client import ZooClient
from serving.inprocess import InProcessZoo
from serving.repository import RepositoryOptions, build_repository, parse_config, write_configs
from serving.server import TritonServer
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
    (item,) = build_repository(
        ["stylegan2-mnist"],
        out_dir=tmp_path / "repo",
        options=RepositoryOptions(threads=1),
        modules={"stylegan2-mnist": module},
        parity_n=4,
    )
    text = (item.path / "config.pbtxt").read_text()
    cfg = parse_config(text)
    assert list(cfg.output[0].dims) == [64, 64, 1]
    assert json.loads(cfg.parameters["zoo_config"].string_value) == VARIANT
    # The same variant named by overrides (no module) gives the same config.
    (path,) = write_configs(
        tmp_path / "configs", ["stylegan2-mnist"], overrides={"stylegan2-mnist": VARIANT}
    )
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
