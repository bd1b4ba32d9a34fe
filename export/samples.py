"""Fixed sample inputs of an entry point: what the parity gate compares on and the bench runs.

Deterministic, so an export's gate, a FLOP count and a shape check see the same arrays on
every run and every host. Torch-free (NumPy and the core only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from zoo.latent import seed_to_latent
from zoo.pipeline import generator_inputs, is_seeded
from zoo.registry import EntryPoint
from zoo.roles import role_of

#: Offset of the seeds used for non-generator latents and mixing, apart from the main seeds.
_SEED_OFFSET = 10_000
#: The other seeds a generator takes (offset from the main seeds), by generator_inputs' keyword.
_OFFSET_SEEDS = {"mix_seed": "mix_seeds", "seed_to": "seeds_to"}
#: Where a scalar's samples are spread, by its range rule (others: [0.5, 1], ψ's range).
_SCALAR_SPREAD = {"t": (0.0, 1.0)}
#: Other int64 inputs (a class label's range is its ``classes``) cycle through 0..9.
_INT_VALUES = 10


def sample_inputs(entry: EntryPoint, n: int) -> tuple[npt.NDArray[Any], ...]:
    """``n`` fixed, deterministic inputs of ``entry``, in signature order.

    Generators get seeds ``0..n-1`` (labels ``seed % classes``, mixing and end seeds offset,
    ``t`` spread over [0, 1], other scalars such as ψ over [0.5, 1]); other entry points get
    deterministic images in [-1, 1], binary masks and standard-normal latents. Each input is
    found by its role (:mod:`zoo.roles`).
    """
    if is_seeded(entry):
        seeds = np.arange(n)
        return generator_inputs(entry, seeds, **_seeded_samples(entry, seeds))
    rng = np.random.default_rng(0)
    out: list[npt.NDArray[Any]] = []
    for t in entry.inputs:
        shape = (n, *t.shape)
        role = role_of(t).kind
        if role == "mask":
            out.append((rng.random(shape) > 0.5).astype(np.float32))
        elif role in ("latent", "seed"):  # a latent code, or a seed's latent
            out.append(seed_to_latent(np.arange(n) + _SEED_OFFSET, t.shape[0]))
        elif t.dtype == "float32":
            out.append(rng.uniform(-1.0, 1.0, shape).astype(np.float32))
        elif t.dtype == "int64":
            values = (np.arange(n) % (t.classes or _INT_VALUES)).reshape(n, *([1] * len(t.shape)))
            out.append(np.broadcast_to(values, shape).astype(np.int64))
        else:
            out.append(rng.integers(0, 256, shape).astype(np.dtype(t.dtype)))
    return tuple(np.ascontiguousarray(a) for a in out)


def _seeded_samples(entry: EntryPoint, seeds: npt.NDArray[Any]) -> dict[str, Any]:
    """:func:`generator_inputs`' keywords besides the seeds, for each of ``entry``'s roles."""
    n = len(seeds)
    out: dict[str, Any] = {}
    for t in entry.inputs:
        role = role_of(t)
        if role.kind == "label":
            out["labels"] = seeds % t.classes
        elif role.seed in _OFFSET_SEEDS:
            out[_OFFSET_SEEDS[role.seed]] = seeds + _SEED_OFFSET
        elif role.kind == "scalar":
            out[t.name] = np.linspace(*_SCALAR_SPREAD.get(role.check, (0.5, 1.0)), n)
    return out
