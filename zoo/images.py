"""Writing pictures: image grids as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from zoo.weights import write_atomic


def make_grid(
    images: npt.NDArray[np.uint8], *, ncols: int | None = None, pad: int = 2
) -> npt.NDArray[np.uint8]:
    """Tile uint8 NHWC images into one HWC image with ``pad`` pixels of mid-grey between them."""
    n, h, w, c = images.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    nrows = max(1, math.ceil(n / ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), 128, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def save_png(image: npt.NDArray[np.uint8], path: Path, *, scale: int = 1) -> Path:
    """Write an HWC (C = 1 or 3) uint8 image as PNG, nearest-neighbour upscaled by ``scale``."""
    from PIL import Image

    arr = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1) if scale > 1 else image
    pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    write_atomic(Path(path), lambda p: pil.save(p, format="PNG"))
    return Path(path)


def save_grid(
    images: npt.NDArray[np.uint8], path: Path, *, ncols: int | None = None, scale: int = 2
) -> Path:
    """Write uint8 NHWC images as one PNG grid."""
    return save_png(make_grid(images, ncols=ncols), path, scale=scale)


def save_gif(
    frames: npt.NDArray[np.uint8], path: Path, *, scale: int = 4, frame_ms: int = 80
) -> Path:
    """Write uint8 NHWC frames as a looping GIF, nearest-neighbour upscaled by ``scale``."""
    from PIL import Image

    big = np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)
    pils = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in big]
    write_atomic(
        Path(path),
        lambda p: pils[0].save(
            p, format="GIF", save_all=True, append_images=pils[1:], duration=frame_ms, loop=0
        ),
    )
    return Path(path)
