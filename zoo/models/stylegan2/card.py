"""The cards of StyleGAN2 and its W+ encoder: their ``samples.png`` and usage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from zoo.cards import grid_panel, one_per_class, seed_panel, seeded_usage, usage_text
from zoo.data import load_digits
from zoo.evaluate import EVALUATOR
from zoo.latent import seed_to_latent
from zoo.models.stylegan2.evaluation import RESTYLE_LAYER, TRUNCATED_PSI
from zoo.models.stylegan2.projection import DEFAULT_STEPS, refine_ws

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Projector
    from zoo.registry import ModelSpec


def samples_stylegan2(
    spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any
) -> Figure:
    """Seeds 0–63 untruncated and at the evaluation's ψ, side by side."""
    psis = (1.0, TRUNCATED_PSI)
    fig, axes = plt.subplots(1, len(psis), figsize=(4 * len(psis), 4.3))
    for ax, psi in zip(axes, psis, strict=True):
        seed_panel(ax, spec, module, "generate", f"seeds 0–63, ψ = {psi:g}", psi=psi)
    return fig


def samples_stylegan2_encoder(
    spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any
) -> Figure:
    """Test digits, their projection by the encoder, refined, and restyled from a seed."""
    import torch

    from zoo.hub import load

    projector = cast("StyleGAN2Projector", module)
    classifier = cast("DigitClassifier", load(EVALUATOR))
    test = one_per_class(load_digits("mnist", "test"), 8)
    digits = torch.from_numpy(test)
    with torch.no_grad():
        ws, rec = projector.project(digits)
    refined = refine_ws(projector, classifier, digits, ws)
    g = projector.generator
    with torch.no_grad():
        ref = g.synthesis(refined)
        mix_z = torch.from_numpy(seed_to_latent(np.arange(len(test)), g.z_dim))
        layer = torch.full((len(test),), RESTYLE_LAYER, dtype=torch.int64)
        restyled = g.synthesize(refined, torch.ones(len(test)), mix_z, layer)
    fig, ax = plt.subplots(figsize=(4, 2.6))
    grid_panel(
        ax,
        np.concatenate([test, rec.numpy(), ref.numpy(), restyled.numpy()]),
        8,
        "test digits projected into stylegan2-mnist",
        ["original", "encoder", f"+{DEFAULT_STEPS} steps", f"ws {RESTYLE_LAYER}+ seed i"],
    )
    return fig


def usage_stylegan2(spec: ModelSpec) -> str:
    """``zoo generate`` and ``generator_inputs`` of seeds with ψ (and a mixing seed)."""
    return seeded_usage(spec, flags=" --psi 0.7 --mix-seed 9", kwargs=", psi=0.7")


def usage_stylegan2_encoder(spec: ModelSpec) -> str:
    """``zoo project`` / ``zoo interpolate``, ``project`` + ``refine_ws``, the SDK's project."""
    gen = spec.name.removesuffix("-encoder")
    return usage_text(
        spec,
        cli=[
            f"zoo project {gen} digit.png --out projected/  # png + ws (.npy) + PSNR",
            f"zoo project {gen} digit.png --steps 0 --out projected/  # encoder alone",
            f"zoo interpolate {gen} --seeds 3,7 --steps 8 --out morph.gif",
        ],
        python=(
            "x = torch.rand(4, 1, 32, 32) * 2 - 1  # digits in [-1, 1]\n"
            "ws, reconstruction = model.project(x)  # ws: (4, 8, 64), one w per layer\n"
            f'ws = refine_ws(model, zoo.load("classifier-mnist"), x, ws)  # {DEFAULT_STEPS} steps'
        ),
        sdk=(
            f'ws, reconstruction = client.project("{gen}", images)  # images: uint8 NHWC\n'
            f'    restyled = client.synthesize("{gen}", ws, mix_seeds=9, mix_layer=4)'
        ),
        imports="from zoo.models.stylegan2.projection import refine_ws\n",
    )
