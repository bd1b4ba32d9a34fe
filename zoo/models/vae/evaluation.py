"""The VAE's evaluation protocol (``zoo eval vae-mnist``).

Reconstruction PSNR, ELBO (nats per image, one posterior sample), FID of prior samples, and
inpainting PSNR on the unknown half of each digit (:func:`half_masks`: top half for even
indices, bottom half for odd) against filling it with the training mean image.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from zoo import metrics
from zoo.data import load_digits
from zoo.evaluate import EvalContext, MakeRunner, generate_batched, run_batched
from zoo.latent import seed_to_latent

#: Stream of the seed rule for the VAE's posterior sample in the ELBO (latents use stream 0).
ELBO_STREAM = 11


def half_masks(n: int, side: int) -> npt.NDArray[np.float32]:
    """Masks ``(n, 1, side, side)``, 1 = known: top half unknown for even i, bottom for odd."""
    mask = np.ones((n, 1, side, side), dtype=np.float32)
    mask[0::2, :, : side // 2] = 0.0
    mask[1::2, :, side // 2 :] = 0.0
    return mask


def evaluate_vae(ctx: EvalContext, make: MakeRunner) -> None:
    """Reconstruction PSNR, ELBO, inpainting PSNR and gain over mean fill, FID of samples."""
    test = ctx.test_set("mnist")
    x = test.images
    recon = run_batched(make("reconstruct"), x)[0]
    ctx.add("psnr_db", metrics.psnr(recon, x), "reconstruction PSNR (dB)")

    mu, logvar = run_batched(make("encode"), x)
    eps = seed_to_latent(ctx.seed + np.arange(len(x)), mu.shape[1], stream=ELBO_STREAM)
    z = (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)
    decoded = run_batched(make("decode"), z)[0]
    elbo = metrics.bernoulli_elbo((decoded + 1) / 2, (x + 1) / 2, mu, logvar)
    ctx.add("elbo_nats", float(elbo.mean()), "ELBO (nats per image)")

    mask = half_masks(len(x), x.shape[-1])
    hidden = mask * x + (1 - mask) * -1.0  # unknown pixels blacked out before the model sees them
    filled = run_batched(make("inpaint"), hidden, mask)[0]
    mean_image = load_digits("mnist", "train").images.mean(axis=0, keepdims=True)
    mean_fill = mask * x + (1 - mask) * mean_image
    unknown = 1.0 - mask
    model_db = metrics.psnr(filled, x, unknown)
    base_db = metrics.psnr(mean_fill, x, unknown)
    ctx.add(
        "inpaint_psnr_db",
        model_db,
        "inpainting PSNR, unknown half (dB)",
        floor=base_db,
        floor_label="mean fill",
    )
    ctx.add("inpaint_gain_db", model_db - base_db, "inpainting gain over mean fill (dB)")

    samples = generate_batched(make("sample"), ctx.seeds())
    ctx.distribution_metrics(samples, with_pr=False, with_coverage=False)
