"""serving.server.wire: each graph tensor's wire form, and the conversions between the two.

No server and no registry: entry points are written out here, so each rule of the module
docstring is checked on the smallest signature that shows it.
"""

from __future__ import annotations

import numpy as np
import pytest

from serving.server.wire import (
    WireTensor,
    declared_roles,
    graph_inputs,
    is_image,
    needs_preprocessing,
    wire_inputs,
    wire_outputs,
    wire_results,
    wire_tensor,
)
from zoo.errors import InvalidInputError
from zoo.latent import seed_to_latent
from zoo.registry import EntryPoint, TensorSpec
from zoo.roles import Role, role_of, scalar, seed_latent, wire_role

IMAGE = TensorSpec("image", "float32", (1, 3, 2))  # C, H, W all different
RGB = TensorSpec("image", "float32", (3, 2, 2))
MASK = TensorSpec("mask", "float32", (1, 3, 2))
LATENT = TensorSpec("latent", "float32", (4,))
LOGITS = TensorSpec("logits", "float32", (10,))
LABEL = TensorSpec("label", "int64", (), classes=10)
SCALE = TensorSpec("scale", "float32", ())
Z = TensorSpec("z", "float32", (4,))
CGAN = EntryPoint("generate", (Z, LABEL), (IMAGE,))
DECODE = EntryPoint("decode", (LATENT,), (IMAGE,))
INPAINT = EntryPoint("inpaint", (IMAGE, MASK), (IMAGE,))


def test_wire_tensor_rules() -> None:
    assert wire_tensor(Z) == WireTensor("seed", "int64", (1,))
    # ψ and the mixing seed may be left out of a request (issue 15: plain KServe v2 clients).
    assert wire_tensor(TensorSpec("mix_z", "float32", (7,))) == WireTensor(
        "mix_seed", "int64", (1,), optional=True
    )
    assert wire_tensor(TensorSpec("psi", "float32", ())) == WireTensor(
        "psi", "float32", (1,), optional=True
    )
    assert not wire_tensor(Z).optional and not wire_tensor(LABEL).optional
    assert wire_tensor(IMAGE) == WireTensor("image", "uint8", (3, 2, 1))  # CHW → HWC
    assert wire_tensor(RGB) == WireTensor("image", "uint8", (2, 2, 3))
    assert wire_tensor(MASK) == WireTensor("mask", "uint8", (3, 2, 1))
    assert wire_tensor(LABEL) == WireTensor("label", "int64", (1,))  # a scalar travels as [1]
    assert wire_tensor(LATENT) == WireTensor("latent", "float32", (4,))
    # Three axes but not float32: not an image, travels as it is.
    assert wire_tensor(TensorSpec("ids", "int64", (1, 3, 2))) == WireTensor(
        "ids", "int64", (1, 3, 2)
    )


def test_declared_roles_are_those_the_wire_does_not_tell() -> None:
    entry = EntryPoint(
        "custom",
        (
            TensorSpec("zeta", "float32", (4,), role=seed_latent()),  # travels as "seed"
            TensorSpec("photo", "float32", (1, 3, 2)),  # uint8 HWC: an image
            TensorSpec("code", "float32", (4,)),  # float32 [4]: a latent
            TensorSpec("count", "int64", ()),  # [1]: a scalar without a default
            TensorSpec("gain", "float32", (), role=scalar(2.0)),  # [1], but its default is not
            TensorSpec("digit", "int64", (), classes=10, role=Role("label")),  # [1], no scalar
        ),
        (IMAGE,),
    )
    declared = declared_roles(entry)
    assert declared == {"gain": scalar(2.0), "digit": Role("label")}
    # With them, the client reads every wire input as the role of the graph input it fills.
    for t, w in zip(entry.inputs, wire_inputs(entry), strict=True):
        assert declared.get(w.name, wire_role(w.name, w.dtype, w.dims)) == role_of(t), t.name


def test_is_image_needs_float32_and_three_axes() -> None:
    assert is_image(IMAGE) and is_image(MASK)
    assert not is_image(LATENT)
    assert not is_image(TensorSpec("x", "float32", (1, 2)))
    assert not is_image(TensorSpec("x", "float32", (1, 1, 2, 2)))
    assert not is_image(TensorSpec("x", "uint8", (1, 2, 2)))


def test_triton_dtype_names() -> None:
    assert WireTensor("a", "float32", (1,)).triton_dtype == "TYPE_FP32"
    assert WireTensor("a", "int64", (1,)).triton_dtype == "TYPE_INT64"
    assert WireTensor("a", "uint8", (1,)).triton_dtype == "TYPE_UINT8"


def test_wire_inputs_and_outputs_keep_signature_order() -> None:
    entry = EntryPoint("x", (LATENT, Z, LABEL), (LOGITS, IMAGE))
    assert [w.name for w in wire_inputs(entry)] == ["latent", "seed", "label"]
    assert wire_outputs(entry) == (
        WireTensor("logits", "float32", (10,)),
        WireTensor("image", "uint8", (3, 2, 1)),
    )


def test_needs_preprocessing() -> None:
    assert not needs_preprocessing(DECODE)  # a float latent is the same on the wire
    assert not needs_preprocessing(EntryPoint("classify", (LATENT, LOGITS), (LOGITS,)))
    assert needs_preprocessing(CGAN)  # seeds
    assert needs_preprocessing(INPAINT)  # uint8 images
    assert needs_preprocessing(EntryPoint("s", (SCALE,), (LOGITS,)))  # shape () → [1]
    # Only inputs count: an image output does not need a pre-processing step.
    assert not needs_preprocessing(EntryPoint("d", (LATENT,), (IMAGE, LOGITS)))


def test_graph_inputs_of_a_seeded_entry() -> None:
    seed = np.array([[3], [8]], np.int64)
    z, label = graph_inputs(CGAN, {"seed": seed, "label": np.array([[1], [7]], np.int64)})
    np.testing.assert_array_equal(z, seed_to_latent([3, 8], 4))
    assert label.shape == (2,) and label.tolist() == [1, 7]
    with pytest.raises(InvalidInputError, match=r"missing input\(s\) label for 'generate'"):
        graph_inputs(CGAN, {"seed": seed})
    with pytest.raises(InvalidInputError, match=r"missing input\(s\) seed, label for 'generate'"):
        graph_inputs(CGAN, {})


def test_graph_inputs_of_a_seeded_entry_with_optional_inputs() -> None:
    stylegan = EntryPoint(
        "generate",
        (Z, TensorSpec("psi", "float32", ()), TensorSpec("mix_z", "float32", (4,))),
        (IMAGE,),
    )
    seed = np.array([[3], [8]], np.int64)
    # Left out: ψ = 1 and each seed mixes with itself (no mixing)
    z, psi, mix = graph_inputs(stylegan, {"seed": seed})
    np.testing.assert_array_equal(z, seed_to_latent([3, 8], 4))
    assert psi.tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(mix, seed_to_latent([3, 8], 4))
    wire = {"seed": seed, "psi": np.array([[0.5], [0.7]], np.float32)}
    _, psi, mix = graph_inputs(stylegan, {**wire, "mix_seed": np.array([[1], [2]], np.int64)})
    np.testing.assert_allclose(psi, [0.5, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(mix, seed_to_latent([1, 2], 4))


def test_graph_inputs_convert_images_masks_and_scalars() -> None:
    image = np.array([0, 255, 51, 204, 0, 255], np.uint8).reshape(1, 3, 2, 1)
    mask = np.array([0, 1, 2, 255, 0, 0], np.uint8).reshape(1, 3, 2, 1)
    img, msk = graph_inputs(INPAINT, {"image": image, "mask": mask})
    assert img.dtype == np.float32 and img.shape == (1, 1, 3, 2)
    np.testing.assert_allclose(img.ravel(), [-1, 1, -0.6, 0.6, -1, 1], atol=1e-6)
    # Any nonzero mask value is a known pixel (1.0); zero is to be filled.
    assert msk.dtype == np.float32 and msk.shape == (1, 1, 3, 2)
    assert msk.ravel().tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert msk.flags["C_CONTIGUOUS"]

    entry = EntryPoint("s", (SCALE, LATENT), (LOGITS,))
    scale, latent = graph_inputs(
        entry, {"scale": np.array([[2], [3]]), "latent": np.ones((2, 4), np.float64)}
    )
    assert scale.dtype == np.float32 and scale.tolist() == [2.0, 3.0]
    assert latent.dtype == np.float32 and latent.shape == (2, 4)


def test_wire_results() -> None:
    entry = EntryPoint("x", (LATENT,), (IMAGE, SCALE, LOGITS))
    image = np.array([-1.0, 1.0, 0.0, -0.5, 0.004, 2.0], np.float64).reshape(1, 1, 3, 2)
    img, scale, logits = wire_results(
        entry, [image, np.array([1.5, 2.5], np.float32), np.zeros((1, 10), np.float32)]
    )
    assert img.dtype == np.uint8 and img.shape == (1, 3, 2, 1)
    assert img.ravel().tolist() == [0, 255, 128, 64, 128, 255]
    assert scale.shape == (2, 1) and scale.ravel().tolist() == [1.5, 2.5]
    assert logits.shape == (1, 10)
    # A graph exported with uint8 output already returns NHWC bytes: passed through unchanged.
    ready = np.arange(6, dtype=np.uint8).reshape(1, 3, 2, 1)
    (out, _, _) = wire_results(entry, [ready, np.zeros(1), np.zeros((1, 10))])
    np.testing.assert_array_equal(out, ready)
    with pytest.raises(ValueError):
        wire_results(entry, [ready])  # one array per output
