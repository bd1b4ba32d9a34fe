"""Pre- and post-processing shared by every backend: seeds → graph inputs, images → uint8.

Clients send seeds, labels, ψ and mixing seeds; :func:`generator_inputs` turns them into the
generator graph's inputs with the seed → latent rule and validates them with the checks the
SDK runs too (:mod:`zoo.validation`), and
:func:`to_uint8_nhwc` turns [-1, 1] float NCHW images into the uint8 NHWC bytes users get.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError
from zoo.latent import seed_to_latent
from zoo.registry import EntryPoint, TensorSpec
from zoo.validation import (
    check_labels,
    check_mix_layers,
    check_mix_seeds,
    check_psi,
    check_seeds,
    check_t,
    check_ws,
)


def is_image(t: TensorSpec) -> bool:
    """Whether ``t`` is an image tensor: float32 ``(C, H, W)`` in [-1, 1], uint8 NHWC outside."""
    return t.dtype == "float32" and len(t.shape) == 3


def to_uint8_nhwc(images: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """Float NCHW images in [-1, 1] → uint8 NHWC, ``round((x + 1) * 127.5)`` clipped."""
    x = np.clip((np.asarray(images, dtype=np.float32) + 1.0) * 127.5, 0.0, 255.0)
    return np.rint(x).astype(np.uint8).transpose(0, 2, 3, 1)


def from_uint8_nhwc(images: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """uint8 NHWC (or NHW) images → float32 NCHW in [-1, 1]."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise InvalidInputError(f"images must be uint8, got {arr.dtype}.")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise InvalidInputError(f"images must be (N, H, W) or (N, H, W, C), got shape {arr.shape}.")
    return (arr.astype(np.float32) / 127.5 - 1.0).transpose(0, 3, 1, 2).copy()


def synthesis_inputs(
    entry: EntryPoint,
    w: npt.ArrayLike,
    *,
    psi: npt.ArrayLike | None = None,
    mix_seeds: npt.ArrayLike | None = None,
    mix_layers: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.generic], ...]:
    """The graph inputs of a ``synthesize`` entry (ws, ψ, mixing latent, mixing layer).

    Without ``mix_seeds`` nothing is mixed; with them ``mix_layers`` (0..num_ws) says from
    which w on the seed's style replaces the given one (small = coarse shape from the seed).
    """
    shapes = {t.name: t.shape for t in entry.inputs}
    ws = check_ws(w, shapes["w"])
    n, num_ws = len(ws), shapes["w"][0]
    if mix_seeds is None:
        if mix_layers is not None:
            raise InvalidInputError("mix_layer needs a mixing seed: pass mix_seed too.")
        mix_z = np.zeros((n, shapes["mix_z"][0]), np.float32)
        layers = np.full(n, num_ws, np.int64)
    else:
        if mix_layers is None:
            raise InvalidInputError(f"pass mix_layer (0–{num_ws}) with the mixing seed.")
        mix = check_seeds(mix_seeds)
        if mix.shape == (1,) and n > 1:
            mix = np.repeat(mix, n)
        if mix.shape != (n,):
            raise InvalidInputError(f"expected {n} mixing seeds (one per w), got {len(mix)}.")
        mix_z = seed_to_latent(mix, shapes["mix_z"][0])
        layers = check_mix_layers(mix_layers, n, num_ws)
    return ws, check_psi(1.0 if psi is None else psi, n), mix_z, layers


def generator_inputs(
    entry: EntryPoint,
    seeds: npt.ArrayLike,
    *,
    labels: npt.ArrayLike | None = None,
    psi: npt.ArrayLike | None = None,
    mix_seeds: npt.ArrayLike | None = None,
    seeds_to: npt.ArrayLike | None = None,
    t: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.generic], ...]:
    """The graph inputs of a generator ``entry`` for these seeds, in signature order.

    ``interpolate`` entries also take the end seeds ``seeds_to`` and the positions ``t``.
    """
    s = check_seeds(seeds)
    n = len(s)
    names = {spec.name for spec in entry.inputs}
    if "z_to" not in names and (seeds_to is not None or t is not None):
        raise InvalidInputError(f"{entry.name!r} does not interpolate: drop seed_to and t.")
    inputs: list[npt.NDArray[np.generic]] = []
    for spec in entry.inputs:
        if spec.name == "z":
            inputs.append(seed_to_latent(s, spec.shape[0]))
        elif spec.name == "z_to":
            if seeds_to is None:
                raise InvalidInputError("interpolate needs an end seed per start seed (seed_to).")
            to = check_seeds(seeds_to)
            if to.shape != s.shape:
                raise InvalidInputError(f"expected {n} end seeds (one per seed), got {len(to)}.")
            inputs.append(seed_to_latent(to, spec.shape[0]))
        elif spec.name == "t":
            if t is None:
                raise InvalidInputError("interpolate needs t in [0, 1] per seed.")
            inputs.append(check_t(t, n))
        elif spec.name == "label":
            if labels is None:
                raise InvalidInputError(
                    f"this model is class-conditional: pass a label (0–{spec.classes - 1})."
                )
            inputs.append(check_labels(labels, n, spec.classes))
        elif spec.name == "psi":
            inputs.append(check_psi(1.0 if psi is None else psi, n))
        elif spec.name == "mix_z":
            inputs.append(seed_to_latent(check_mix_seeds(mix_seeds, s), spec.shape[0]))
        else:
            raise InvalidInputError(f"entry point {entry.name!r} does not take seeds.")
    if labels is not None and "label" not in names:
        raise InvalidInputError("this model is not class-conditional: drop the label.")
    if (psi is not None or mix_seeds is not None) and "psi" not in names:
        raise InvalidInputError("ψ and mixing seeds apply to StyleGAN2 models only.")
    return tuple(inputs)


def is_seeded(entry: EntryPoint) -> bool:
    """Whether ``entry`` is driven by seeds (its first input is the latent ``z``)."""
    return bool(entry.inputs) and entry.inputs[0].name == "z"


def is_synthesis(entry: EntryPoint) -> bool:
    """Whether ``entry`` synthesises from given ws (its first input is ``w``)."""
    return bool(entry.inputs) and entry.inputs[0].name == "w"
