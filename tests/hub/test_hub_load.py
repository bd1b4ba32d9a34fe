"""One-line loading: ``zoo.load`` and the classes' ``from_pretrained`` / ``save_pretrained``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from safetensors.torch import load

import zoo
from zoo.errors import InvalidNameError
from zoo.models.dcgan import DCGANGenerator
from zoo.models.vae import ConvVAE

if TYPE_CHECKING:
    from tests.hub.conftest import Mirror


def _same_weights(model: torch.nn.Module, safetensors_bytes: bytes) -> bool:
    expected = load(safetensors_bytes)
    state = model.state_dict()
    return state.keys() == expected.keys() and all(
        torch.equal(state[k], expected[k]) for k in state
    )


def test_zoo_load_by_name_and_revision(olah: Mirror, hub_env: dict[str, str]) -> None:
    model = zoo.load("dcgan-mnist", revision="v0.1")
    assert isinstance(model, DCGANGenerator)
    assert not model.training
    assert model.zoo_name == "dcgan-mnist"
    assert _same_weights(model, olah.weights[olah.commits["v0.1"]])
    # offline: the same revision comes from the cache
    again = zoo.load("dcgan-mnist@v0.1", offline=True)
    assert _same_weights(again, olah.weights[olah.commits["v0.1"]])


def test_from_pretrained_by_repo_id_and_commit(olah: Mirror, hub_env: dict[str, str]) -> None:
    sha = olah.commits["dev"]
    model = DCGANGenerator.from_pretrained("genzoo/dcgan-mnist", revision=sha)
    assert _same_weights(model, olah.weights[sha])
    by_name = DCGANGenerator.from_pretrained("dcgan-mnist", revision="dev")
    assert _same_weights(by_name, olah.weights[sha])


def test_from_pretrained_refuses_another_architecture(
    olah: Mirror, hub_env: dict[str, str]
) -> None:
    with pytest.raises(InvalidNameError, match="holds a DCGANGenerator, not a ConvVAE"):
        ConvVAE.from_pretrained("genzoo/dcgan-mnist", revision="v0.1")


def test_save_pretrained_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = DCGANGenerator(num_classes=10)  # built by hand: the captured config names it
    model.save_pretrained(tmp_path / "cgan", model_name="cgan-mnist")
    loaded = DCGANGenerator.from_pretrained(tmp_path / "cgan")
    assert loaded.zoo_name == "cgan-mnist"
    assert _same_weights(loaded, (tmp_path / "cgan" / "model.safetensors").read_bytes())
    z, label = torch.randn(2, 64), torch.tensor([1, 7])
    assert torch.equal(model.eval()(z, label), loaded(z, label))


def test_save_pretrained_refuses_a_mismatched_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidNameError, match="not a dcgan-mnist model"):
        DCGANGenerator(num_classes=10).save_pretrained(tmp_path / "x", model_name="dcgan-mnist")
    with pytest.raises(InvalidNameError, match="model_name"):
        DCGANGenerator().save_pretrained(tmp_path / "y")
