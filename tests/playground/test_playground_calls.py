"""The page's actions on the real Triton: the SDK's pictures, and errors as one line."""

from __future__ import annotations

import numpy as np
import pytest

from serving.apps.playground import Playground, enlarge, softmax
from serving.client import ZooClient
from zoo.errors import InvalidInputError
from zoo.images import make_grid


@pytest.fixture(scope="module")
def digit(sdk: ZooClient) -> np.ndarray:
    """A (32, 32) digit from the server, as an upload would bring it."""
    return sdk.generate("cgan-mnist", [5], labels=3)[0, ..., 0]


def test_generate_grids_are_the_sdks(playground: Playground, sdk: ZooClient) -> None:
    calls = playground.calls
    grid, status = calls.generate("cgan-mnist", 10, 6, "7", None, "")
    expected = sdk.generate("cgan-mnist", range(10, 16), labels=7)
    np.testing.assert_array_equal(grid, make_grid(expected)[..., 0])
    assert "ms" in status and "seeds 10–15" in status and "class 7" in status

    grid, status = calls.generate("stylegan2-mnist", 3, 4, None, 0.5, "11")
    expected = sdk.generate("stylegan2-mnist", range(3, 7), psi=0.5, mix_seeds=[11] * 4)
    np.testing.assert_array_equal(grid, make_grid(expected)[..., 0])
    assert "ψ 0.5" in status and "mixing seed 11" in status

    grid, _ = calls.generate("vae-mnist", 0, 4)
    np.testing.assert_array_equal(grid, make_grid(sdk.generate("vae-mnist", range(4)))[..., 0])


def test_interpolation_strip_and_projection_are_the_sdks(
    playground: Playground, sdk: ZooClient, digit: np.ndarray
) -> None:
    calls = playground.calls
    strip, status = calls.interpolate("cgan-mnist", 4, 9, 5, "2")
    expected = sdk.interpolate("cgan-mnist", 4, 9, np.linspace(0, 1, 5), labels=2)
    np.testing.assert_array_equal(strip, make_grid(expected, ncols=5)[..., 0])
    assert "seeds 4 → 9" in status
    picture, status = calls.project("stylegan2-mnist-encoder", {"composite": digit}, 7, 4)
    ws, rec = sdk.project("stylegan2-mnist", digit[None, ..., None])
    restyled = sdk.synthesize("stylegan2-mnist", ws, mix_seeds=7, mix_layer=4)
    row = np.concatenate([digit[None, ..., None], rec, restyled])
    np.testing.assert_array_equal(picture, make_grid(row, ncols=3)[..., 0])
    assert "ws 4+ from seed 7" in status
    with pytest.raises(InvalidInputError, match="restyling layer"):
        calls.project("stylegan2-mnist-encoder", {"composite": digit}, 7, 9)


@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_translate_is_the_sdks(
    playground: Playground, sdk: ZooClient, digit: np.ndarray, direction: str
) -> None:
    out, status = playground.calls.translate("cyclegan-digits", {"composite": digit}, direction)
    expected = sdk.translate("cyclegan-digits", digit[None, ..., None], direction)[0, ..., 0]
    np.testing.assert_array_equal(out, expected)
    assert f"translate_{direction}" in status


def test_classify_encode_inpaint_are_the_sdks(
    playground: Playground, sdk: ZooClient, digit: np.ndarray
) -> None:
    calls = playground.calls
    x = digit[None, ..., None]
    probs, status = calls.classify("classifier-mnist", {"composite": digit})
    expected = softmax(sdk.classify("classifier-mnist", x))[0]
    assert [probs[str(c)] for c in range(10)] == pytest.approx(expected.tolist(), abs=1e-6)
    assert f"class {int(expected.argmax())}" in status

    decoded, code, status = calls.encode_decode("vae-mnist", {"composite": digit})
    latent, _ = sdk.encode("vae-mnist", x)
    np.testing.assert_array_equal(decoded, sdk.decode("vae-mnist", latent)[0, ..., 0])
    assert code.count(",") == latent.shape[1] - 1
    assert "16 floats" in status and "1024 pixels" in status

    layer = np.zeros((256, 256, 4), dtype=np.uint8)
    layer[:, 128:, 3] = 255  # the right half painted over
    editor = {"background": enlarge(x[0])[..., 0], "layers": [layer], "composite": None}
    shown, status = calls.inpaint("vae-mnist", editor)
    mask = np.ones_like(x)
    mask[..., 16:, :] = 0
    expected_fill = sdk.inpaint("vae-mnist", x, mask)
    np.testing.assert_array_equal(
        shown, make_grid(np.concatenate([x * mask, expected_fill]), ncols=2)[..., 0]
    )
    assert "512 pixels filled" in status


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stylegan2-mnist", -1, 4, None, 1.0, ""), "first seed"),
        (("stylegan2-mnist", 0, 4, None, 1.0, "seven"), "mixing seed"),
        (("stylegan2-mnist", 0, 4, None, 99.0, ""), "ψ must be"),
        (("stylegan2-mnist", 0, 0, None, 1.0, ""), "number of images"),
        (("cgan-mnist", 0, 4, "12", None, ""), "class label"),
        (("classifier-mnist", 0, 4, None, None, ""), "does not generate"),
        (("no-such-model", 0, 4, None, None, ""), "pick a model"),
    ],
)
def test_bad_generate_input_is_one_clear_error(
    playground: Playground, args: tuple, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        playground.calls.generate(*args)


def test_bad_digits_are_refused(playground: Playground) -> None:
    with pytest.raises(InvalidInputError, match="draw"):
        playground.calls.classify("classifier-mnist", None)
    with pytest.raises(ValueError, match=r"RGB or RGBA"):
        playground.calls.classify("classifier-mnist", {"composite": np.ones((5, 5, 7))})
