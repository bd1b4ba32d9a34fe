"""The torch-free core: registry, specs, signatures, seed rule and wire format import without
torch, and each spec's signature follows its config (variants included)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch

from serving.server.wire import graph_inputs, wire_inputs
from zoo.errors import InvalidInputError, InvalidNameError
from zoo.pipeline import generator_inputs
from zoo.registry import create_model, get_spec, list_models, spec_of_module
from zoo.runners import TorchRunner

#: What a Triton backend running ONNX Runtime imports (besides numpy and onnxruntime).
CORE_MODULES = (
    "zoo",
    "zoo.registry",
    "zoo.errors",
    "zoo.settings",
    "zoo.latent",
    "zoo.pipeline",
    "zoo.runners",
    "zoo.models",
    "serving.server.wire",
    "serving.server.inprocess",
    "export.runners",
)


def _run_isolated(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this one has torch loaded); return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_core_imports_without_torch() -> None:
    out = _run_isolated(
        f"""
        import importlib, sys
        for name in {CORE_MODULES!r}:
            importlib.import_module(name)
        from zoo.registry import get_spec, list_models
        from serving.server.wire import wire_inputs
        entry = get_spec("stylegan2-mnist", resolution=256).entry_point()
        print(len(list_models()), entry.outputs[0].shape, wire_inputs(entry)[0].name)
        print("torch" in sys.modules)
        """
    )
    assert out.split("\n")[:2] == ["7 (1, 256, 256) seed", "False"]


def test_network_classes_load_on_first_use() -> None:
    out = _run_isolated(
        """
        import sys
        import zoo.models.dcgan as dcgan
        before = "torch" in sys.modules
        from zoo.models.dcgan import DCGANGenerator
        from zoo.models.stylegan2 import NOISE_STREAM
        print(before, "torch" in sys.modules, DCGANGenerator.__module__, NOISE_STREAM)
        """
    )
    assert out.split() == ["False", "True", "zoo.models.dcgan.network", "7"]


def test_unknown_family_attribute_is_an_attribute_error() -> None:
    import zoo.models.vae as vae

    with pytest.raises(AttributeError, match="Encoder"):
        vae.Encoder  # noqa: B018


@pytest.mark.parametrize(
    ("model", "overrides"),
    [
        ("stylegan2-mnist", {"resolution": 64, "z_dim": 32}),
        ("dcgan-mnist", {"resolution": 64, "channels": 3}),
        ("cgan-mnist", {"num_classes": 4}),
        ("vae-mnist", {"resolution": 16, "latent_dim": 8}),
        ("cyclegan-digits", {"resolution": 48}),
        ("classifier-mnist", {"resolution": 64, "num_classes": 5}),
    ],
)
def test_variant_signatures_follow_the_config(model: str, overrides: dict[str, int]) -> None:
    """Every entry point of a variant runs and returns exactly its derived output shapes."""
    spec = get_spec(model, **overrides)
    assert spec.overrides == overrides
    assert spec.sha256 == ""  # random weights: no pinned digest
    torch.manual_seed(0)
    module = create_model(model, **overrides)
    assert spec_of_module(model, module) == spec
    rng = np.random.default_rng(0)
    for entry in spec.entry_points:
        runner = TorchRunner(model, module, entry.name)
        assert runner.entry == entry
        if entry.inputs[0].name == "z":
            labels = [0, 1] if any(t.name == "label" for t in entry.inputs) else None
            morph = any(t.name == "z_to" for t in entry.inputs)  # interpolate: end seeds, t
            args = generator_inputs(
                entry,
                [0, 1],
                labels=labels,
                seeds_to=[2, 3] if morph else None,
                t=[0.25, 0.75] if morph else None,
            )
        else:
            args = tuple(rng.uniform(-1, 1, (2, *t.shape)).astype(np.float32) for t in entry.inputs)
        outs = runner(*args)
        assert [o.shape[1:] for o in outs] == [t.shape for t in entry.outputs]


def test_default_specs_are_their_own_variant() -> None:
    for name in list_models():
        spec = get_spec(name)
        assert spec.overrides == {}
        assert spec.with_config(**spec.config) is spec
        assert spec_of_module(name, create_model(name)) is spec


def test_variant_overrides_accumulate_and_unknown_keys_are_refused() -> None:
    spec = get_spec("stylegan2-mnist", resolution=64).with_config(width=8)
    assert spec.overrides == {"resolution": 64, "width": 8}
    assert spec.config["resolution"] == 64 and spec.resolution == 64
    assert spec.with_config(resolution=32).overrides == {"width": 8}
    assert spec.with_config(resolution=32, width=16) is get_spec("stylegan2-mnist")
    with pytest.raises(InvalidNameError, match="valid keys"):
        get_spec("stylegan2-mnist", depth=3)


def test_psi_and_mix_seed_are_optional_on_the_wire() -> None:
    entry = get_spec("stylegan2-mnist").entry_point()
    wires = {w.name: w for w in wire_inputs(entry)}
    assert [n for n, w in wires.items() if w.optional] == ["psi", "mix_seed"]
    seeds = np.array([[3], [5]], dtype=np.int64)
    left_out = graph_inputs(entry, {"seed": seeds})
    explicit = generator_inputs(entry, [3, 5], psi=1.0, mix_seeds=[3, 5])
    for a, b in zip(left_out, explicit, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(InvalidInputError, match="seed"):
        graph_inputs(entry, {"psi": np.ones((2, 1), np.float32)})


def test_every_registered_family_names_importable_parts() -> None:
    from zoo.registry import get_family

    for name in list_models():
        family = get_family(get_spec(name).family)
        assert family.entry_points(get_spec(name).config) == get_spec(name).entry_points
        for part in ("trainer", "protocol", "samples", "usage"):
            assert callable(family.part(part)), (family.name, part)


def test_family_registration_refuses_what_it_cannot_use() -> None:
    from zoo.models.signatures import generate_entry
    from zoo.registry import Family, ModelSpec, get_family, register_family

    with pytest.raises(InvalidNameError, match="unknown model family 'no-such'"):
        get_family("no-such")
    with pytest.raises(ValueError, match="registered twice"):
        register_family(get_family("dcgan"))
    broken = Family(
        name="broken",
        entry_points=lambda c: (generate_entry(8, 1, 32, doc="x"),),
        pipeline_tag="unconditional-image-generation",
        trainer="no_colon_here",
        protocol="m:f",
        samples="m:f",
        usage="m:f",
    )
    with pytest.raises(ValueError, match="trainer of family 'broken' must read 'module:attribute'"):
        register_family(broken)
    from dataclasses import replace

    missing = replace(get_family("dcgan"), protocol="zoo.models.dcgan.evaluation:no_such")
    with pytest.raises(InvalidInputError, match="no evaluation protocol for family 'dcgan'"):
        missing.part("protocol")
    with pytest.raises(ValueError, match="register family 'unregistered' before its models"):
        ModelSpec("x", "unregistered", "d", "m:C", {"resolution": 32, "channels": 1}, (), "")


def test_a_family_package_still_registers_with_the_old_task_keyword(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``task=`` (``trainer=``'s name before issue 26) registers the same family, with a warning."""
    import zoo.registry
    from zoo.models.layout import FamilyPackage
    from zoo.models.signatures import generate_entry
    from zoo.registry import EntryPoint

    monkeypatch.setattr(zoo.registry, "_FAMILIES", dict(zoo.registry._FAMILIES))
    package = FamilyPackage("elsewhere")

    def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
        return (generate_entry(8, 1, 32, doc="x"),)

    tag = "unconditional-image-generation"
    with pytest.warns(DeprecationWarning, match=r"task=\.\.\.\) is deprecated.*say trainer="):
        old = package.register_family(
            "old", task="OldTrainer", entry_points=entry_points, pipeline_tag=tag
        )
    assert old.trainer == "elsewhere.training:OldTrainer"
    with (
        pytest.raises(TypeError, match="trainer= or task=, not both"),
        pytest.warns(DeprecationWarning),
    ):
        package.register_family(
            "both", trainer="A", task="B", entry_points=entry_points, pipeline_tag=tag
        )
    with pytest.raises(TypeError, match="needs trainer="):
        package.register_family("none", entry_points=entry_points, pipeline_tag=tag)
