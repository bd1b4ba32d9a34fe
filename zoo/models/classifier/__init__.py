"""The CNN digit classifier: the registry entry (torch-free).

The network (:class:`DigitClassifier`) lives in :mod:`zoo.models.classifier.network`, imported
on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image
from zoo.registry import EntryPoint, TensorSpec

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

# Its families and models (names, configs, pinned digests, targets): models.toml, beside this.
_PACKAGE.register_table()
