"""Digits in: a canvas drawing or an upload → the model's uint8 (H, W, 1) input; pictures out."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError

#: Side of the drawing canvas, in screen pixels.
CANVAS = 256
#: Fraction of the frame a digit's longer side fills once centred (MNIST's 20 of 28 pixels).
DIGIT_FILL = 20 / 28
#: Fraction of a model pixel that must be painted over for the mask to hide it.
MASK_COVER = 0.25
#: Shown on screen, each model pixel takes this many screen pixels.
ZOOM = 8
#: Calls to the server the page runs at once, all visitors and buttons together (Gradio's
Image = npt.NDArray[np.uint8]


def _as_grey(image: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Grey levels 0–255 of an (H, W), (H, W, C) image; transparent pixels count as white."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim == 2:
        return arr
    if arr.ndim != 3 or arr.shape[-1] not in (1, 2, 3, 4):
        raise InvalidInputError(f"expected a grey, RGB or RGBA image, got shape {arr.shape}.")
    alpha = arr[..., -1:] / 255.0 if arr.shape[-1] in (2, 4) else np.ones((*arr.shape[:2], 1))
    colour = arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1]
    grey = colour.mean(axis=-1, keepdims=True) * alpha + 255.0 * (1.0 - alpha)
    return grey[..., 0]


def _resize(image: npt.NDArray[np.float64], width: int, height: int) -> npt.NDArray[np.float64]:
    """Area-averaging resize of a float image (exact for whole-number reductions)."""
    from PIL import Image as PILImage

    pil = PILImage.fromarray(image.astype(np.float32), mode="F")
    return np.asarray(pil.resize((width, height), PILImage.Resampling.BOX), dtype=np.float64)


def digit_from_image(image: npt.NDArray[Any] | None, size: int) -> Image:
    """A drawn or uploaded digit as the model's uint8 ``(size, size, 1)`` white-on-black input.

    Dark-on-light pictures (a drawing, a scan) are inverted. A square picture whose side is a
    multiple of ``size`` is taken as the whole frame and averaged down (a model-sized image is
    used as it is); any other picture is cropped to its ink, scaled so that its longer side
    fills MNIST's 20 of 28 pixels, and centred on its centre of mass.
    """
    if image is None or np.asarray(image).size == 0:
        raise InvalidInputError("no digit yet: draw one on the canvas or upload a picture.")
    grey = _as_grey(image)
    ink = 255.0 - grey if grey.mean() > 127.5 else grey
    if ink.max() < 32:
        raise InvalidInputError("the picture is blank: draw a digit (or upload one) first.")
    h, w = ink.shape
    if h == w and h % size == 0:
        out = _resize(ink, size, size) if h != size else ink
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)[..., None]
    rows, cols = np.nonzero(ink >= 32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = DIGIT_FILL * size / max(crop.shape)
    ch, cw = (max(1, round(d * scale)) for d in crop.shape)
    small = np.clip(_resize(crop, cw, ch), 0, 255)
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(ch)).sum() / total
    cx = (small.sum(axis=0) * np.arange(cw)).sum() / total
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - ch))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - cw))
    frame = np.zeros((size, size))
    frame[top : top + ch, left : left + cw] = small
    return np.rint(frame).astype(np.uint8)[..., None]


def editor_image(value: Any) -> npt.NDArray[Any] | None:
    """The picture in a Gradio sketchpad / image-editor value (its composite)."""
    if value is None:
        return None
    if isinstance(value, dict):
        picture = value.get("composite")
        if picture is None:
            picture = value.get("background")
        return None if picture is None else np.asarray(picture)
    return np.asarray(value)


def mask_from_editor(value: Any, size: int) -> Image:
    """The inpainting mask painted in an image editor: uint8 ``(size, size, 1)``, 0 = fill.

    A model pixel is to be filled when at least :data:`MASK_COVER` of it is painted over in
    any layer above the background.
    """
    layers = value.get("layers") if isinstance(value, dict) else None
    background = editor_image(value)
    if background is None:
        raise InvalidInputError("no digit to mask: press “Mask this digit” first.")
    painted = np.zeros(background.shape[:2])
    for layer in layers or []:
        arr = np.asarray(layer)
        if arr.ndim == 3 and arr.shape[-1] == 4 and arr.shape[:2] == painted.shape:
            painted = np.maximum(painted, arr[..., 3] / 255.0)
    if painted.max() == 0:
        raise InvalidInputError("no mask: paint over the part of the digit to fill in.")
    cover = _resize(painted, size, size)
    return (cover < MASK_COVER).astype(np.uint8)[..., None]


def enlarge(image: Image, zoom: int = ZOOM) -> Image:
    """Nearest-neighbour enlargement of an (H, W, C) image, for a canvas people can paint on."""
    return np.repeat(np.repeat(image, zoom, axis=0), zoom, axis=1)


def _picture(image: Image) -> Image:
    """An (H, W, 1) uint8 image as the page shows grey pictures: (H, W); colour as it is."""
    return image[..., 0] if image.shape[-1] == 1 else image


def softmax(logits: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Class probabilities of logits, per row."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
