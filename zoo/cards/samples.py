"""``samples.png``: the kit a family draws its card's picture with, and the file it goes to.

A family's ``Family.samples`` (a :data:`CardSamples`, in its ``card`` module) draws the
picture with :func:`grid_panel`, :func:`seed_panel`, :func:`confusion_panel`,
:func:`one_per_class` and :func:`run_entry`; :func:`render_samples` titles and writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from zoo.errors import MissingDependencyError
from zoo.evaluate import EvalReport
from zoo.pipeline import generator_inputs, to_uint8_nhwc
from zoo.registry import ModelSpec, get_family, get_spec
from zoo.runners import TorchRunner
from zoo.weights import write_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.data import Digits

#: ``samples(spec, module, report, plt) -> Figure``: a family's picture (``Family.samples``) of
#: ``module`` (the model the card describes) or of ``report``; ``plt`` is matplotlib's pyplot.
CardSamples = Callable[[ModelSpec, "nn.Module", EvalReport | None, Any], "Figure"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise MissingDependencyError("matplotlib", "train") from e
    return plt


def grid_panel(
    ax: Axes,
    images: npt.NDArray[np.float32],
    ncols: int,
    title: str,
    row_labels: list[str] | None = None,
) -> None:
    """Draw [-1, 1] NCHW ``images`` as a grid on ``ax``, with optional per-row labels."""
    from zoo.images import make_grid

    pad = 2
    grid = make_grid(to_uint8_nhwc(images), ncols=ncols, pad=pad)
    ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    side = images.shape[-1] + pad
    if row_labels:
        ax.set_yticks([pad + side * i + images.shape[-1] / 2 for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels, fontsize=7)
        ax.tick_params(length=0)
    else:
        ax.set_yticks([])


def confusion_panel(ax: Axes, confusion: list[list[int]], title: str) -> None:
    """Draw a 10 × 10 confusion matrix (rows = true class) with its counts on ``ax``."""
    cm = np.asarray(confusion)
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            colour = "white" if v > cm.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(title, fontsize=9)


def one_per_class(d: Digits, k: int) -> npt.NDArray[np.float32]:
    """``k`` images of ``d`` cycling through the classes 0, 1, …, 9, 0, … (first of each)."""
    idx = [np.flatnonzero(d.labels == i % 10)[i // 10] for i in range(k)]
    return d.images[idx]


def run_entry(module: nn.Module, name: str, entry: str, *inputs: Any) -> npt.NDArray[np.float32]:
    """The first output of ``module``'s entry point ``entry`` (model ``name``), in torch."""
    return TorchRunner(name, module, entry)(*inputs)[0].astype(np.float32)


def seed_panel(
    ax: Axes, spec: ModelSpec, module: nn.Module, entry: str, title: str, **kw: Any
) -> None:
    """Draw seeds 0–63 of the seeded ``entry`` as an 8 × 8 grid (``kw``: its other inputs)."""
    inputs = generator_inputs(spec.entry_point(entry), np.arange(64), **kw)
    grid_panel(ax, run_entry(module, spec.name, entry, *inputs), 8, title)


def render_samples(
    name: str, path: Path, *, module: nn.Module | None = None, report: EvalReport | None = None
) -> Path:
    """Write ``samples.png`` of ``name``: its family's picture, titled with the model's name.

    ``module`` is the model drawn (default: the pulled trained weights); a family may draw
    from ``report`` instead (the classifier draws the confusion matrices in its details).
    """
    spec = get_spec(name)
    plt = _pyplot()
    if module is None:
        from zoo.hub import load

        module = load(name)
    samples: CardSamples = get_family(spec.family).part("samples")
    fig = samples(spec, module, report, plt)
    fig.suptitle(f"{name}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return path
