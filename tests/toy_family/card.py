"""The toy family's card: 64 seeds as its picture, the generic seeded-generator usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.cards import seed_panel, seeded_usage

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.registry import ModelSpec


def samples_toy(spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any) -> Figure:
    """Seeds 0–63 as an 8 × 8 grid."""
    fig, ax = plt.subplots(figsize=(4, 4.3))
    seed_panel(ax, spec, module, "generate", "seeds 0–63")
    return fig


def usage_toy(spec: ModelSpec) -> str:
    """``zoo generate`` and ``generator_inputs`` of seeds, as for any seeded generator."""
    return seeded_usage(spec)
