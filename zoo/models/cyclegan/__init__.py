"""CycleGAN between UCI digits and MNIST: the registry entry (torch-free).

The networks (:class:`CycleGAN`, :class:`ResnetGenerator`, :class:`PatchDiscriminator`) live
in :mod:`zoo.models.cyclegan.network`, imported on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image
from zoo.registry import EntryPoint, ModelSpec, register_model

if TYPE_CHECKING:
    from zoo.models.cyclegan.network import (
        CycleGAN,
        PatchDiscriminator,
        ResidualBlock,
        ResnetGenerator,
    )

__all__ = [
    "CycleGAN",
    "PatchDiscriminator",
    "ResidualBlock",
    "ResnetGenerator",
    "entry_points",
]

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """translate_a2b and translate_b2a: image → image of the same size."""
    img = image("image", config["channels"], config["resolution"])
    return (
        EntryPoint("translate_a2b", (img,), (img,), "UCI → MNIST"),
        EntryPoint("translate_b2a", (img,), (img,), "MNIST → UCI"),
    )


# The network classes import torch: they load only when asked for.
__getattr__ = _PACKAGE.network_getattr(__all__)


_PACKAGE.register_family(
    "cyclegan",
    trainer="CycleGANTrainer",
    entry_points=entry_points,
    pipeline_tag="image-to-image",
)

register_model(
    ModelSpec(
        name="cyclegan-digits",
        family="cyclegan",
        description="CycleGAN translating UCI 8×8 digits (upsampled) ↔ MNIST digits.",
        builder=_PACKAGE.network("CycleGAN"),
        config={"channels": 1, "width": 16, "n_down": 2, "n_blocks": 4, "resolution": 32},
        datasets=("uci-digits", "mnist"),
        sha256="ac9f37901a5336f6182091e135998868a1a353d4efb561070497619ae3395e12",
        tags=("cyclegan", "image-to-image"),
        metric_targets={"label_preservation_a2b": 0.8, "label_preservation_b2a": 0.8},
    )
)
