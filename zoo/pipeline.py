"""Pre- and post-processing shared by every engine: seeds → graph inputs, images → uint8.

Clients send seeds, labels, ψ and mixing seeds; :func:`generator_inputs` turns them into the
generator graph's inputs with the seed → latent rule and validates them with the checks the
SDK runs too (:mod:`zoo.validation`), and
:func:`to_uint8_nhwc` turns [-1, 1] float NCHW images into the uint8 NHWC bytes users get.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError
from zoo.latent import seed_to_latent
from zoo.registry import EntryPoint, TensorSpec
from zoo.roles import IMPLIED, fill_scalar, role_of
from zoo.validation import (
    check_labels,
    check_mix_layers,
    check_mix_seeds,
    check_seeds,
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


def _inputs_of(entry: EntryPoint, kind: str, seed: str = "") -> list[TensorSpec]:
    """The inputs of ``entry`` that ``kind`` fills (latents of the seed ``seed`` when given)."""
    return [
        t for t in entry.inputs if role_of(t).kind == kind and (not seed or role_of(t).seed == seed)
    ]


def _scalars(
    entry: EntryPoint, given: Mapping[str, npt.ArrayLike | None], n: int
) -> dict[str, npt.NDArray[np.generic]]:
    """The scalar inputs of ``entry`` (name → values): given by name, else their defaults."""
    _check_scalar_names(entry, given)
    return {
        t.name: fill_scalar(role_of(t), t.name, given.get(t.name), n, entry=entry.name)
        for t in _inputs_of(entry, "scalar")
    }


def _check_scalar_names(entry: EntryPoint, given: Mapping[str, object]) -> None:
    """Refuse values given for scalars ``entry`` does not have."""
    names = [t.name for t in _inputs_of(entry, "scalar")]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InvalidInputError(
            f"{entry.name!r} takes no input {', '.join(unknown)}; its scalar inputs are "
            f"{', '.join(names) or 'none'}."
        )


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
    The inputs are found by their roles: ``ws``, the ``mix_seed`` latent, the ``layer``.
    """
    (w_in,), (mix_in,), (layer_in,) = (
        _inputs_of(entry, "ws"),
        _inputs_of(entry, "seed", "mix_seed"),
        _inputs_of(entry, "layer"),
    )
    ws = check_ws(w, w_in.shape)
    n, num_ws = len(ws), w_in.shape[0]
    if mix_seeds is None:
        if mix_layers is not None:
            raise InvalidInputError("mix_layer needs a mixing seed: pass mix_seed too.")
        mix_z = np.zeros((n, mix_in.shape[0]), np.float32)
        layers = np.full(n, num_ws, np.int64)
    else:
        if mix_layers is None:
            raise InvalidInputError(f"pass mix_layer (0–{num_ws}) with the mixing seed.")
        mix = check_seeds(mix_seeds)
        if mix.shape == (1,) and n > 1:
            mix = np.repeat(mix, n)
        if mix.shape != (n,):
            raise InvalidInputError(f"expected {n} mixing seeds (one per w), got {len(mix)}.")
        mix_z = seed_to_latent(mix, mix_in.shape[0])
        layers = check_mix_layers(mix_layers, n, num_ws)
    given = {} if psi is None else {"psi": psi}
    values: dict[str, npt.NDArray[np.generic]] = {w_in.name: ws, mix_in.name: mix_z}
    values |= {layer_in.name: layers, **_scalars(entry, given, n)}
    return tuple(values[t.name] for t in entry.inputs)


def generator_inputs(
    entry: EntryPoint,
    seeds: npt.ArrayLike,
    *,
    labels: npt.ArrayLike | None = None,
    psi: npt.ArrayLike | None = None,
    mix_seeds: npt.ArrayLike | None = None,
    seeds_to: npt.ArrayLike | None = None,
    t: npt.ArrayLike | None = None,
    **scalars: npt.ArrayLike | None,
) -> tuple[npt.NDArray[np.generic], ...]:
    """The graph inputs of a generator ``entry`` for these seeds, in signature order.

    Each input is filled by its role (:mod:`zoo.roles`): the latents of ``seeds``, of the end
    seeds ``seeds_to`` (``interpolate``) or of the mixing seeds; the ``labels``; a scalar by its
    name (``psi``, ``t``, or any other in ``scalars``), else its default.
    """
    s = check_seeds(seeds)
    n = len(s)
    names = {spec.name for spec in _inputs_of(entry, "scalar")}
    if not _inputs_of(entry, "seed", "seed_to") and (seeds_to is not None or t is not None):
        raise InvalidInputError(f"{entry.name!r} does not interpolate: drop seed_to and t.")
    given = {k: v for k, v in {"psi": psi, "t": t, **scalars}.items() if v is not None}
    # ψ given to a model without it is refused below, with the StyleGAN2 hint.
    _check_scalar_names(entry, {k: v for k, v in given.items() if k != "psi"})
    inputs: list[npt.NDArray[np.generic]] = []
    for spec in entry.inputs:
        role = role_of(spec)
        if role.kind == "seed":
            inputs.append(seed_to_latent(_seeds(role.seed, s, seeds_to, mix_seeds), spec.shape[0]))
        elif role.kind == "label":
            if labels is None:
                raise InvalidInputError(
                    f"this model is class-conditional: pass a label (0–{spec.classes - 1})."
                )
            inputs.append(check_labels(labels, n, spec.classes))
        elif role.kind == "scalar":
            inputs.append(fill_scalar(role, spec.name, given.get(spec.name), n, entry=entry.name))
        else:
            raise InvalidInputError(f"entry point {entry.name!r} does not take seeds.")
    if labels is not None and not _inputs_of(entry, "label"):
        raise InvalidInputError("this model is not class-conditional: drop the label.")
    mixes = bool(_inputs_of(entry, "seed", "mix_seed"))
    if (psi is not None and "psi" not in names) or (mix_seeds is not None and not mixes):
        raise InvalidInputError("ψ and mixing seeds apply to StyleGAN2 models only.")
    return tuple(inputs)


def _seeds(
    which: str,
    seeds: npt.NDArray[np.int64],
    seeds_to: npt.ArrayLike | None,
    mix_seeds: npt.ArrayLike | None,
) -> npt.NDArray[np.int64]:
    """The checked seeds a ``seed`` role named ``which`` takes its latents from."""
    if which == "seed_to":
        if seeds_to is None:
            raise InvalidInputError("interpolate needs an end seed per start seed (seed_to).")
        to = check_seeds(seeds_to)
        if to.shape != seeds.shape:
            raise InvalidInputError(
                f"expected {len(seeds)} end seeds (one per seed), got {len(to)}."
            )
        return to
    return check_mix_seeds(mix_seeds, seeds) if which == "mix_seed" else seeds


def is_seeded(entry: EntryPoint) -> bool:
    """Whether ``entry`` is driven by seeds (its first input is the latent of the seed)."""
    return bool(entry.inputs) and role_of(entry.inputs[0]) == IMPLIED["z"]


def is_synthesis(entry: EntryPoint) -> bool:
    """Whether ``entry`` synthesises from given ws (its first input's role is ``ws``)."""
    return bool(entry.inputs) and role_of(entry.inputs[0]).kind == "ws"
