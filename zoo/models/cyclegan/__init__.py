"""CycleGAN between UCI digits and MNIST: the registry entry (torch-free).

The networks (:class:`CycleGAN`, :class:`ResnetGenerator`, :class:`PatchDiscriminator`) live
in :mod:`zoo.models.cyclegan.network`, imported on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.lazy import network_getattr
from zoo.models.signatures import image
from zoo.registry import EntryPoint, Family, ModelSpec, register_family, register_model

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

_PACKAGE = "zoo.models.cyclegan"
_NETWORK = f"{_PACKAGE}.network"


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """translate_a2b and translate_b2a: image → image of the same size."""
    img = image("image", config["channels"], config["resolution"])
    return (
        EntryPoint("translate_a2b", (img,), (img,), "UCI → MNIST"),
        EntryPoint("translate_b2a", (img,), (img,), "MNIST → UCI"),
    )


# The network classes import torch: they load only when asked for.
__getattr__ = network_getattr(__name__, _NETWORK, __all__)


register_family(
    Family(
        name="cyclegan",
        entry_points=entry_points,
        pipeline_tag="image-to-image",
        task=f"{_PACKAGE}.training:CycleGANTask",
        protocol=f"{_PACKAGE}.evaluation:evaluate_cyclegan",
        samples=f"{_PACKAGE}.card:samples_cyclegan",
        usage=f"{_PACKAGE}.card:usage_cyclegan",
    )
)

register_model(
    ModelSpec(
        name="cyclegan-digits",
        family="cyclegan",
        description="CycleGAN translating UCI 8×8 digits (upsampled) ↔ MNIST digits.",
        builder=f"{_NETWORK}:CycleGAN",
        config={"channels": 1, "width": 16, "n_down": 2, "n_blocks": 4, "resolution": 32},
        datasets=("uci-digits", "mnist"),
        sha256="ac9f37901a5336f6182091e135998868a1a353d4efb561070497619ae3395e12",
        tags=("cyclegan", "image-to-image"),
        metric_targets={"label_preservation_a2b": 0.8, "label_preservation_b2a": 0.8},
    )
)
