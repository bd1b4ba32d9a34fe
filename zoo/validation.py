"""The checks of what a caller passes to a model's calls, written once for both sides.

The client SDK runs them before anything is sent (:mod:`serving.client.requests`), and the
server side runs them again on what arrives (:mod:`zoo.pipeline`, run by the Triton backends
and ``InProcessZoo``), so a request that bypasses the SDK is refused with the same words. Each
check returns the value in the dtype the graph or the wire takes, or raises
:class:`zoo.errors.InvalidInputError` saying what is expected.

Torch-free, and it imports only NumPy and :mod:`zoo.errors`: the client SDK imports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError

#: Largest seed accepted: seeds are non-negative int64 values.
MAX_SEED = 2**63 - 1
#: Largest |ψ| accepted (1 = no truncation; beyond this the images are noise).
MAX_PSI = 10


def per_item(values: Any, n: int, what: str) -> npt.NDArray[Any]:
    """One value per item: a scalar is repeated; a sequence must have ``n`` entries."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise InvalidInputError(f"expected {n} {what} (one per seed), got shape {arr.shape}.")
    return arr


def check_seeds(seeds: Any, what: str = "seeds") -> npt.NDArray[np.int64]:
    """``seeds`` (an int, a range or a sequence) as a non-empty 1-D int64 array in 0..MAX_SEED.

    ``what`` names them in the message (e.g. "mixing seeds").
    """
    arr = np.asarray(seeds)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(
            f"{what} must be a non-empty 1-D list of integers, got shape {arr.shape}."
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"{what} must be integers, got dtype {arr.dtype}.")
    if int(arr.min()) < 0 or int(arr.max()) > MAX_SEED:
        raise InvalidInputError(f"{what} must lie in 0..{MAX_SEED} (non-negative int64).")
    return arr.astype(np.int64, copy=False)


def check_mix_seeds(mix_seeds: Any, seeds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """StyleGAN2's mixing seeds, one per (checked) seed; ``None`` mixes each seed with itself."""
    if mix_seeds is None:
        return seeds
    mix = check_seeds(mix_seeds, "mixing seeds")
    if mix.shape != seeds.shape:
        raise InvalidInputError(
            f"expected {len(seeds)} mixing seeds (one per seed), got {len(mix)}."
        )
    return mix


def check_labels(labels: Any, n: int, classes: int | None) -> npt.NDArray[np.int64]:
    """Class labels as int64 ``(n,)``, each in ``0..classes-1``; a single label is repeated.

    ``classes`` comes from the signature (the label input's ``classes``); ``None`` where the
    signature does not say (a server that tells only tensor shapes): then only a negative label
    is refused here, and the server's own check has the range.
    """
    arr = per_item(labels, n, "labels")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"labels must be integers, got dtype {arr.dtype}.")
    bad = arr[(arr < 0) | (arr >= (np.iinfo(np.int64).max if classes is None else classes))]
    if bad.size:
        bound = "a non-negative class index" if classes is None else f"0..{classes - 1}"
        raise InvalidInputError(f"labels must lie in {bound}, got {bad[0]}.")
    return arr.astype(np.int64)


def check_psi(psi: Any, n: int) -> npt.NDArray[np.float32]:
    """Truncation ψ as float32 ``(n,)``, finite and within ±MAX_PSI; a single ψ is repeated."""
    arr = per_item(np.asarray(psi, dtype=np.float64), n, "ψ values")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(
            f"ψ must be a finite number in [-{MAX_PSI}, {MAX_PSI}] "
            "(1 = no truncation, 0.5–0.8 is typical)."
        )
    if n and np.abs(arr).max() > MAX_PSI:
        raise InvalidInputError(f"ψ must be in [-{MAX_PSI}, {MAX_PSI}] (1 = no truncation).")
    return arr.astype(np.float32)


def check_t(t: Any, n: int) -> npt.NDArray[np.float32]:
    """Interpolation positions as float32 ``(n,)`` in [0, 1]; a single value is repeated."""
    arr = per_item(np.asarray(t, dtype=np.float64), n, "t values")
    if not np.all(np.isfinite(arr)) or (n and (arr.min() < 0.0 or arr.max() > 1.0)):
        raise InvalidInputError(
            "t must lie in [0, 1] (0 = the start seed's digit, 1 = the end seed's)."
        )
    return arr.astype(np.float32)


def check_number(values: Any, n: int, what: str) -> npt.NDArray[np.float32]:
    """A scalar input ``what`` as float32 ``(n,)``, every value finite; one value is repeated."""
    arr = per_item(np.asarray(values, dtype=np.float64), n, f"{what} values")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{what} must be a finite number, got {arr.tolist()}.")
    return arr.astype(np.float32)


def check_ws(w: Any, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """ws as float32 ``(N, *shape)``, N ≥ 1 (one w per synthesis layer), every value finite."""
    arr = np.asarray(w)
    if arr.ndim == len(shape):
        arr = arr[None]
    if arr.shape[1:] != shape or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(
            f"w must be numbers of shape (N, {', '.join(map(str, shape))}) — one w per "
            f"synthesis layer, as project returns — got {arr.dtype} {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("w must be finite (no NaN or infinity); project a digit again.")
    return arr.astype(np.float32)


def check_mix_layers(layers: Any, n: int, num_ws: int) -> npt.NDArray[np.int64]:
    """Style-mixing layers as int64 ``(n,)``, each in ``0..num_ws``; a single one is repeated."""
    arr = np.asarray(layers)
    if arr.shape == (1,):
        arr = arr.reshape(())
    arr = per_item(arr, n, "mix_layer values")
    if not np.issubdtype(arr.dtype, np.integer) or (n and (arr.min() < 0 or arr.max() > num_ws)):
        raise InvalidInputError(f"mix_layer must be an integer in 0..{num_ws}, got {arr.tolist()}.")
    return arr.astype(np.int64)
