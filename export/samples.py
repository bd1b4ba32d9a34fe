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

#: Offset of the seeds used for non-generator latents and mixing, apart from the main seeds.
_SEED_OFFSET = 10_000
#: Other int64 inputs (a class label's range is its ``classes``) cycle through 0..9.
_INT_VALUES = 10


def sample_inputs(entry: EntryPoint, n: int) -> tuple[npt.NDArray[Any], ...]:
    """``n`` fixed, deterministic inputs of ``entry``, in signature order.

    Generators get seeds ``0..n-1`` (labels ``seed % classes``, ψ spread over [0.5, 1], mixing and
    end seeds offset, ``t`` spread over [0, 1]); other entry points get deterministic images in
    [-1, 1], binary masks and standard-normal latents.
    """
    if is_seeded(entry):
        names = {t.name: t for t in entry.inputs}
        seeds = np.arange(n)
        return generator_inputs(
            entry,
            seeds,
            labels=seeds % names["label"].classes if "label" in names else None,
            psi=np.linspace(0.5, 1.0, n) if "psi" in names else None,
            mix_seeds=seeds + _SEED_OFFSET if "mix_z" in names else None,
            seeds_to=seeds + _SEED_OFFSET if "z_to" in names else None,
            t=np.linspace(0.0, 1.0, n) if "t" in names else None,
        )
    rng = np.random.default_rng(0)
    out: list[npt.NDArray[Any]] = []
    for t in entry.inputs:
        shape = (n, *t.shape)
        if t.name == "mask":
            out.append((rng.random(shape) > 0.5).astype(np.float32))
        elif t.dtype == "float32" and len(t.shape) == 1:
            out.append(seed_to_latent(np.arange(n) + _SEED_OFFSET, t.shape[0]))
        elif t.dtype == "float32":
            out.append(rng.uniform(-1.0, 1.0, shape).astype(np.float32))
        elif t.dtype == "int64":
            values = (np.arange(n) % (t.classes or _INT_VALUES)).reshape(n, *([1] * len(t.shape)))
            out.append(np.broadcast_to(values, shape).astype(np.int64))
        else:
            out.append(rng.integers(0, 256, shape).astype(np.dtype(t.dtype)))
    return tuple(np.ascontiguousarray(a) for a in out)
