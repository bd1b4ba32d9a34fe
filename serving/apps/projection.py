"""Bring your own digit: projection into StyleGAN2 and interpolation strips, as files.

:func:`project_digits` calls ``project`` (the feed-forward encoder, in-process or on a
server) and refines the ws in-process with :func:`zoo.models.stylegan2.projection.refine_ws`;
:func:`interpolate_strip` calls ``interpolate`` and writes a GIF plus a PNG strip. Both work
through a :class:`~serving.client.BaseZooClient`, so ``zoo project`` / ``zoo interpolate``
run the same code with or without ``--url``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from serving.client import BaseZooClient
from serving.client.requests import encoder_of
from zoo.errors import InvalidInputError
from zoo.pipeline import from_uint8_nhwc, to_uint8_nhwc

if TYPE_CHECKING:
    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Projector


def refine(
    model: str, images: npt.NDArray[np.uint8], ws: npt.NDArray[np.float32], steps: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """ws refined in-process for ``steps`` steps, and their images (uint8 NHWC)."""
    import torch

    from zoo.evaluate import EVALUATOR
    from zoo.hub import load
    from zoo.models.stylegan2.projection import refine_ws

    projector = cast("StyleGAN2Projector", load(encoder_of(model)))
    classifier = cast("DigitClassifier", load(EVALUATOR))
    target = torch.from_numpy(from_uint8_nhwc(images))
    out = refine_ws(projector, classifier, target, torch.from_numpy(ws), steps=steps)
    with torch.no_grad():
        rec = projector.generator.synthesis(out).numpy()
    return out.numpy(), to_uint8_nhwc(rec)


def project_digits(
    zoo: BaseZooClient,
    model: str,
    images: npt.NDArray[np.uint8],
    stems: Sequence[str],
    out_dir: Path,
    *,
    steps: int,
) -> list[dict[str, Any]]:
    """Project digits, refine ``steps`` steps (0 = encoder alone), write ``<stem>.png/.npy``.

    Returns one row per digit: the files written and the reconstruction's PSNR in dB.
    """
    from zoo.images import save_png
    from zoo.models.stylegan2.projection import psnr_per_image

    if steps < 0:
        raise InvalidInputError(f"--steps must be ≥ 0 (0 = the encoder alone), got {steps}.")
    if len(set(stems)) != len(stems):
        raise InvalidInputError("two inputs share a file name stem; their outputs would clash.")
    ws, rec = zoo.project(model, images)
    if steps:
        ws, rec = refine(model, images, ws.astype(np.float32), steps)
    db = psnr_per_image(from_uint8_nhwc(rec), from_uint8_nhwc(images))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for stem, w, r, d in zip(stems, ws, rec, db, strict=True):
        png, npy = out_dir / f"{stem}.png", out_dir / f"{stem}.npy"
        save_png(r, png)
        np.save(npy, w.astype(np.float32))
        rows.append({"file": stem, "png": str(png), "w": str(npy), "psnr_db": round(float(d), 3)})
    return rows


def interpolate_strip(
    zoo: BaseZooClient,
    model: str,
    seeds: tuple[int, int],
    steps: int,
    out: Path,
    *,
    label: int | None = None,
) -> dict[str, Any]:
    """``steps`` images from seed A to seed B, as a GIF at ``out`` and a PNG strip beside it."""
    from zoo.images import save_gif, save_grid

    if steps < 2:
        raise InvalidInputError(f"--steps must be ≥ 2 (the two ends at least), got {steps}.")
    frames = zoo.interpolate(model, seeds[0], seeds[1], np.linspace(0.0, 1.0, steps), label)
    gif = save_gif(frames, out if out.suffix == ".gif" else out.with_suffix(".gif"))
    strip = save_grid(frames, gif.with_suffix(".png"), ncols=steps)
    return {
        "model": model,
        "seeds": list(seeds),
        "steps": steps,
        "gif": str(gif),
        "png": str(strip),
    }
