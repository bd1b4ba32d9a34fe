"""The seed → latent rule against a plain-Python reimplementation, and its seed checks.

The reference below uses Python integers and the ``math`` module only, so it shares no code
with :mod:`zoo.latent` (NumPy uint64 arrays). It is itself pinned first to the published
splitmix64 outputs, so both sides are checked against something neither computed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoo.errors import InvalidInputError
from zoo.latent import LATENT_STREAM, mix_seed, seed_to_latent
from zoo.validation import MAX_SEED, check_seeds

MASK64 = (1 << 64) - 1


def ref_splitmix64(x: int) -> int:
    """Vigna's splitmix64 output for state ``x`` (the state is advanced by the golden gamma)."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def ref_latent(seed: int, dim: int, stream: int = 0) -> list[float]:
    """The rule as zoo.latent documents it, one value at a time, in float64."""
    key = ref_splitmix64(seed) ^ ref_splitmix64(stream)
    words = [ref_splitmix64((key + j) & MASK64) for j in range(2 * dim)]
    u = [((w >> 11) + 0.5) / 2**53 for w in words]
    return [
        math.sqrt(-2.0 * math.log(u[2 * k])) * math.cos(2.0 * math.pi * u[2 * k + 1])
        for k in range(dim)
    ]


def test_reference_splitmix64_matches_the_published_outputs() -> None:
    # Rosetta Code, "Pseudo-random numbers/Splitmix64": the first five outputs for seed 1234567
    # (each output is splitmix64 of the state after one more golden-gamma step).
    published = [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    states = [(1234567 + k * 0x9E3779B97F4A7C15) & MASK64 for k in range(5)]
    assert [ref_splitmix64(s) for s in states] == published
    assert ref_splitmix64(0) == 0xE220A8397B1DCDAF  # first output for seed 0, also published


@pytest.mark.parametrize(
    ("seed", "k"), [(0, 0), (0, -1), (1, 1), (MAX_SEED, 2**64 - 1), (2**64 + 5, -(2**70)), (7, -3)]
)
def test_mix_seed_matches_the_reference(seed: int, k: int) -> None:
    # Training's per-step seed: both integers taken modulo 2**64, a negative k as two's complement.
    want = ref_splitmix64(ref_splitmix64(seed & MASK64) ^ (k & MASK64)) >> 1
    got = mix_seed(seed, k)
    assert got == want and 0 <= got < 2**63


@pytest.mark.parametrize("stream", [LATENT_STREAM, 1, 7, 2**40 + 3])
def test_latents_match_the_reference(stream: int) -> None:
    seeds = [0, 1, 2, 12345, 2**32 + 7, 2**62 + 1, MAX_SEED]
    dim = 9  # odd: the pairing of uniforms must not depend on an even dim
    z = seed_to_latent(np.array(seeds), dim, stream=stream)
    assert z.dtype == np.float32 and z.shape == (len(seeds), dim)
    expected = np.array([ref_latent(s, dim, stream) for s in seeds])
    # float32 rounding of the float64 value; libm and NumPy may differ in the last float64 bit.
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-7)


def test_stream_zero_is_the_default() -> None:
    seeds = np.array([3, 99])
    np.testing.assert_array_equal(seed_to_latent(seeds, 4), seed_to_latent(seeds, 4, stream=0))
    np.testing.assert_allclose(seed_to_latent([3], 4)[0], ref_latent(3, 4), rtol=1e-6)


def test_check_seeds_accepts_the_whole_int64_range() -> None:
    out = check_seeds([0, 5, MAX_SEED])
    assert out.dtype == np.int64 and out.tolist() == [0, 5, MAX_SEED]
    assert check_seeds(7).tolist() == [7]  # a scalar is one seed
    assert check_seeds(np.array([3], dtype=np.uint8)).dtype == np.int64
    batch = np.arange(5, dtype=np.int64)
    assert check_seeds(batch) is batch  # int64 input is not copied (a batch can be large)
    # An empty list is refused, as the SDK refuses it (one rule: zoo.validation).
    with pytest.raises(InvalidInputError, match=r"^seeds must be a non-empty 1-D list of integers"):
        check_seeds([])


@pytest.mark.parametrize(
    ("seeds", "match"),
    [
        (np.array([-1]), "must lie in 0..9223372036854775807"),
        (np.array([2**63], dtype=np.uint64), "must lie in 0..9223372036854775807"),
        (np.array([4, MAX_SEED + 1], dtype=np.uint64), "non-negative int64"),
        (np.array([1.0]), "must be integers, got dtype float64"),
        (np.array([True]), "must be integers, got dtype bool"),
        (np.zeros((2, 1), np.int64), r"1-D list of integers, got shape \(2, 1\)"),
    ],
)
def test_check_seeds_refuses_with_a_reason(seeds: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        check_seeds(seeds)
