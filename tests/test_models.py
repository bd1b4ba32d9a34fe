"""Every registry entry: builds, runs each entry point with the declared shapes, is seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.errors import InvalidInputError, InvalidNameError, UnknownModelError
from zoo.latent import seed_to_latent
from zoo.pipeline import generator_inputs, is_seeded, to_uint8_nhwc
from zoo.registry import (
    EntryPoint,
    create_model,
    get_spec,
    list_models,
    triton_model_name,
)
from zoo.runners import TorchRunner

_RNG_DTYPES = {"float32": np.float32, "int64": np.int64, "uint8": np.uint8}


def _example_inputs(entry: EntryPoint, n: int) -> tuple[np.ndarray, ...]:
    if is_seeded(entry):
        names = {t.name for t in entry.inputs}
        labels = np.arange(n) % 10 if "label" in names else None
        ends = {"seeds_to": np.arange(n) + 1, "t": np.linspace(0, 1, n)} if "t" in names else {}
        return generator_inputs(entry, np.arange(n), labels=labels, **ends)
    rng = np.random.default_rng(0)
    out = []
    for t in entry.inputs:
        if t.name == "mask":
            out.append((rng.random((n, *t.shape)) > 0.5).astype(np.float32))
        elif t.dtype == "float32":
            out.append(rng.uniform(-1, 1, (n, *t.shape)).astype(np.float32))
        else:
            out.append(rng.integers(0, 10, (n, *t.shape)).astype(_RNG_DTYPES[t.dtype]))
    return tuple(out)


def test_registry_has_the_six_design_entries_and_the_encoder() -> None:
    assert set(list_models()) == {
        "stylegan2-mnist-encoder",
        "dcgan-mnist",
        "cgan-mnist",
        "vae-mnist",
        "cyclegan-digits",
        "stylegan2-mnist",
        "classifier-mnist",
    }


def test_every_entry_point_runs_with_declared_shapes(model_name: str) -> None:
    spec = get_spec(model_name)
    module = create_model(model_name)
    for entry in spec.entry_points:
        runner = TorchRunner(model_name, module, entry.name)
        outs = runner(*_example_inputs(entry, 3))
        assert len(outs) == len(entry.outputs)
        for out, t in zip(outs, entry.outputs, strict=True):
            assert out.shape == (3, *t.shape), (entry.name, t.name)
            assert np.isfinite(out).all()


def test_same_seed_same_output_and_batch_independent(model_name: str) -> None:
    spec = get_spec(model_name)
    torch.manual_seed(0)
    module = create_model(model_name)
    for entry in spec.entry_points:
        if not is_seeded(entry):
            continue
        runner = TorchRunner(model_name, module, entry.name)
        (batch,) = runner(*_example_inputs(entry, 5))
        (again,) = runner(*_example_inputs(entry, 5))
        np.testing.assert_array_equal(batch, again)
        single = runner(*(a[2:3] for a in _example_inputs(entry, 5)))[0]
        np.testing.assert_allclose(single[0], batch[2], atol=1e-5)
        assert not np.allclose(batch[0], batch[1])


def test_config_overrides_build_larger_variants() -> None:
    small = create_model("dcgan-mnist")
    big = create_model("dcgan-mnist", width=64, resolution=64)
    n_small = sum(p.numel() for p in small.parameters())
    n_big = sum(p.numel() for p in big.parameters())
    assert n_big > 2 * n_small
    z = torch.from_numpy(seed_to_latent(np.arange(2), 64))
    assert big.generate(z).shape == (2, 1, 64, 64)


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(InvalidNameError, match="valid keys"):
        create_model("dcgan-mnist", depth=3)


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError, match="dcgan-mnist"):
        get_spec("dcgan-mnst")


@pytest.mark.parametrize("bad", ["../etc", "/abs", "Upper", "a b", "", "x" * 80, "a/b"])
def test_malformed_names_are_refused(bad: str) -> None:
    with pytest.raises((InvalidNameError, UnknownModelError)):
        get_spec(bad) if bad in ("",) else create_model(bad)


def test_triton_names_are_one_per_entry_point() -> None:
    assert triton_model_name("dcgan-mnist") == "dcgan-mnist"
    assert triton_model_name("vae-mnist", "encode") == "vae-mnist_encode"
    # A generate entry keeps the model's name when others are added beside it.
    assert triton_model_name("dcgan-mnist", "generate") == "dcgan-mnist"
    assert triton_model_name("dcgan-mnist", "interpolate") == "dcgan-mnist_interpolate"
    assert triton_model_name("vae-mnist", "sample") == "vae-mnist_sample"
    names = {triton_model_name(m, e.name) for m in list_models() for e in get_spec(m).entry_points}
    assert len(names) == sum(len(get_spec(m).entry_points) for m in list_models())


def test_uint8_conversion_rounds_and_clips() -> None:
    x = np.array([[[[-2.0, -1.0, 0.0, 1.0, 3.0]]]], dtype=np.float32)
    assert to_uint8_nhwc(x)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]


def test_generator_inputs_validate_labels_and_psi() -> None:
    cgan = get_spec("cgan-mnist").entry_point()
    with pytest.raises(InvalidInputError, match=r"0\.\.9"):
        generator_inputs(cgan, [1, 2], labels=[3, 10])
    with pytest.raises(InvalidInputError, match="class-conditional"):
        generator_inputs(cgan, [1, 2])
    sg = get_spec("stylegan2-mnist").entry_point()
    with pytest.raises(InvalidInputError, match="finite"):
        generator_inputs(sg, [1], psi=float("nan"))
    with pytest.raises(InvalidInputError, match="StyleGAN2"):
        generator_inputs(get_spec("dcgan-mnist").entry_point(), [1], psi=0.5)
