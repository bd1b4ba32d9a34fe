"""The classifier's card: its ``samples.png`` (drawn from its report) and usage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.cards import confusion_panel, usage_text
from zoo.errors import WeightsNotFoundError
from zoo.settings import EVAL_NAME

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.registry import ModelSpec


def samples_classifier(
    spec: ModelSpec, module: nn.Module, report: EvalReport | None, plt: Any
) -> Figure:
    """The confusion matrices of ``report`` on MNIST and UCI digits (``module`` is not run)."""
    if report is None:
        raise WeightsNotFoundError(f"the classifier's picture needs its {EVAL_NAME}.")
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
    acc = {m.name: m.value for m in report.metrics}
    for ax, key, ds, label in (
        (axes[0], "accuracy", "mnist", "MNIST"),
        (axes[1], "accuracy_uci", "uci-digits", "UCI digits"),
    ):
        value = acc.get(key)
        title = f"{label} test split" + (f", accuracy {value:.2%}" if value is not None else "")
        confusion_panel(ax, report.details[f"confusion_{ds}"], title)
    return fig


def usage_classifier(spec: ModelSpec) -> str:
    """``zoo classify``, logits in torch, the SDK's classify."""
    n = spec.name
    return usage_text(
        spec,
        cli=[f"zoo classify {n} digit.png"],
        python="logits = model.classify(torch.rand(4, 1, 32, 32) * 2 - 1)  # (4, 10)",
        sdk=f'logits = client.classify("{n}", images)  # images: uint8 NHWC',
    )
