"""The playground in headless Chromium: what a person clicks gives the SDK's pictures."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from serving.apps.playground import softmax
from serving.client import ZooClient
from zoo.images import make_grid

#: Set to a path (e.g. docs/playground.png) to keep the screenshot the test takes.
SCREENSHOT_ENV = "ZOO_PLAYGROUND_SCREENSHOT"


def _pick(tab: Any, model: str) -> None:
    tab.page.click("#model input")
    tab.page.get_by_role("option", name=model, exact=True).click()
    tab.page.wait_for_selector("#about", state="visible")
    tab.page.wait_for_function(
        "m => document.querySelector('#about').innerText.includes(m)", arg=model
    )


def _set_number(tab: Any, selector: str, value: object) -> None:
    box = tab.page.locator(f"{selector} input").first
    box.fill(str(value))
    box.press("Enter")


def _run(tab: Any, button: str, expect: str) -> str:
    """Click ``button`` and wait until the status line shows ``expect``; return the status."""
    tab.page.click(button)
    tab.page.wait_for_function(
        "t => document.querySelector('#status').innerText.includes(t)"
        " || document.querySelector('.toast-body')",
        arg=expect,
    )
    errors = tab.page.locator(".toast-body").all_inner_texts()
    assert not errors, f"the page showed an error: {errors}"
    return str(tab.page.inner_text("#status"))


def _shown_image(tab: Any, selector: str) -> np.ndarray:
    """The picture an image component shows, downloaded from its ``src`` and decoded."""
    src = tab.page.get_attribute(f"{selector} img", "src")
    assert src
    body = tab.page.request.get(src).body()
    with Image.open(io.BytesIO(body)) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("L"))


def _upload(tab: Any, digit: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "digit.png"
    Image.fromarray(digit).save(path)
    editor = tab.page.locator("#digit")
    prompt = editor.get_by_text("Upload an image")
    if not prompt.is_visible():  # a picture from before: clear it, the prompt comes back
        editor.get_by_role("button", name="Clear canvas").click()
        prompt.wait_for(state="visible")
    # As a user does it: the editor's Upload button, then the browser's file chooser.
    with tab.page.expect_file_chooser() as chooser:
        editor.get_by_role("button", name="Upload", exact=True).click()
    chooser.value.set_files(str(path))
    # The editor shows the picture once it has it: its "Upload an image" prompt goes away.
    prompt.wait_for(state="hidden")


def test_generate_grid_and_psi_match_the_sdk(tab: Any, sdk: ZooClient, tmp_path: Path) -> None:
    _pick(tab, "stylegan2-mnist")
    _set_number(tab, "#seed", 7)
    _set_number(tab, "#count", 9)
    status = _run(tab, "#generate", "seeds 7–15")
    assert " ms" in status and "ψ 1" in status
    first = _shown_image(tab, "#grid")
    np.testing.assert_array_equal(
        first, make_grid(sdk.generate("stylegan2-mnist", range(7, 16), psi=1.0))[..., 0]
    )

    _set_number(tab, "#psi", 0.5)
    _run(tab, "#generate", "ψ 0.5")
    second = _shown_image(tab, "#grid")
    np.testing.assert_array_equal(
        second, make_grid(sdk.generate("stylegan2-mnist", range(7, 16), psi=0.5))[..., 0]
    )
    assert not np.array_equal(first, second)

    shot = tmp_path / "playground.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    with Image.open(shot) as im:
        assert im.width >= 1000
    if os.environ.get(SCREENSHOT_ENV):
        Image.open(shot).convert("P", palette=Image.Palette.ADAPTIVE).save(
            os.environ[SCREENSHOT_ENV], optimize=True
        )
    assert tab.outside == [], "the page tried to reach beyond this machine"


def test_bad_input_shows_an_error_in_the_page(tab: Any) -> None:
    _pick(tab, "cgan-mnist")
    _set_number(tab, "#seed", -3)
    tab.page.click("#generate")
    toast = tab.page.wait_for_selector(".toast-body")
    assert toast is not None
    text = toast.inner_text()
    assert "first seed must be a whole number" in text
    assert "Traceback" not in tab.page.content()
    assert " ms" not in tab.page.inner_text("#status")  # no result was shown for it


def test_uploaded_digit_translates_and_classifies_like_the_sdk(
    tab: Any, sdk: ZooClient, tmp_path: Path
) -> None:
    digit = sdk.generate("cgan-mnist", [2], labels=4)[0, ..., 0]
    x = digit[None, ..., None]
    _pick(tab, "cyclegan-digits")
    _upload(tab, digit, tmp_path)
    _run(tab, "#translate", "translate_b2a")
    np.testing.assert_array_equal(
        _shown_image(tab, "#result"), sdk.translate("cyclegan-digits", x, "b2a")[0, ..., 0]
    )

    _pick(tab, "classifier-mnist")
    _upload(tab, digit, tmp_path)
    best = int(softmax(sdk.classify("classifier-mnist", x))[0].argmax())
    _run(tab, "#classify", f"class {best}")

    _pick(tab, "vae-mnist")
    _upload(tab, digit, tmp_path)
    status = _run(tab, "#encode", "encode")
    assert "16 floats" in status and "1024 pixels" in status
    latent, _ = sdk.encode("vae-mnist", x)
    np.testing.assert_array_equal(
        _shown_image(tab, "#result"), sdk.decode("vae-mnist", latent)[0, ..., 0]
    )
    assert tab.outside == []


@pytest.mark.parametrize("model", ["stylegan2-mnist", "vae-mnist"])
def test_each_model_shows_its_own_controls(tab: Any, model: str) -> None:
    _pick(tab, model)
    psi_shown = tab.page.locator("#psi").is_visible()
    inpaint_shown = tab.page.locator("#inpaint").is_visible()
    assert psi_shown == (model == "stylegan2-mnist")
    assert inpaint_shown == (model == "vae-mnist")
