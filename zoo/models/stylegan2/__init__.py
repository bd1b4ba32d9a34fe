"""StyleGAN2, reduced: the registry entry (torch-free).

The networks (:class:`StyleGAN2Generator`, :class:`StyleGAN2Discriminator` and their layers)
live in :mod:`zoo.models.stylegan2.network`, imported on first use or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.lazy import network_getattr
from zoo.models.signatures import generate_entry, latent
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model

if TYPE_CHECKING:
    from zoo.models.stylegan2.network import (
        MappingNetwork,
        ModulatedConv2d,
        StyleGAN2Discriminator,
        StyleGAN2Generator,
        SynthesisLayer,
        SynthesisNetwork,
        ToRGB,
    )

__all__ = [
    "NOISE_STREAM",
    "MappingNetwork",
    "ModulatedConv2d",
    "StyleGAN2Discriminator",
    "StyleGAN2Generator",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGB",
    "entry_points",
]

#: Stream of the seed rule used for the noise buffers (apart from latents, stream 0).
NOISE_STREAM = 7

_NETWORK = "zoo.models.stylegan2.network"


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate``: latent, ψ and the mixing latent → image."""
    z_dim = config["z_dim"]
    entry = generate_entry(
        z_dim,
        config["channels"],
        config["resolution"],
        TensorSpec("psi", "float32", (), "truncation ψ (1 = none, 0 = mean digit)"),
        latent("mix_z", z_dim, "latent of the mixing seed (pass z for no mixing)"),
        doc="seed (+ ψ, mixing seed) → digit",
    )
    return (entry,)


# The network classes import torch: they load only when asked for.
__getattr__ = network_getattr(__name__, _NETWORK, __all__)


register_model(
    ModelSpec(
        name="stylegan2-mnist",
        family="stylegan2",
        description="Reduced StyleGAN2 for MNIST with truncation ψ and style mixing.",
        builder=f"{_NETWORK}:StyleGAN2Generator",
        entry_points_of=entry_points,
        config={
            "z_dim": 64,
            "w_dim": 64,
            "mapping_layers": 4,
            "width": 16,
            "max_channels": 64,
            "resolution": 32,
            "channels": 1,
            "mix_cutoff": 4,
            "noise_seed": 0,
        },
        datasets=("mnist",),
        sha256="f93fd293613d94ff03ba5abd3b0b6d2d0bcf85b4a55828d0a775cba5647cc489",
        tags=("gan", "stylegan2", "unconditional-image-generation"),
        metric_targets={"precision": 0.7, "recall": 0.5, "class_ratio_max": 3.0},
    )
)
