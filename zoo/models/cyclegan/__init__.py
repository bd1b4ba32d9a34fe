"""CycleGAN between UCI digits and MNIST: the registry entry (torch-free).

The networks (:class:`CycleGAN`, :class:`ResnetGenerator`, :class:`PatchDiscriminator`) live
in :mod:`zoo.models.cyclegan.network`, imported on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image
from zoo.registry import EntryPoint

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

# Its families and models (names, configs, pinned digests, targets): models.toml, beside this.
_PACKAGE.register_table()
