"""Requests: user arguments → wire tensors, checked before anything is sent; batching.

The checks of seeds, labels, ψ, t, ws and mixing layers are :mod:`zoo.validation`'s, the ones
the server side runs again on what arrives; a label's range is the served signature's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from serving.client.signature import ENCODER_SUFFIX, Array, ModelSignature
from zoo.errors import InvalidInputError, ModelNotFoundError
from zoo.roles import fill_scalar
from zoo.validation import (
    check_labels,
    check_mix_layers,
    check_mix_seeds,
    check_psi,
    check_seeds,
    check_t,
    per_item,
)
from zoo.validation import check_ws as check_w_values

# ---------------------------------------------------------------------------------------------
# Requests: user arguments → wire tensors, checked before anything is sent.
# ---------------------------------------------------------------------------------------------


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
    req |= _label_input(sig, labels, n, f"labels ({_classes(sig)})", "the labels")
    if "psi" in sig.inputs:
        req["psi"] = check_psi(1.0 if psi is None else psi, n).reshape(n, 1)
    elif psi is not None:
        raise InvalidInputError(f"{sig.name} has no truncation ψ (StyleGAN2 models have).")
    if "mix_seed" in sig.inputs:
        req["mix_seed"] = check_mix_seeds(mix_seeds, s).reshape(n, 1)
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


def check_masks(
    sig: ModelSignature, masks: Any, n: int, name: str = "mask"
) -> npt.NDArray[np.uint8]:
    """Masks as uint8 (N, H, W, 1) for input ``name``: 1 where the pixel is known, 0 where it
    is to be filled."""
    _require(sig, name, "inpaint")
    h, w, c = sig.inputs[name][1]
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
    return check_w_values(ws, sig.inputs["w"][1])


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
        layer = check_mix_layers(mix_layer, n, num_ws)
        w = np.where(np.arange(num_ws)[None, :, None] < layer[:, None, None], w, other)
        mix_layer = None
    req: dict[str, Array] = {"w": w.astype(np.float32)}
    if psi is not None:
        req["psi"] = check_psi(psi, n).reshape(n, 1)
    if (mix_seeds is None) != (mix_layer is None):
        raise InvalidInputError(
            f"style mixing takes both a mixing seed and mix_layer (0–{num_ws}), or neither."
        )
    if mix_seeds is not None:
        mix = check_seeds(per_item(mix_seeds, n, "mixing seeds"), "mixing seeds")
        req["mix_seed"] = mix.reshape(n, 1)
        req["mix_layer"] = check_mix_layers(mix_layer, n, num_ws).reshape(n, 1)
    return req


def interpolate_request(
    sig: ModelSignature, seed: int, seed_to: int, t: Any, *, labels: Any = None
) -> dict[str, Array]:
    """The wire inputs of an interpolate call: one image per value of ``t`` in [0, 1]."""
    _require(sig, "seed_to", "interpolate")
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if ts.ndim != 1 or ts.size == 0:
        raise InvalidInputError("t must be a number or a 1-D list of numbers in [0, 1].")
    n = len(ts)
    start = check_seeds(seed, "the start seed")
    end = check_seeds(seed_to, "the end seed")
    if len(start) != 1 or len(end) != 1:
        raise InvalidInputError("interpolate takes one start seed and one end seed.")
    req: dict[str, Array] = {
        "seed": np.repeat(start, n).reshape(n, 1),
        "seed_to": np.repeat(end, n).reshape(n, 1),
        "t": check_t(ts, n).reshape(n, 1),
    }
    return req | _label_input(sig, labels, n, f"the label ({_classes(sig)}) to hold", "the label")


def entry_request(sig: ModelSignature, values: Mapping[str, Any]) -> dict[str, Array]:
    """The wire inputs of any entry point: each input filled by its role from ``values``, given
    by wire name (``seed=…``, ``image=…``, ``noise_scale=…``); an optional one may be left out.
    """
    unknown = sorted(set(values) - set(sig.inputs))
    if unknown:
        raise InvalidInputError(
            f"{sig.name} takes no input {', '.join(unknown)}; its inputs are "
            f"{', '.join(sig.inputs) or 'none'}."
        )
    given = {k: v for k, v in values.items() if v is not None}
    missing = [k for k in sig.inputs if k not in given and not sig.role(k).optional]
    if missing:
        raise InvalidInputError(f"{sig.name} needs {', '.join(missing)}.")
    # Inputs with items of their own (seeds, images, ws, codes) say how many there are.
    req = {k: _batch_input(sig, k, v) for k, v in given.items() if sig.role(k).kind in _ITEMS}
    n = len(next(iter(req.values()))) if req else 1
    if any(len(v) != n for v in req.values()):
        raise InvalidInputError(
            f"{sig.name}'s inputs must have one item each, as many as the first."
        )
    for name, value in given.items():
        role = sig.role(name)
        if role.kind == "label":
            req[name] = check_labels(value, n, sig.label_classes).reshape(n, 1)
        elif role.kind == "mask":
            req[name] = check_masks(sig, value, n, name)
        elif role.kind == "scalar":
            req[name] = fill_scalar(role, name, value, n, entry=sig.name).reshape(n, 1)
        elif role.kind not in _ITEMS:
            req[name] = _as_given(sig, name, value, n)
    return {k: req[k] for k in sig.inputs if k in req}


#: The roles whose values carry the request's items (the others have one value per item).
_ITEMS = ("seed", "image", "ws", "latent")


def _batch_input(sig: ModelSignature, name: str, value: Any) -> Array:
    """Input ``name`` of a role in :data:`_ITEMS`, checked: seeds as a column, the others as
    their own checks take them."""
    kind = sig.role(name).kind
    if kind == "seed":
        return check_seeds(value, name).reshape(-1, 1)
    if kind == "image":
        return check_images(sig, value, name)
    return (
        check_latents(sig, value, name)
        if kind == "latent"
        else check_w_values(value, sig.inputs[name][1])
    )


def _as_given(sig: ModelSignature, name: str, value: Any, n: int) -> Array:
    """Input ``name`` that travels as it is: one value per item, in its dtype and dims."""
    dtype, dims = sig.inputs[name]
    arr = np.asarray(value)
    if dims == (1,):
        arr = per_item(arr, n, name).reshape(n, 1)
    if arr.shape != (n, *dims):
        raise InvalidInputError(
            f"{sig.name} takes {name} of shape ({n}, {', '.join(map(str, dims))}), got {arr.shape}."
        )
    return arr.astype(dtype)


def _label_input(sig: ModelSignature, labels: Any, n: int, ask: str, drop: str) -> dict[str, Array]:
    """The label input of ``n`` items (its role's): required by a class-conditional model,
    which says to pass ``ask``; refused by the others, which say to drop ``drop``."""
    for name in sig.inputs_of("label"):
        if labels is None:
            raise InvalidInputError(f"{sig.name} is class-conditional: pass {ask}.")
        return {name: check_labels(labels, n, sig.label_classes).reshape(n, 1)}
    if labels is not None:
        raise InvalidInputError(f"{sig.name} is not class-conditional: drop {drop}.")
    return {}


def _classes(sig: ModelSignature) -> str:
    """The labels ``sig`` takes, for a message: ``0–9``, or ``its class labels`` when unknown."""
    return "its class labels" if sig.label_classes is None else f"0–{sig.label_classes - 1}"


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
