"""The VAE's card: its ``samples.png`` and usage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.cards import grid_panel, one_per_class, run_entry, seed_panel, seeded_usage
from zoo.data import load_digits
from zoo.models.vae.evaluation import half_masks

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.registry import ModelSpec


def samples_vae(spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any) -> Figure:
    """Prior samples of seeds 0–63 beside test digits reconstructed and inpainted."""
    test = one_per_class(load_digits("mnist", "test"), 8)
    mask = half_masks(len(test), test.shape[-1])
    hidden = mask * test + (1 - mask) * -1.0
    filled = run_entry(module, spec.name, "inpaint", hidden, mask)
    recon = run_entry(module, spec.name, "reconstruct", test)
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.3), gridspec_kw={"width_ratios": [1, 1]})
    seed_panel(axes[0], spec, module, "sample", "prior samples, seeds 0–63")
    grid_panel(
        axes[1],
        np.concatenate([test, recon, hidden, filled]),
        8,
        "test digits: reconstruction and inpainting",
        ["original", "reconstructed", "half hidden", "inpainted"],
    )
    return fig


def usage_vae(spec: ModelSpec) -> str:
    """``zoo generate`` / ``zoo inpaint``, the sampler, encode and inpaint in torch."""
    return seeded_usage(
        spec,
        cli=[f"zoo inpaint {spec.name} digit.png --hole 0,16,32,16 --out inpainted.png"],
        python=(
            "\nmu, logvar = model.encode(images)  # 16 floats per digit\n"
            "mask = torch.ones_like(images)\n"
            "mask[:, :, :16] = 0  # top half unknown\n"
            "completed = model.inpaint(images, mask)"
        ),
    )
