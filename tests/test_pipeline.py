"""zoo.pipeline: uint8 conversions and seeds → generator graph inputs.

The checks it runs on labels, ψ, seeds, ws and mixing layers are zoo.validation's, shared with
the SDK: tests/test_validation.py runs each on both sides.

Entry points are written out here rather than taken from the registry, so each test states the
signature it relies on.
"""

from __future__ import annotations

import numpy as np
import pytest

from zoo.errors import InvalidInputError
from zoo.latent import seed_to_latent
from zoo.pipeline import (
    from_uint8_nhwc,
    generator_inputs,
    is_seeded,
    synthesis_inputs,
    to_uint8_nhwc,
)
from zoo.registry import EntryPoint, TensorSpec

IMAGE = TensorSpec("image", "float32", (1, 4, 4))
Z = TensorSpec("z", "float32", (6,))
DCGAN = EntryPoint("generate", (Z,), (IMAGE,))
CGAN = EntryPoint("generate", (Z, TensorSpec("label", "int64", (), classes=10)), (IMAGE,))
STYLEGAN = EntryPoint(
    "generate",
    (Z, TensorSpec("psi", "float32", ()), TensorSpec("mix_z", "float32", (5,))),
    (IMAGE,),
)
SYNTH = EntryPoint(
    "synthesize",
    (
        TensorSpec("w", "float32", (3, 4)),  # 3 ws of 4 values
        TensorSpec("psi", "float32", ()),
        TensorSpec("mix_z", "float32", (5,)),
        TensorSpec("mix_layer", "int64", ()),
    ),
    (IMAGE,),
)
INTERPOLATE = EntryPoint(
    "interpolate",
    (Z, TensorSpec("z_to", "float32", (6,)), TensorSpec("t", "float32", ())),
    (IMAGE,),
)
ENCODE = EntryPoint("encode", (IMAGE,), (TensorSpec("latent", "float32", (6,)),))


def test_to_uint8_nhwc_rounds_clips_and_moves_channels() -> None:
    # (x + 1) * 127.5 by hand: -1 → 0, 1 → 255, 0 → 127.5 → 128 (half to even), -0.5 → 63.75 → 64,
    # 0.004 → 128.01 → 128, -0.996 → 0.51 → 1; beyond [-1, 1] clips.
    x = np.array([-1.0, 1.0, 0.0, -0.5, 0.004, -0.996, 3.0, -7.0], np.float32)
    images = np.stack([x.reshape(2, 4), -x.reshape(2, 4)])[None]  # (1, 2 channels, 2, 4)
    out = to_uint8_nhwc(images)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 4, 2)
    assert out[0, :, :, 0].ravel().tolist() == [0, 255, 128, 64, 128, 1, 255, 0]
    assert out[0, :, :, 1].ravel().tolist() == [255, 0, 128, 191, 127, 254, 0, 255]


def test_to_uint8_nhwc_computes_in_float32_like_the_exported_graph() -> None:
    # (x + 1) * 127.5 is 0.5000000001 for this float64 x (which would round up to 1), but x in
    # float32 gives 0.49999997 → 0, which is what a uint8-output ONNX graph (float32) returns.
    x = np.full((1, 1, 1, 1), -0.9960784313715491, np.float64)
    assert to_uint8_nhwc(x).item() == to_uint8_nhwc(x.astype(np.float32)).item() == 0


def test_from_uint8_nhwc_scales_to_minus_one_one() -> None:
    pixels = np.array([0, 255, 51, 204], np.uint8).reshape(1, 2, 2)  # NHW: one channel
    out = from_uint8_nhwc(pixels)
    assert out.dtype == np.float32 and out.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(out.ravel(), [-1.0, 1.0, -0.6, 0.6], atol=1e-6)
    rgb = np.arange(24, dtype=np.uint8).reshape(1, 2, 4, 3)
    nchw = from_uint8_nhwc(rgb)
    assert nchw.shape == (1, 3, 2, 4) and nchw.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(nchw[0, 2, 1, 3], 23 / 127.5 - 1, atol=1e-6)  # pixel (1, 3), C=2


def test_from_uint8_nhwc_refuses_other_input() -> None:
    with pytest.raises(InvalidInputError, match=r"^images must be uint8, got float32\.$"):
        from_uint8_nhwc(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(
        InvalidInputError, match=r"\(N, H, W\) or \(N, H, W, C\), got shape \(4, 4\)"
    ):
        from_uint8_nhwc(np.zeros((4, 4), np.uint8))
    with pytest.raises(InvalidInputError, match=r"got shape \(1, 1, 2, 2, 1\)"):
        from_uint8_nhwc(np.zeros((1, 1, 2, 2, 1), np.uint8))


def test_generator_inputs_follow_the_signature() -> None:
    seeds = [4, 0, 17]
    (z,) = generator_inputs(DCGAN, seeds)
    np.testing.assert_array_equal(z, seed_to_latent(seeds, 6))
    z, labels = generator_inputs(CGAN, np.array(seeds), labels=[1, 2, 9])
    np.testing.assert_array_equal(z, seed_to_latent(seeds, 6))
    assert labels.dtype == np.int64 and labels.tolist() == [1, 2, 9]
    _, labels = generator_inputs(CGAN, seeds, labels=5)
    assert labels.tolist() == [5, 5, 5]


def test_stylegan_inputs_take_psi_and_mixing_seeds() -> None:
    seeds = [4, 0, 17]
    z, psi, mix = generator_inputs(STYLEGAN, seeds, psi=[0.5, 0.6, 0.7], mix_seeds=[1, 2, 3])
    np.testing.assert_array_equal(z, seed_to_latent(seeds, 6))
    np.testing.assert_allclose(psi, [0.5, 0.6, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(mix, seed_to_latent([1, 2, 3], 5))
    # Without them: ψ = 1 (no truncation) and each seed mixes with itself (no mixing).
    z, psi, mix = generator_inputs(STYLEGAN, seeds)
    assert psi.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(mix, seed_to_latent(seeds, 5))
    with pytest.raises(InvalidInputError, match=r"expected 3 mixing seeds \(one per seed\), got 2"):
        generator_inputs(STYLEGAN, seeds, mix_seeds=[1, 2])
    with pytest.raises(InvalidInputError, match=r"^mixing seeds must lie in 0\.\..*non-negative"):
        generator_inputs(STYLEGAN, seeds, mix_seeds=[1, 2, -3])
    with pytest.raises(
        InvalidInputError, match=r"^mixing seeds must be integers, got dtype float64"
    ):
        generator_inputs(STYLEGAN, seeds, mix_seeds=[1.0, 2.0, 3.0])


def test_interpolation_inputs_need_end_seeds_and_t() -> None:
    z, z_to, t = generator_inputs(INTERPOLATE, [1, 2], seeds_to=[3, 4], t=0.25)
    np.testing.assert_array_equal(z, seed_to_latent([1, 2], 6))
    np.testing.assert_array_equal(z_to, seed_to_latent([3, 4], 6))
    assert t.dtype == np.float32 and t.tolist() == [0.25, 0.25]
    for kwargs, message in [
        ({"t": 0.5}, "interpolate needs an end seed per start seed (seed_to)."),
        ({"seeds_to": [3], "t": 0.5}, "expected 2 end seeds (one per seed), got 1."),
        ({"seeds_to": [3, 4]}, "interpolate needs t in [0, 1] per seed."),
    ]:
        with pytest.raises(InvalidInputError) as info:
            generator_inputs(INTERPOLATE, [1, 2], **kwargs)
        assert str(info.value) == message
    for kwargs in ({"seeds_to": [3]}, {"t": 0.5}):  # either one alone is refused
        with pytest.raises(InvalidInputError) as info:
            generator_inputs(DCGAN, [1], **kwargs)
        assert str(info.value) == "'generate' does not interpolate: drop seed_to and t."
    # An end seed without a t input (a pair of latents): a t given is refused, not dropped.
    pair = EntryPoint("pair", (Z, TensorSpec("z_to", "float32", (6,))), (IMAGE,))
    assert len(generator_inputs(pair, [1], seeds_to=[2])) == 2
    with pytest.raises(InvalidInputError) as info:
        generator_inputs(pair, [1], seeds_to=[2], t=0.5)
    assert str(info.value) == "'pair' takes no input t; its scalar inputs are none."


def test_synthesis_inputs_take_ws_psi_and_mixing() -> None:
    w = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    ws, psi, mix_z, layers = synthesis_inputs(SYNTH, w)
    assert ws.dtype == np.float32 and ws.tolist() == w.tolist()
    # Without them: ψ = 1 (no truncation) and no mixing (the mixing layer is past the last w)
    assert psi.dtype == np.float32 and psi.tolist() == [1.0, 1.0]
    assert mix_z.dtype == np.float32 and mix_z.shape == (2, 5) and not mix_z.any()
    assert layers.dtype == np.int64 and layers.tolist() == [3, 3]
    # One mixing seed and one layer serve every w; ψ is per w
    _, psi, mix_z, layers = synthesis_inputs(SYNTH, w, psi=[0.5, 0.7], mix_seeds=9, mix_layers=1)
    np.testing.assert_allclose(psi, [0.5, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(mix_z, seed_to_latent([9, 9], 5))
    assert layers.tolist() == [1, 1]
    _, _, mix_z, layers = synthesis_inputs(SYNTH, w[0], mix_seeds=[4], mix_layers=[0])  # one w
    np.testing.assert_array_equal(mix_z, seed_to_latent([4], 5))
    assert layers.tolist() == [0]
    _, _, mix_z, layers = synthesis_inputs(SYNTH, w, mix_seeds=[4, 5], mix_layers=[0, 3])
    np.testing.assert_array_equal(mix_z, seed_to_latent([4, 5], 5))
    assert layers.tolist() == [0, 3]


def test_synthesis_inputs_refuse_half_a_mix() -> None:
    w = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(InvalidInputError) as info:
        synthesis_inputs(SYNTH, w, mix_layers=1)
    assert str(info.value) == "mix_layer needs a mixing seed: pass mix_seed too."
    with pytest.raises(InvalidInputError) as info:
        synthesis_inputs(SYNTH, w, mix_seeds=[1, 2])
    assert str(info.value) == "pass mix_layer (0–3) with the mixing seed."
    with pytest.raises(InvalidInputError) as info:
        synthesis_inputs(SYNTH, w, mix_seeds=[1, 2, 3], mix_layers=1)
    assert str(info.value) == "expected 2 mixing seeds (one per w), got 3."


def test_synthesis_inputs_of_an_entry_without_psi_or_with_another_scalar() -> None:
    from zoo.roles import scalar

    w = np.zeros((2, 3, 4), np.float32)
    ws_in, _, mix_in, layer_in = SYNTH.inputs
    bare = EntryPoint("synthesize", (ws_in, mix_in, layer_in), (IMAGE,))  # no truncation
    ws, mix_z, layers = synthesis_inputs(bare, w)
    assert ws.shape == (2, 3, 4) and mix_z.shape == (2, 5) and layers.tolist() == [3, 3]
    with pytest.raises(InvalidInputError) as info:
        synthesis_inputs(bare, w, psi=0.5)
    assert str(info.value) == "'synthesize' takes no input psi; its scalar inputs are none."
    # Synthesis is given ψ only: another scalar takes its default; one without is refused.
    gained = EntryPoint(
        "gained", (*SYNTH.inputs, TensorSpec("gain", "float32", (), role=scalar(2.0))), (IMAGE,)
    )
    assert synthesis_inputs(gained, w)[-1].tolist() == [2.0, 2.0]
    needy = EntryPoint("needy", (*SYNTH.inputs, TensorSpec("k", "float32", ())), (IMAGE,))
    with pytest.raises(InvalidInputError, match=r"^'needy' needs k: "):
        synthesis_inputs(needy, w)


def test_generator_inputs_refuse_what_the_model_lacks() -> None:
    with pytest.raises(
        InvalidInputError, match=r"^this model is class-conditional: pass a label \(0–9\)\.$"
    ):
        generator_inputs(CGAN, [1])
    with pytest.raises(
        InvalidInputError, match=r"^this model is not class-conditional: drop the label\.$"
    ):
        generator_inputs(DCGAN, [1], labels=3)
    with pytest.raises(
        InvalidInputError, match=r"^ψ and mixing seeds apply to StyleGAN2 models only\.$"
    ):
        generator_inputs(DCGAN, [1], psi=0.5)
    with pytest.raises(InvalidInputError, match="StyleGAN2 models only"):
        generator_inputs(CGAN, [1], labels=1, mix_seeds=[2])
    with pytest.raises(InvalidInputError, match=r"^entry point 'encode' does not take seeds\.$"):
        generator_inputs(ENCODE, [1])
    with pytest.raises(InvalidInputError, match="non-negative"):
        generator_inputs(DCGAN, [-1])


def test_a_scalar_the_entry_lacks_is_refused_with_those_it_has() -> None:
    from zoo.roles import scalar

    gain = TensorSpec("gain", "float32", (), role=scalar(2.0))
    bias = TensorSpec("bias", "float32", (), role=scalar(0.0))
    entry = EntryPoint("gained", (Z, gain, bias), (IMAGE,))
    with pytest.raises(InvalidInputError) as info:
        generator_inputs(entry, [1], zoom=2.0, loss=1.0, gain=1.0)
    message = "'gained' takes no input loss, zoom; its scalar inputs are gain, bias."
    assert str(info.value) == message  # the unknown ones sorted, its own in signature order
    with pytest.raises(InvalidInputError) as info:
        generator_inputs(DCGAN, [1], zoom=2.0)
    assert str(info.value) == "'generate' takes no input zoom; its scalar inputs are none."


def test_is_seeded() -> None:
    assert is_seeded(DCGAN) and is_seeded(STYLEGAN)
    assert not is_seeded(ENCODE)
    assert not is_seeded(EntryPoint("nothing", (), (IMAGE,)))
    assert not is_seeded(EntryPoint("late", (IMAGE, Z), (IMAGE,)))  # z must come first


def test_every_zoo_input_has_its_role_implied_and_the_client_tells_it_from_the_wire() -> None:
    from serving.server.wire import declared_roles
    from zoo.registry import get_spec, list_models
    from zoo.roles import IMPLIED, role_of

    for name in list_models():
        for entry in get_spec(name).entry_points:
            assert all(t.name in IMPLIED for t in entry.inputs), (name, entry.name)
            assert [role_of(t) for t in entry.inputs] == [IMPLIED[t.name] for t in entry.inputs]
            assert declared_roles(entry) == {}  # so no served config of the zoo names a role


def test_an_input_of_a_new_name_is_filled_by_its_stated_role() -> None:
    from zoo.roles import Role, decode_roles, encode_roles, role_of, scalar, seed_latent

    zeta = TensorSpec("zeta", "float32", (6,), role=seed_latent())
    gain = TensorSpec("gain", "float32", (), role=scalar(2.0))
    mix = TensorSpec("other", "float32", (6,), role=seed_latent("mix_seed", optional=True))
    entry = EntryPoint("gained", (zeta, gain, mix), (IMAGE,))
    assert is_seeded(entry)
    z, g, m = generator_inputs(entry, [1, 2], mix_seeds=[3, 4])
    np.testing.assert_array_equal(z, seed_to_latent(np.array([1, 2]), 6))
    np.testing.assert_array_equal(g, [2.0, 2.0])  # its default
    np.testing.assert_array_equal(m, seed_to_latent(np.array([3, 4]), 6))
    (_, g, _) = generator_inputs(entry, [1, 2], gain=[0.5, 1.5])
    np.testing.assert_array_equal(g, [0.5, 1.5])
    with pytest.raises(InvalidInputError, match="gain must be a finite number"):
        generator_inputs(entry, [1, 2], gain=np.inf)
    with pytest.raises(InvalidInputError, match="'gained' takes no input loss"):
        generator_inputs(entry, [1, 2], loss=1.0)
    required = EntryPoint("e", (zeta, TensorSpec("k", "float32", (), role=scalar())), (IMAGE,))
    with pytest.raises(InvalidInputError, match="'e' needs k"):
        generator_inputs(required, [1])
    # Unnamed and unstated: taken by shape (a scalar to pass, a latent code, an image).
    assert role_of(TensorSpec("q", "float32", ())) == scalar()
    assert role_of(TensorSpec("q", "float32", (3,))).kind == "latent"
    assert role_of(TensorSpec("q", "float32", (1, 2, 2))).kind == "image"
    roles = {"gain": scalar(2.0), "other": seed_latent("mix_seed", optional=True)}
    assert decode_roles(encode_roles(roles)) == roles and decode_roles("") == {}
    with pytest.raises(ValueError, match="unknown input role"):
        Role("colour")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a seed role names one of"):
        Role("seed", seed="other")
    with pytest.raises(ValueError, match="unknown scalar check"):
        scalar(check="gamma")
    with pytest.raises(ValueError, match="'digit' input must say how many classes"):
        TensorSpec("digit", "int64", (), role=Role("label"))
