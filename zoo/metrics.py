"""Quality metrics, all computed on arrays: features, predicted classes, images, logits.

The feature space is the zoo classifier's 128-d penultimate layer (``classifier-mnist``'s
``features``), since no Inception weights can be fetched here; :mod:`zoo.evaluate` extracts
the features and calls these functions. Everything here is NumPy (float64 accumulation) and
needs no model.

Formulas
--------
- **FID** (Heusel et al. 2017): fit a Gaussian ``N(μ, Σ)`` to each feature set and take the
  Fréchet distance ``‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)``. The trace of the square root is
  computed in the symmetric form ``tr (Σ₁^½ Σ₂ Σ₁^½)^½`` with eigendecompositions, which is
  exact for symmetric positive semi-definite matrices and needs no complex arithmetic.
- **Precision / recall** (Kynkäänniemi et al. 2019, k = 3): each sample of a set gets a ball
  whose radius is the distance to its k-th nearest neighbour within the same set; the union of
  the balls approximates the set's manifold. Precision is the fraction of generated samples
  inside the real manifold, recall the fraction of real samples inside the generated one.
- **Class coverage**: histogram of the evaluator's predicted classes; the number of classes
  that occur and the ratio of the most to the least frequent class (∞ when one is missing).
- **Accuracy**: fraction of predictions equal to the reference labels (used for classifier
  accuracy, cGAN label accuracy and CycleGAN label preservation).
- **PSNR**: images in [-1, 1] are mapped to [0, 1]; per image, ``10 log10(1 / MSE)`` with the
  MSE over the pixels of a mask region (all pixels by default), then averaged over images.
  An MSE below 1e-10 counts as 1e-10 (100 dB), so a perfect image gives a finite figure.
- **ELBO** of a VAE with a Bernoulli decoder on [0, 1] pixels ``x``, one posterior sample
  ``z ~ q(z|x) = N(μ, σ²)``: ``Σ_pixels [x log p + (1 − x) log(1 − p)] − KL(q ‖ N(0, I))`` with
  ``KL = ½ Σ (μ² + σ² − 1 − log σ²)``, in nats per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError

FloatArray = npt.NDArray[np.floating]

#: Neighbour count of the k-NN manifolds of precision/recall (Kynkäänniemi et al. use 3).
PR_NEIGHBOURS = 3
#: MSE floor of :func:`psnr` (caps a perfect reconstruction at 100 dB).
MSE_FLOOR = 1e-10


def _features(x: npt.ArrayLike, what: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise InvalidInputError(f"{what} must be a (N, D) array with N ≥ 2, got {arr.shape}.")
    return arr


def gaussian_stats(
    features: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``(N, D)`` features."""
    f = _features(features, "features")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _psd_sqrt(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Square root of a symmetric PSD matrix (negative round-off eigenvalues clipped to 0)."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
    mu1: npt.ArrayLike, sigma1: npt.ArrayLike, mu2: npt.ArrayLike, sigma2: npt.ArrayLike
) -> float:
    """Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``."""
    m1, m2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    if m1.shape != m2.shape or s1.shape != s2.shape or s1.shape != (m1.size, m1.size):
        raise InvalidInputError(
            f"mismatched Gaussian shapes: μ {m1.shape} / {m2.shape}, Σ {s1.shape} / {s2.shape}."
        )
    root1 = _psd_sqrt(s1)
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    tr_covmean = float(np.sqrt(np.clip(inner, 0.0, None)).sum())
    diff = m1 - m2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)  # round-off can push an exact 0 slightly below


def fid(features_a: npt.ArrayLike, features_b: npt.ArrayLike) -> float:
    """FID between two ``(N, D)`` feature sets (Gaussians fitted to each)."""
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def _pairwise_distances(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], chunk: int = 1024
) -> npt.NDArray[np.float64]:
    """Euclidean distances ``(len(a), len(b))``, computed in row chunks."""
    bb = (b * b).sum(axis=1)
    out = np.empty((len(a), len(b)))
    for i in range(0, len(a), chunk):
        x = a[i : i + chunk]
        d2 = (x * x).sum(axis=1)[:, None] + bb[None, :] - 2.0 * x @ b.T
        out[i : i + chunk] = np.sqrt(np.clip(d2, 0.0, None))
    return out


def knn_radii(features: npt.ArrayLike, k: int = PR_NEIGHBOURS) -> npt.NDArray[np.float64]:
    """Distance of each sample to its k-th nearest neighbour in the same set (itself excluded)."""
    f = _features(features, "features")
    if not 1 <= k < len(f):
        raise InvalidInputError(f"k must lie in 1..{len(f) - 1} for {len(f)} samples, got {k}.")
    d = _pairwise_distances(f, f)
    # Column 0 of the sorted row is the sample itself (distance 0), so the k-th neighbour is k.
    return np.partition(d, k, axis=1)[:, k]


def manifold_coverage(
    reference: npt.ArrayLike, queries: npt.ArrayLike, k: int = PR_NEIGHBOURS
) -> float:
    """Fraction of ``queries`` inside some k-NN ball of ``reference``."""
    ref = _features(reference, "reference features")
    q = _features(queries, "query features")
    radii = knn_radii(ref, k)
    inside = (_pairwise_distances(q, ref) <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def precision_recall(
    real: npt.ArrayLike, fake: npt.ArrayLike, k: int = PR_NEIGHBOURS
) -> tuple[float, float]:
    """``(precision, recall)`` of ``fake`` features against ``real`` ones with k-NN manifolds."""
    return manifold_coverage(real, fake, k), manifold_coverage(fake, real, k)


@dataclass(frozen=True)
class ClassCoverage:
    """How evenly generated samples spread over the classes."""

    histogram: tuple[int, ...]  # count of samples predicted as each class
    covered: int  # classes predicted at least once
    ratio_max_min: float  # most / least frequent class count; inf when a class is missing


def class_coverage(predicted: npt.ArrayLike, num_classes: int = 10) -> ClassCoverage:
    """Histogram of predicted classes, classes covered and the max/min frequency ratio."""
    pred = np.asarray(predicted)
    if pred.ndim != 1 or pred.size == 0:
        raise InvalidInputError(
            f"predicted classes must be a non-empty 1-D array, got {pred.shape}."
        )
    if pred.min() < 0 or pred.max() >= num_classes:
        raise InvalidInputError(f"predicted classes must lie in 0..{num_classes - 1}.")
    hist = np.bincount(pred.astype(np.int64), minlength=num_classes)
    lo = int(hist.min())
    ratio = float(hist.max()) / lo if lo > 0 else float("inf")
    return ClassCoverage(tuple(int(c) for c in hist), int((hist > 0).sum()), ratio)


def accuracy(predicted: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Fraction of ``predicted`` equal to ``labels``."""
    p, y = np.asarray(predicted), np.asarray(labels)
    if p.shape != y.shape or p.ndim != 1 or p.size == 0:
        raise InvalidInputError(f"predictions {p.shape} and labels {y.shape} must match (1-D).")
    return float((p == y).mean())


def predicted_classes(logits: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Arg-max class of each row of ``(N, C)`` logits."""
    return np.asarray(logits).argmax(axis=1).astype(np.int64)


def psnr(
    images: npt.ArrayLike, references: npt.ArrayLike, mask: npt.ArrayLike | None = None
) -> float:
    """Mean per-image PSNR in dB of [-1, 1] images against references, over ``mask`` pixels.

    ``mask`` (broadcastable to the images, 1 = pixel counted) selects the region, e.g. the
    unknown half of an inpainted digit; each image must have at least one counted pixel.
    """
    x = (np.asarray(images, np.float64) + 1.0) / 2.0
    y = (np.asarray(references, np.float64) + 1.0) / 2.0
    if x.shape != y.shape or x.ndim < 2:
        raise InvalidInputError(f"images {x.shape} and references {y.shape} must match.")
    m = np.broadcast_to(np.ones(1) if mask is None else np.asarray(mask, np.float64), x.shape)
    axes = tuple(range(1, x.ndim))
    count = m.sum(axis=axes)
    if np.any(count <= 0):
        raise InvalidInputError("every image needs at least one pixel inside the PSNR mask.")
    mse = (m * (x - y) ** 2).sum(axis=axes) / count
    return float(np.mean(10.0 * np.log10(1.0 / np.maximum(mse, MSE_FLOOR))))


def bernoulli_elbo(
    probs: npt.ArrayLike, targets: npt.ArrayLike, mu: npt.ArrayLike, logvar: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """ELBO in nats of each image: Bernoulli log-likelihood minus KL to the unit Gaussian.

    ``probs`` are the decoder's pixel probabilities for one posterior sample and ``targets``
    the [0, 1] pixels, both ``(N, ...)``; ``mu``/``logvar`` the posterior ``(N, latent)``.
    Probabilities are clipped to float32's resolution (``1e-7 … 1 − 1e-7``), the precision a
    decoder that outputs images (rather than logits) can express.
    """
    p = np.clip(np.asarray(probs, np.float64), 1e-7, 1.0 - 1e-7)
    x = np.asarray(targets, np.float64)
    m, lv = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    if p.shape != x.shape or m.shape != lv.shape or len(p) != len(m):
        raise InvalidInputError(
            f"mismatched shapes: probs {p.shape}, targets {x.shape}, mu {m.shape}, "
            f"logvar {lv.shape}."
        )
    log_lik = (x * np.log(p) + (1.0 - x) * np.log1p(-p)).reshape(len(p), -1).sum(axis=1)
    kl = 0.5 * (m**2 + np.exp(lv) - 1.0 - lv).reshape(len(m), -1).sum(axis=1)
    return log_lik - kl
