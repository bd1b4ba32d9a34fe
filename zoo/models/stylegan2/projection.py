"""Projection into StyleGAN2's W+: refinement of the encoder's ws, and the metrics behind its card.

The encoder (``stylegan2-mnist-encoder``, :class:`~zoo.models.stylegan2.StyleGAN2Projector`)
gives ws in one feed-forward call. :func:`refine_ws` then optimises them, as StyleGAN2-ADA's
``projector.py`` does for w, against the digit's pixels and its features in the zoo
classifier's embedding (the feature space every metric here uses). It draws no random numbers
and runs with a fixed number of steps, so the same digits and settings give the same ws.

:func:`perceptual_path_length` is the StyleGAN paper's PPL with the classifier's feature
distance in place of LPIPS: ``E[d(G(lerp(t)), G(lerp(t + ε))) / ε²]`` over pairs of seeds,
``t`` uniform, with slerp in z or lerp in w.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from zoo.latent import seed_to_latent

if TYPE_CHECKING:
    import torch

    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Generator, StyleGAN2Projector

#: Optimisation steps of the default refinement (``zoo project --steps``).
DEFAULT_STEPS = 50
#: Adam's learning rate on the ws.
REFINE_LR = 0.05
#: Weight of the classifier-feature loss beside the pixel loss.
FEATURE_WEIGHT = 0.5
#: Step of the finite difference in perceptual path length (as in the StyleGAN paper).
PPL_EPSILON = 1e-4
#: Stream of the seed rule for PPL's positions t (apart from latents, stream 0).
PPL_STREAM = 11


def feature_distance(classifier: DigitClassifier, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image squared distance of two image batches in the classifier's feature space."""
    return (classifier.features(a) - classifier.features(b)).square().sum(1)


def refine_ws(
    projector: StyleGAN2Projector,
    classifier: DigitClassifier,
    images: torch.Tensor,
    ws: torch.Tensor,
    *,
    steps: int = DEFAULT_STEPS,
    lr: float = REFINE_LR,
    feature_weight: float = FEATURE_WEIGHT,
) -> torch.Tensor:
    """ws ``(B, num_ws, w_dim)`` optimised for ``steps`` Adam steps to reproduce ``images``.

    Loss per digit: pixel MSE plus ``feature_weight`` × the classifier-feature MSE, relative
    to the digit's own feature energy. The loss is a sum over the batch, so each digit's
    gradient is its own (the batch changes a result only by floating-point summation order).
    """
    import torch

    generator = projector.generator.eval()
    classifier = classifier.eval()
    target = images.detach()
    with torch.no_grad():
        target_features = classifier.features(target)
        energy = target_features.square().mean(1).clamp_min(1e-8)
    w = ws.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    for _ in range(steps):
        rec = generator.synthesis(w)
        pixel = (rec - target).square().flatten(1).mean(1)
        feature = (classifier.features(rec) - target_features).square().mean(1) / energy
        loss = (pixel + feature_weight * feature).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return w.detach()


def psnr_per_image(
    images: npt.NDArray[np.floating], references: npt.NDArray[np.floating]
) -> npt.NDArray[np.float64]:
    """PSNR in dB of each [-1, 1] image against its reference (the zoo's definition)."""
    from zoo.metrics import psnr

    return np.array([psnr(a[None], b[None]) for a, b in zip(images, references, strict=True)])


def perceptual_path_length(
    generator: StyleGAN2Generator,
    classifier: DigitClassifier,
    *,
    space: str,
    n: int = 256,
    seed: int = 0,
    epsilon: float = PPL_EPSILON,
) -> float:
    """PPL in the classifier's feature space over ``n`` seed pairs, in ``space`` "z" or "w".

    The pairs are seeds ``seed + 2i`` and ``seed + 2i + 1``; ``t`` comes from the seed rule
    too, so the figure is reproducible. The top and bottom 1 % are dropped, as in the paper.
    """
    import torch

    from zoo.models.layers import slerp

    if space not in ("z", "w"):
        raise ValueError(f"space must be 'z' or 'w', got {space!r}")
    starts = seed + 2 * np.arange(n)
    z0 = torch.from_numpy(seed_to_latent(starts, generator.z_dim))
    z1 = torch.from_numpy(seed_to_latent(starts + 1, generator.z_dim))
    u = seed_to_latent(np.array([seed]), 2 * n, stream=PPL_STREAM)[0]
    t = torch.from_numpy((0.5 * (1 + np.tanh(u[:n]))).astype(np.float32))  # in (0, 1)
    num_ws = generator.synthesis.num_ws
    with torch.no_grad():
        if space == "z":
            za, zb = slerp(z0, z1, t), slerp(z0, z1, t + epsilon)
            wa, wb = generator.mapping(za), generator.mapping(zb)
        else:
            w0, w1 = generator.mapping(z0), generator.mapping(z1)
            wa, wb = torch.lerp(w0, w1, t[:, None]), torch.lerp(w0, w1, (t + epsilon)[:, None])
        a = generator.synthesis(wa[:, None].expand(-1, num_ws, -1))
        b = generator.synthesis(wb[:, None].expand(-1, num_ws, -1))
        d = (feature_distance(classifier, a, b) / epsilon**2).numpy().astype(np.float64)
    lo, hi = np.percentile(d, [1, 99])
    return float(d[(d >= lo) & (d <= hi)].mean())
