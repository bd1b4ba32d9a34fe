"""Weights on disk: sha256-checked safetensors only, written atomically."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from zoo.errors import IntegrityError, UnsafeWeightsError, WeightsNotFoundError
from zoo.hub import pull_bundled
from zoo.registry import create_model, get_spec, list_models
from zoo.weights import (
    bundled_dir,
    load_model_from_dir,
    save_safetensors,
    save_weights,
    sha256_file,
)

SHIPPED = [n for n in list_models() if get_spec(n).sha256]


def test_at_least_the_evaluator_ships() -> None:
    assert "classifier-mnist" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_match_the_registry(name: str) -> None:
    assert sha256_file(bundled_dir(name) / "model.safetensors") == get_spec(name).sha256
    model = pull_bundled(name).load()
    assert not model.training


@pytest.mark.parametrize("name", SHIPPED)
def test_a_flipped_byte_is_refused(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    shutil.copytree(bundled_dir(name), folder)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match") as err:
        load_model_from_dir(folder, sha256=get_spec(name).sha256)
    assert "zoo pull" in str(err.value)


def test_pickle_only_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_name": "dcgan-mnist", "config": {}}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(UnsafeWeightsError, match="safetensors"):
        load_model_from_dir(tmp_path, sha256=None)


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_name": "dcgan-mnist", "config": {}}')
    with pytest.raises(WeightsNotFoundError, match="zoo pull"):
        load_model_from_dir(tmp_path, sha256=None)


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("vae-mnist", width=8)
    sha = save_weights(model, tmp_path, "vae-mnist", {**get_spec("vae-mnist").config, "width": 8})
    again = load_model_from_dir(tmp_path, sha256=sha)
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert not list(tmp_path.glob("*.tmp")), "no temp files left behind"


def test_saved_weights_carry_metadata_and_the_same_tensors_give_the_same_bytes(
    tmp_path: Path,
) -> None:
    from safetensors import safe_open

    from zoo import __version__

    torch.manual_seed(0)
    model = create_model("dcgan-mnist")
    # safetensors writes its metadata in hash-map order, which varies from save to save.
    digests = {
        save_safetensors(model, tmp_path / f"{i}.safetensors", "dcgan-mnist") for i in range(8)
    }
    assert len(digests) == 1
    with safe_open(str(tmp_path / "0.safetensors"), "pt") as f:
        assert f.metadata() == {
            "format": "pt",
            "model_name": "dcgan-mnist",
            "genzoo_version": __version__,
        }
        assert all(torch.equal(f.get_tensor(k), v) for k, v in model.state_dict().items())
