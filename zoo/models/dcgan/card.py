"""The cards of DCGAN and the cGAN: their ``samples.png`` and usage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.cards import grid_panel, run_entry, seed_panel, seeded_usage
from zoo.pipeline import generator_inputs

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.registry import ModelSpec


def samples_dcgan(
    spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any
) -> Figure:
    """Seeds 0–63 as an 8 × 8 grid."""
    fig, ax = plt.subplots(figsize=(4, 4.3))
    seed_panel(ax, spec, module, "generate", "seeds 0–63")
    return fig


def samples_cgan(spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any) -> Figure:
    """Seeds 0–79, one row of eight per class."""
    labels = np.repeat(np.arange(10), 8)
    inputs = generator_inputs(spec.entry_point("generate"), np.arange(80), labels=labels)
    fig, ax = plt.subplots(figsize=(4, 5))
    x = run_entry(module, spec.name, "generate", *inputs)
    grid_panel(ax, x, 8, "seeds 0–79; row = class", [str(c) for c in range(10)])
    return fig


def usage_dcgan(spec: ModelSpec) -> str:
    """``zoo generate`` and ``generator_inputs`` of seeds."""
    return seeded_usage(spec)


def usage_cgan(spec: ModelSpec) -> str:
    """``zoo generate`` and ``generator_inputs`` of seeds with a class label."""
    return seeded_usage(spec, flags=" --label 3", kwargs=", labels=[3, 3, 3]")
