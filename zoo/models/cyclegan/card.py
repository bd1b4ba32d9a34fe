"""The CycleGAN's card: its ``samples.png`` and usage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.cards import grid_panel, one_per_class, run_entry, usage_text
from zoo.data import load_digits

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.registry import ModelSpec


def samples_cyclegan(
    spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any
) -> Figure:
    """Sixteen test digits of each domain above their translations, one panel per direction."""
    uci = one_per_class(load_digits("uci-digits", "test"), 16)
    mnist = one_per_class(load_digits("mnist", "test"), 16)
    a2b = run_entry(module, spec.name, "translate_a2b", uci)
    b2a = run_entry(module, spec.name, "translate_b2a", mnist)
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.9))
    for ax, src, out, title, (s_lab, o_lab) in (
        (axes[0], uci, a2b, "UCI → MNIST", ("UCI", "→ MNIST")),
        (axes[1], mnist, b2a, "MNIST → UCI", ("MNIST", "→ UCI")),
    ):
        rows = np.concatenate([src[:8], out[:8], src[8:], out[8:]])
        grid_panel(ax, rows, 8, title, [s_lab, o_lab, s_lab, o_lab])
    return fig


def usage_cyclegan(spec: ModelSpec) -> str:
    """``zoo translate``, both directions in torch, the SDK's translate."""
    n = spec.name
    return usage_text(
        spec,
        cli=[f"zoo translate {n} uci_digit.png --direction a2b --out mnist_style.png"],
        python=(
            "x = torch.rand(4, 1, 32, 32) * 2 - 1  # UCI-style digits in [-1, 1]\n"
            "mnist_style = model.translate_a2b(x)\n"
            "uci_style = model.translate_b2a(mnist_style)"
        ),
        sdk=f'mnist_style = client.translate("{n}", images, direction="a2b")  # uint8 NHWC',
    )
