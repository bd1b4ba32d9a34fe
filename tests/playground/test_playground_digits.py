"""The page's image handling, without a server: digits in, masks, served-model discovery."""

from __future__ import annotations

import numpy as np
import pytest

from serving.apps.playground import (
    CANVAS,
    ZOOM,
    digit_from_image,
    enlarge,
    mask_from_editor,
    served_models,
    softmax,
    visibility,
)
from zoo.errors import InvalidInputError
from zoo.registry import get_spec, list_models, triton_model_name


def _digit(seed: int = 0, size: int = 32) -> np.ndarray:
    """A white-on-black blob digit of the model's size."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), dtype=np.uint8)
    img[8:24, 12:20] = rng.integers(100, 256, (16, 8), dtype=np.uint8)
    return img


def test_model_sized_image_is_used_as_it_is() -> None:
    img = _digit()
    np.testing.assert_array_equal(digit_from_image(img, 32), img[..., None])


def test_enlarged_image_comes_back_pixel_exact() -> None:
    img = _digit(1)[..., None]
    rgba = np.concatenate([np.repeat(enlarge(img), 3, axis=-1), np.full((256, 256, 1), 255)], -1)
    np.testing.assert_array_equal(digit_from_image(rgba.astype(np.uint8), 32), img)


def test_dark_on_light_drawing_is_inverted_cropped_and_centred() -> None:
    # A canvas stroke: black ink on a transparent (= white) canvas, off to one corner.
    canvas = np.zeros((CANVAS + 44, CANVAS, 4), dtype=np.uint8)
    canvas[20:120, 10:40, 3] = 255
    x = digit_from_image(canvas, 32)[..., 0].astype(float)
    assert x.shape == (32, 32)
    rows, _ = np.nonzero(x > 64)
    assert rows.max() - rows.min() + 1 == round(32 * 20 / 28)  # MNIST's 20-of-28 frame
    cy = (x.sum(axis=1) * np.arange(32)).sum() / x.sum()
    cx = (x.sum(axis=0) * np.arange(32)).sum() / x.sum()
    assert abs(cy - 15.5) <= 1 and abs(cx - 15.5) <= 1
    assert x[0].max() == 0 and x[:, 0].max() == 0  # background became black


@pytest.mark.parametrize(
    "picture",
    [None, np.zeros((32, 32), np.uint8), np.full((100, 80, 4), 0, np.uint8)],
    ids=["none", "black", "transparent"],
)
def test_blank_or_missing_digit_is_refused(picture: np.ndarray | None) -> None:
    with pytest.raises(InvalidInputError, match="draw"):
        digit_from_image(picture, 32)


def test_mask_marks_painted_model_pixels_as_fill() -> None:
    background = enlarge(_digit(2)[..., None])[..., 0]
    layer = np.zeros((256, 256, 4), dtype=np.uint8)
    layer[128:, :, 3] = 255  # the lower half painted over
    layer[0:2, 0:2, 3] = 255  # a speck: under MASK_COVER of one model pixel
    mask = mask_from_editor({"background": background, "layers": [layer]}, 32)
    expected = np.ones((32, 32, 1), dtype=np.uint8)
    expected[16:] = 0
    np.testing.assert_array_equal(mask, expected)
    assert ZOOM * 32 == 256


def test_mask_without_paint_or_digit_is_refused() -> None:
    background = enlarge(_digit()[..., None])[..., 0]
    with pytest.raises(InvalidInputError, match="paint over"):
        mask_from_editor({"background": background, "layers": []}, 32)
    with pytest.raises(InvalidInputError, match="Mask this digit"):
        mask_from_editor({"background": None, "layers": [], "composite": None}, 32)


def test_served_models_follow_the_triton_names() -> None:
    vae = get_spec("vae-mnist")
    served = [triton_model_name("vae-mnist", e) for e in ("encode", "decode")]
    served += [triton_model_name("dcgan-mnist"), "some-other-model"]
    found = {m.name: m for m in served_models(served)}
    assert set(found) == {"dcgan-mnist", "vae-mnist"}
    assert found["vae-mnist"].entries == ("encode", "decode")
    assert found["vae-mnist"].resolution == vae.resolution
    assert found["dcgan-mnist"].generates and not found["dcgan-mnist"].takes_digits


def test_every_family_shows_its_controls() -> None:
    every = {}
    for name in list_models():
        spec = get_spec(name)
        (model,) = served_models([triton_model_name(name, e) for e in spec.entry_names])
        every[spec.family] = visibility(model)
    assert every["cgan"]["label"] and not every["cgan"]["psi"]
    assert every["stylegan2"]["psi"] and every["stylegan2"]["generator"]
    assert every["cyclegan"]["translate"] and not every["cyclegan"]["generator"]
    assert every["classifier"]["classify"] and every["classifier"]["digit"]
    assert all(every["vae"][k] for k in ("generator", "digit", "encode", "inpaint"))
    assert not any(every["dcgan"][k] for k in ("label", "psi", "digit"))
    assert every["stylegan2-encoder"]["project"] and every["stylegan2-encoder"]["digit"]
    assert every["stylegan2"]["interpolate"] and not every["stylegan2"]["project"]


def test_softmax_rows_sum_to_one() -> None:
    p = softmax(np.array([[0.0, 1.0, 2.0], [1000.0, 0.0, 0.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[1, 0] == pytest.approx(1.0)
