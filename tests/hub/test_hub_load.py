"""One-line loading: ``zoo.load`` and the classes' ``from_pretrained`` / ``save_pretrained``.

The classes are ``huggingface_hub.ModelHubMixin`` subclasses: the same argument names and
meanings, the same ``config.json``, with genzoo's checks inside the hooks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load, save_file

import zoo
import zoo.hub
from zoo.errors import HubUnreachableError, InvalidNameError
from zoo.hub import load_from_dir
from zoo.hub_mixin import HubMixin
from zoo.models.dcgan import DCGANGenerator
from zoo.models.vae import ConvVAE
from zoo.registry import get_spec

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


def test_from_pretrained_takes_huggingface_hubs_arguments(
    olah: Mirror, hub_env: dict[str, str], tmp_path: Path
) -> None:
    sha = olah.commits["dev"]
    cache = tmp_path / "own-cache"
    model = DCGANGenerator.from_pretrained(
        "genzoo/dcgan-mnist",
        revision="dev",
        cache_dir=cache,
        token="hf_not_checked_by_the_mirror",
        map_location="cpu",
        dtype=torch.float64,
        strict=True,
    )
    assert next(model.parameters()).dtype == torch.float64
    expected = load(olah.weights[sha])
    assert all(torch.equal(model.state_dict()[k], v.double()) for k, v in expected.items())
    # cache_dir is where the files went, not HF_HOME; local_files_only reads them back.
    assert (cache / "models--genzoo--dcgan-mnist" / "snapshots" / sha).is_dir()
    assert not (Path(hub_env["HF_HOME"]) / "hub" / "models--genzoo--dcgan-mnist").exists()
    offline = DCGANGenerator.from_pretrained(
        "genzoo/dcgan-mnist@dev", cache_dir=cache, local_files_only=True
    )
    assert _same_weights(offline, olah.weights[sha])
    with pytest.raises(HubUnreachableError):  # nothing in the default cache
        DCGANGenerator.from_pretrained("genzoo/dcgan-mnist@dev", local_files_only=True)
    again = DCGANGenerator.from_pretrained(
        "genzoo/dcgan-mnist", revision="dev", cache_dir=cache, force_download=True
    )
    assert _same_weights(again, olah.weights[sha])


def test_save_pretrained_writes_constructor_args_and_metadata(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = DCGANGenerator(num_classes=10)
    model.save_pretrained(tmp_path / "m", model_name="cgan-mnist")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    # Every constructor argument at the top level (as huggingface_hub's mixin writes them).
    assert config == {
        **inspect_defaults(DCGANGenerator),
        "num_classes": 10,
        "model_name": "cgan-mnist",
        "family": "cgan",
        "genzoo_version": zoo.__version__,
    }
    with safe_open(str(tmp_path / "m" / "model.safetensors"), "pt") as f:
        assert f.metadata() == {
            "format": "pt",
            "model_name": "cgan-mnist",
            "genzoo_version": zoo.__version__,
        }
    assert (tmp_path / "m" / "README.md").read_text().startswith("---\nlicense: ")
    # huggingface_hub's own from_pretrained reads that config.json into constructor arguments
    # (they reach genzoo's hook as keywords, which must agree with the registry's entry).
    base = super(HubMixin, DCGANGenerator).from_pretrained(tmp_path / "m")
    assert isinstance(base, DCGANGenerator) and base.zoo_name == "cgan-mnist"
    assert _same_weights(base, (tmp_path / "m" / "model.safetensors").read_bytes())


def test_a_folder_in_the_older_config_layout_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    torch.manual_seed(2)
    model = ConvVAE(**get_spec("vae-mnist").config)
    save_file(model.state_dict(), str(folder / "model.safetensors"))  # no metadata either
    config = {"model_name": "vae-mnist", "family": "vae", "config": get_spec("vae-mnist").config}
    (folder / "config.json").write_text(json.dumps(config))
    for loaded in (ConvVAE.from_pretrained(folder), load_from_dir(folder)):
        assert loaded.zoo_name == "vae-mnist"
        assert _same_weights(loaded, (folder / "model.safetensors").read_bytes())


def test_config_overrides_and_strict(tmp_path: Path) -> None:
    torch.manual_seed(3)
    DCGANGenerator().save_pretrained(tmp_path / "d", model_name="dcgan-mnist")
    with pytest.raises(InvalidNameError, match=r"unknown constructor argument.*widht"):
        DCGANGenerator.from_pretrained(tmp_path / "d", widht=16)
    with pytest.raises(InvalidNameError, match=r"\(num_classes=10\) is not a dcgan-mnist model"):
        DCGANGenerator.from_pretrained(tmp_path / "d", num_classes=10)
    # strict (the default) refuses weights that leave a tensor unset; strict=False loads them.
    weights = tmp_path / "d" / "model.safetensors"
    state = load(weights.read_bytes())
    dropped = sorted(state)[-1]
    save_file({k: v for k, v in state.items() if k != dropped}, str(weights))
    with pytest.raises(RuntimeError, match="Missing key"):
        DCGANGenerator.from_pretrained(tmp_path / "d")
    partial = DCGANGenerator.from_pretrained(tmp_path / "d", strict=False)
    assert all(torch.equal(partial.state_dict()[k], v) for k, v in state.items() if k != dropped)


def inspect_defaults(cls: type) -> dict[str, object]:
    """The default of every constructor argument of ``cls``."""
    import inspect

    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def test_zoo_load_by_name_never_picks_a_folder_of_that_name(
    hub_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder has no outside digest: loading one must be asked for, not happen by name.
    torch.manual_seed(4)
    DCGANGenerator().save_pretrained(tmp_path / "dcgan-mnist", model_name="dcgan-mnist")
    monkeypatch.chdir(tmp_path)
    model = zoo.load("dcgan-mnist", offline=True)
    bundled = zoo.hub.pull_bundled("dcgan-mnist")
    assert _same_weights(model, bundled.weights.read_bytes())
    assert not _same_weights(model, (tmp_path / "dcgan-mnist" / "model.safetensors").read_bytes())


def test_create_model_pretrained_has_the_shipped_weights(hub_env: dict[str, str]) -> None:
    # As timm: pretrained=True is the sha256-checked trained weights, the default random ones.
    shipped = zoo.hub.pull_bundled("dcgan-mnist").weights.read_bytes()
    trained = zoo.create_model("dcgan-mnist", pretrained=True, offline=True)
    assert not trained.training
    assert _same_weights(trained, shipped)
    torch.manual_seed(0)
    random = zoo.create_model("dcgan-mnist")
    assert random.training and not _same_weights(random, shipped)
    # A variant stays a random-weight network with its own signature.
    assert zoo.create_model("dcgan-mnist", resolution=64)(torch.zeros(1, 64)).shape[-1] == 64
