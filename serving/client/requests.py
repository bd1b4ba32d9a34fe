"""Requests: user arguments → wire tensors, checked before anything is sent; batching."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from serving.client.errors import InvalidInputError, ModelNotFoundError
from serving.client.signature import ENCODER_SUFFIX, MAX_SEED, NUM_CLASSES, Array, ModelSignature

# ---------------------------------------------------------------------------------------------
# Requests: user arguments → wire tensors, checked before anything is sent.
# ---------------------------------------------------------------------------------------------


def _per_item(values: Any, n: int, what: str) -> Array:
    """One value per item: a scalar is repeated; a sequence must have ``n`` entries."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise InvalidInputError(f"expected {n} {what} (one per seed), got shape {arr.shape}.")
    return arr


def check_seeds(seeds: Any, what: str = "seeds") -> npt.NDArray[np.int64]:
    """``seeds`` (an int, a range or a sequence) as a 1-D int64 array, each in 0..2**63-1."""
    if isinstance(seeds, range):
        seeds = list(seeds)
    arr = np.asarray(seeds)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(f"{what} must be a non-empty 1-D list of integers.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"{what} must be integers, got {arr.dtype}.")
    if int(arr.min()) < 0 or int(arr.max()) > MAX_SEED:
        raise InvalidInputError(f"{what} must lie in 0..{MAX_SEED} (non-negative int64).")
    return arr.astype(np.int64)


def generate_request(
    sig: ModelSignature,
    seeds: Any,
    *,
    labels: Any = None,
    psi: Any = None,
    mix_seeds: Any = None,
) -> dict[str, Array]:
    """The wire inputs of a generate call to ``sig``; defaults: ψ = 1, mixing seed = seed."""
    _require(sig, "seed", "generate")
    s = check_seeds(seeds)
    n = len(s)
    req: dict[str, Array] = {"seed": s.reshape(n, 1)}
    if "label" in sig.inputs:
        if labels is None:
            raise InvalidInputError(
                f"{sig.name} is class-conditional: pass labels (0–{NUM_CLASSES - 1})."
            )
        lab = _per_item(labels, n, "labels")
        if not np.issubdtype(lab.dtype, np.integer):
            raise InvalidInputError(f"labels must be integers, got {lab.dtype}.")
        if int(lab.min()) < 0 or int(lab.max()) >= NUM_CLASSES:
            raise InvalidInputError(f"labels must lie in 0..{NUM_CLASSES - 1}.")
        req["label"] = lab.astype(np.int64).reshape(n, 1)
    elif labels is not None:
        raise InvalidInputError(f"{sig.name} is not class-conditional: drop the labels.")
    if "psi" in sig.inputs:
        p = _per_item(1.0 if psi is None else psi, n, "ψ values").astype(np.float64)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 10:
            raise InvalidInputError("ψ must be a finite number in [-10, 10] (1 = no truncation).")
        req["psi"] = p.astype(np.float32).reshape(n, 1)
    elif psi is not None:
        raise InvalidInputError(f"{sig.name} has no truncation ψ (StyleGAN2 models have).")
    if "mix_seed" in sig.inputs:
        mix = s if mix_seeds is None else check_seeds(mix_seeds, "mixing seeds")
        if mix.shape != s.shape:
            raise InvalidInputError(f"expected {n} mixing seeds (one per seed), got {len(mix)}.")
        req["mix_seed"] = mix.reshape(n, 1)
    elif mix_seeds is not None:
        raise InvalidInputError(f"{sig.name} has no style mixing (StyleGAN2 models have).")
    return req


def check_images(sig: ModelSignature, images: Any, name: str = "image") -> npt.NDArray[np.uint8]:
    """uint8 NHWC images matching the model's input ``name``; ``(N, H, W)`` is accepted for C=1."""
    _require(sig, name, "take images")
    h, w, c = sig.inputs[name][1]
    arr = np.asarray(images)
    if arr.ndim == 3 and c == 1 and arr.shape[1:] == (h, w):
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[1:] != (h, w, c) or arr.shape[0] == 0:
        raise InvalidInputError(
            f"{sig.name} takes {name} as uint8 (N, {h}, {w}, {c}); got shape {arr.shape}."
        )
    if arr.dtype != np.uint8:
        raise InvalidInputError(
            f"{name} must be uint8 pixels 0–255, got {arr.dtype}; convert float images in "
            "[0, 1] with (x * 255).round().astype(np.uint8)."
        )
    return np.ascontiguousarray(arr)


def check_masks(sig: ModelSignature, masks: Any, n: int) -> npt.NDArray[np.uint8]:
    """Masks as uint8 (N, H, W, 1): 1 where the pixel is known, 0 where it is to be filled."""
    _require(sig, "mask", "inpaint")
    h, w, c = sig.inputs["mask"][1]
    arr = np.asarray(masks)
    if arr.ndim == 3 and c == 1:
        arr = arr[..., None]
    if arr.shape != (n, h, w, c):
        raise InvalidInputError(
            f"masks must have shape ({n}, {h}, {w}) or ({n}, {h}, {w}, {c}) — one per image, "
            f"1 = known pixel, 0 = fill; got {arr.shape}."
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise InvalidInputError(f"masks must be boolean or numeric, got {arr.dtype}.")
    return (arr != 0).astype(np.uint8)


def check_latents(sig: ModelSignature, latents: Any, name: str = "latent") -> Array:
    """float32 ``(N, D)`` latent codes for the model's input ``name``."""
    _require(sig, name, "decode latent codes")
    dims = sig.inputs[name][1]
    arr = np.asarray(latents, dtype=np.float32)
    if arr.ndim == 1 and arr.shape == dims:
        arr = arr[None]
    if arr.shape[1:] != dims or arr.shape[0] == 0:
        raise InvalidInputError(
            f"{sig.name} takes {name} of shape (N, {dims[0]}), got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite numbers.")
    return arr


def encoder_of(model: str) -> str:
    """The zoo model whose ``project`` inverts generator ``model``: ``<model>-encoder``.

    An encoder's own name is returned as it is, so ``project`` takes either.
    """
    return model if model.endswith(ENCODER_SUFFIX) else model + ENCODER_SUFFIX


def check_ws(sig: ModelSignature, ws: Any) -> Array:
    """float32 ws ``(N, num_ws, w_dim)`` (as ``project`` returns them), every value finite."""
    _require(sig, "w", "synthesize from ws")
    dims = sig.inputs["w"][1]
    arr = np.asarray(ws)
    if arr.ndim == len(dims):
        arr = arr[None]
    if arr.shape[1:] != dims or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(
            f"{sig.name} takes w of shape (N, {', '.join(map(str, dims))}) — one w per "
            f"synthesis layer, as project returns — got {arr.dtype} {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("w must be finite (no NaN or infinity).")
    return arr.astype(np.float32)


def synthesize_request(
    sig: ModelSignature,
    ws: Any,
    *,
    psi: Any = None,
    mix_seeds: Any = None,
    mix_layer: Any = None,
    mix_ws: Any = None,
) -> dict[str, Array]:
    """The wire inputs of a synthesize call; without ``mix_seeds`` or ``mix_ws`` nothing is mixed.

    ``mix_ws`` (a second digit's ws) are mixed here, before sending: the ws from ``mix_layer``
    on are taken from them, so the request carries one set of ws.
    """
    w = check_ws(sig, ws)
    n, num_ws = len(w), sig.inputs["w"][1][0]
    if mix_ws is not None:
        if mix_seeds is not None or mix_layer is None:
            raise InvalidInputError(
                f"mix_ws takes mix_layer (0–{num_ws}), and no mixing seed beside it."
            )
        other = check_ws(sig, mix_ws)
        if len(other) not in (1, n):
            raise InvalidInputError(f"expected 1 or {n} sets of mix_ws, got {len(other)}.")
        layer = _per_item(mix_layer, n, "mix_layer values")
        if not np.issubdtype(layer.dtype, np.integer) or layer.min() < 0 or layer.max() > num_ws:
            raise InvalidInputError(f"mix_layer must be an integer in 0..{num_ws}.")
        w = np.where(np.arange(num_ws)[None, :, None] < layer[:, None, None], w, other)
        mix_layer = None
    req: dict[str, Array] = {"w": w.astype(np.float32)}
    if psi is not None:
        p = _per_item(psi, n, "ψ values").astype(np.float64)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 10:
            raise InvalidInputError("ψ must be a finite number in [-10, 10] (1 = no truncation).")
        req["psi"] = p.astype(np.float32).reshape(n, 1)
    if (mix_seeds is None) != (mix_layer is None):
        raise InvalidInputError(
            f"style mixing takes both a mixing seed and mix_layer (0–{num_ws}), or neither."
        )
    if mix_seeds is not None:
        mix = check_seeds(_per_item(mix_seeds, n, "mixing seeds"), "mixing seeds")
        req["mix_seed"] = mix.reshape(n, 1)
        layer = _per_item(mix_layer, n, "mix_layer values")
        if not np.issubdtype(layer.dtype, np.integer) or layer.min() < 0 or layer.max() > num_ws:
            raise InvalidInputError(f"mix_layer must be an integer in 0..{num_ws}.")
        req["mix_layer"] = layer.astype(np.int64).reshape(n, 1)
    return req


def interpolate_request(
    sig: ModelSignature, seed: int, seed_to: int, t: Any, *, labels: Any = None
) -> dict[str, Array]:
    """The wire inputs of an interpolate call: one image per value of ``t`` in [0, 1]."""
    _require(sig, "seed_to", "interpolate")
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if ts.ndim != 1 or ts.size == 0:
        raise InvalidInputError("t must be a number or a 1-D list of numbers in [0, 1].")
    if not np.all(np.isfinite(ts)) or ts.min() < 0 or ts.max() > 1:
        raise InvalidInputError("t must lie in [0, 1] (0 = the start seed, 1 = the end seed).")
    n = len(ts)
    start = check_seeds(seed, "the start seed")
    end = check_seeds(seed_to, "the end seed")
    if len(start) != 1 or len(end) != 1:
        raise InvalidInputError("interpolate takes one start seed and one end seed.")
    req: dict[str, Array] = {
        "seed": np.repeat(start, n).reshape(n, 1),
        "seed_to": np.repeat(end, n).reshape(n, 1),
        "t": ts.astype(np.float32).reshape(n, 1),
    }
    if "label" in sig.inputs:
        if labels is None:
            raise InvalidInputError(
                f"{sig.name} is class-conditional: pass the label (0–{NUM_CLASSES - 1}) to hold."
            )
        lab = _per_item(labels, n, "labels")
        if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= NUM_CLASSES:
            raise InvalidInputError(f"labels must be integers in 0..{NUM_CLASSES - 1}.")
        req["label"] = lab.astype(np.int64).reshape(n, 1)
    elif labels is not None:
        raise InvalidInputError(f"{sig.name} is not class-conditional: drop the label.")
    return req


def _require(sig: ModelSignature, name: str, does: str) -> None:
    if name not in sig.inputs:
        raise InvalidInputError(
            f"{sig.name} does not {does}: its inputs are {', '.join(sig.inputs) or 'none'}."
        )


def split_batches(inputs: Mapping[str, Array], max_batch_size: int) -> list[dict[str, Array]]:
    """Split a request along the batch axis into chunks of at most ``max_batch_size``."""
    n = len(next(iter(inputs.values())))
    step = max_batch_size if max_batch_size > 0 else n
    return [{k: v[i : i + step] for k, v in inputs.items()} for i in range(0, n, step)]


def join_batches(parts: Sequence[Mapping[str, Array]]) -> dict[str, Array]:
    """Concatenate per-chunk results along the batch axis."""
    if len(parts) == 1:
        return dict(parts[0])
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def model_candidates(model: str, entries: Sequence[str]) -> list[str]:
    """Triton names that may serve one of ``entries`` of zoo ``model``, in the order tried.

    Multi-entry models are served as ``<model>_<entry>``, single-entry ones under their own
    name; a Triton model name is accepted as it is.
    """
    return [f"{model}_{e}" for e in entries] + [model]


def resolve_model(served: Iterable[str], model: str, entries: Sequence[str]) -> str:
    """The Triton model in ``served`` serving one of ``entries`` of zoo ``model``."""
    names = set(served)
    for candidate in model_candidates(model, entries):
        if candidate in names:
            return candidate
    close = difflib.get_close_matches(model, sorted(names), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ModelNotFoundError(
        f"the server does not serve {' or '.join(entries)} of {model!r}.{hint} "
        "`ZooClient.list_models()` lists what it serves; `zoo repo build` adds models."
    )
