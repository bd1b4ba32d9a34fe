"""The CNN digit classifier: the registry entry (torch-free).

The network (:class:`DigitClassifier`) lives in :mod:`zoo.models.classifier.network`, imported
on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model

if TYPE_CHECKING:
    from zoo.models.classifier.network import DigitClassifier

__all__ = ["DigitClassifier", "entry_points"]

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """classify: image → class logits."""
    return (
        EntryPoint(
            "classify",
            (image("image", config["channels"], config["resolution"]),),
            (TensorSpec("logits", "float32", (config["num_classes"],), "class scores"),),
            "digit → class logits",
        ),
    )


# The network classes import torch: they load only when asked for.
__getattr__ = _PACKAGE.network_getattr(("DigitClassifier",))


_PACKAGE.register_family(
    "classifier",
    trainer="ClassifierTrainer",
    entry_points=entry_points,
    pipeline_tag="image-classification",
)

register_model(
    ModelSpec(
        name="classifier-mnist",
        family="classifier",
        description="Small CNN digit classifier; the evaluator behind every zoo metric.",
        builder=_PACKAGE.network("DigitClassifier"),
        config={
            "width": 32,
            "resolution": 32,
            "channels": 1,
            "num_classes": 10,
            "feature_dim": 128,
        },
        datasets=("mnist", "uci-digits"),
        sha256="8a291f2289354e2ee16d63ed2d83211687ed26d981f247f7cd7712a604ee0b27",
        tags=("image-classification",),
        metric_targets={"accuracy": 0.97},
    )
)
