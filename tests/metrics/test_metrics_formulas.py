"""zoo.metrics against hand-computed cases and closed forms."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NoReturn

import numpy as np
import pytest

from zoo import metrics
from zoo.errors import InvalidInputError


def _gaussian(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim))


def test_fid_of_a_set_with_itself_is_zero() -> None:
    x = _gaussian(500, 16, 0)
    assert metrics.fid(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_a_shifted_set_is_the_squared_shift() -> None:
    # A shift leaves the covariance unchanged, so the trace term vanishes exactly.
    x = _gaussian(400, 8, 1)
    shift = np.arange(8) / 4.0
    assert metrics.fid(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-8)


def test_frechet_distance_of_one_dimensional_gaussians() -> None:
    # N(0, 1) vs N(3, 4): (0 - 3)² + 1 + 4 - 2·sqrt(1·4) = 9 + 1 = 10.
    assert metrics.frechet_distance([0.0], [[1.0]], [3.0], [[4.0]]) == pytest.approx(10.0)


def test_frechet_distance_of_diagonal_gaussians() -> None:
    # Commuting covariances: ‖Δμ‖² + Σ (σ₁ − σ₂)².
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = float(((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    got = metrics.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert got == pytest.approx(expected)


def test_frechet_distance_matches_the_sqrtm_form_for_general_covariances(
    missing_component: Callable[[str], NoReturn],
) -> None:
    try:  # the reference sqrtm: SciPy, installed with scikit-learn (genzoo[train])
        from scipy import linalg
    except ImportError:
        missing_component("scipy is not installed: `make setup` installs genzoo[train]")
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * covmean))
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_fid_grows_with_the_gap_between_sets() -> None:
    x = _gaussian(300, 4, 4)
    near, far = metrics.fid(x, x * 1.1), metrics.fid(x, x * 3.0)
    assert 0.0 < near < far


def test_precision_recall_of_identical_sets_is_one() -> None:
    x = _gaussian(200, 5, 5)
    assert metrics.precision_recall(x, x) == (1.0, 1.0)


def test_precision_recall_of_disjoint_sets_is_zero() -> None:
    x = _gaussian(200, 5, 6)
    assert metrics.precision_recall(x, x + 1000.0) == (0.0, 0.0)


def test_precision_recall_hand_computed_with_k1() -> None:
    real = np.array([[0.0], [1.0], [2.0], [10.0]])  # 1-NN radii 1, 1, 1, 8
    fake = np.array([[0.5], [5.0], [20.0]])  # 1-NN radii 4.5, 4.5, 15
    # 0.5 lies in the ball of 0, 5 in the ball of 10 (radius 8), 20 in none → 2/3.
    # Real 0, 1, 2 lie in the ball of 0.5 (radius 4.5), 10 in the ball of 20 (radius 15) → 1.
    precision, recall = metrics.precision_recall(real, fake, k=1)
    assert precision == pytest.approx(2 / 3)
    assert recall == 1.0


def test_knn_radii_exclude_the_sample_itself() -> None:
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(metrics.knn_radii(x, k=1), [1.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(metrics.knn_radii(x, k=3), [7.0, 6.0, 4.0, 7.0])


def test_class_coverage_histogram_and_ratio() -> None:
    pred = np.array([0] * 6 + [1] * 3 + [2] * 2 + list(range(3, 10)) * 2)
    cov = metrics.class_coverage(pred)
    assert cov.histogram == (6, 3, 2, 2, 2, 2, 2, 2, 2, 2)
    assert cov.covered == 10
    assert cov.ratio_max_min == 3.0


def test_class_coverage_with_a_missing_class() -> None:
    cov = metrics.class_coverage(np.array([0, 1, 1, 2]))
    assert cov.covered == 3
    assert math.isinf(cov.ratio_max_min)


def test_accuracy_and_predicted_classes() -> None:
    logits = np.array([[0.1, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    pred = metrics.predicted_classes(logits)
    np.testing.assert_array_equal(pred, [1, 0, 2, 0])
    assert metrics.accuracy(pred, np.array([1, 0, 1, 1])) == 0.5


def test_psnr_hand_computed() -> None:
    ref = -np.ones((2, 1, 4, 4))
    img = ref.copy()
    img[:, 0, 0, 0] = 1.0  # one pixel of 16 off by the full range → MSE 1/16
    assert metrics.psnr(img, ref) == pytest.approx(10 * math.log10(16))
    only_wrong = np.zeros((1, 1, 4, 4))
    only_wrong[..., 0, 0] = 1
    assert metrics.psnr(img, ref, only_wrong) == pytest.approx(0.0)
    assert metrics.psnr(img, ref, 1 - only_wrong) == pytest.approx(100.0)  # MSE floor


def test_psnr_averages_per_image_figures() -> None:
    ref = np.zeros((2, 1, 2, 2))
    img = ref.copy()
    img[0] += 0.2  # [0, 1] difference 0.1 → 20 dB
    img[1] += 0.02  # → 40 dB
    assert metrics.psnr(img, ref) == pytest.approx(30.0)


def test_bernoulli_elbo_hand_computed() -> None:
    probs = np.full((2, 1, 2, 2), 0.5)
    targets = np.array([np.zeros((1, 2, 2)), np.ones((1, 2, 2))])
    mu = np.array([[0.0, 0.0], [1.0, 1.0]])
    logvar = np.zeros((2, 2))
    # log-likelihood 4·ln ½ each; KL 0 for the first, ½·(1 + 1) = 1 for the second.
    expected = np.array([4 * math.log(0.5), 4 * math.log(0.5) - 1.0])
    np.testing.assert_allclose(metrics.bernoulli_elbo(probs, targets, mu, logvar), expected)


def test_bernoulli_elbo_rewards_a_better_decoder() -> None:
    targets = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    good = np.array([[[[0.1, 0.9], [0.9, 0.1]]]])
    bad = 1 - good
    zeros = np.zeros((1, 2))
    assert (
        metrics.bernoulli_elbo(good, targets, zeros, zeros)[0]
        > (metrics.bernoulli_elbo(bad, targets, zeros, zeros)[0])
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: metrics.fid(np.zeros(5), np.zeros(5)),
        lambda: metrics.fid(np.zeros((4, 3)), np.zeros((4, 2))),
        lambda: metrics.knn_radii(np.zeros((3, 2)), k=3),
        lambda: metrics.class_coverage(np.array([0, 10])),
        lambda: metrics.accuracy(np.array([1, 2]), np.array([1])),
        lambda: metrics.psnr(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 3))),
        lambda: metrics.psnr(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)), np.zeros(1)),
    ],
)
def test_bad_inputs_raise_one_clear_error(call: object) -> None:
    with pytest.raises(InvalidInputError):
        call()  # type: ignore[operator]
