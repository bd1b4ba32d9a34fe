"""StyleGAN2, reduced: the registry entry (torch-free).

The networks (:class:`StyleGAN2Generator`, :class:`StyleGAN2Discriminator` and their layers)
live in :mod:`zoo.models.stylegan2.network`, imported on first use or when a model is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import generate_entry, image, interpolate_entry, latent
from zoo.registry import EntryPoint, TensorSpec

if TYPE_CHECKING:
    from zoo.models.stylegan2.network import (
        MappingNetwork,
        ModulatedConv2d,
        StyleGAN2Discriminator,
        StyleGAN2Encoder,
        StyleGAN2Generator,
        StyleGAN2Projector,
        SynthesisLayer,
        SynthesisNetwork,
        ToRGB,
    )

__all__ = [
    "NOISE_STREAM",
    "MappingNetwork",
    "ModulatedConv2d",
    "StyleGAN2Discriminator",
    "StyleGAN2Encoder",
    "StyleGAN2Generator",
    "StyleGAN2Projector",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGB",
    "encoder_entry_points",
    "entry_points",
    "num_ws",
]

#: Stream of the seed rule used for the noise buffers (apart from latents, stream 0).
NOISE_STREAM = 7

_PACKAGE = FamilyPackage(__name__)


def num_ws(config: Mapping[str, Any]) -> int:
    """How many ws the synthesis network reads: two per resolution from 4², plus one."""
    # The network checks that the resolution is a power of two (zoo.models.layers).
    return 2 * round(math.log2(config["resolution"] / 4)) + 2


def _ws(config: Mapping[str, Any], doc: str) -> TensorSpec:
    return TensorSpec("w", "float32", (num_ws(config), config["w_dim"]), doc)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate`` (seed, ψ, mixing seed), ``synthesize`` (ws) and ``interpolate`` (two seeds)."""
    z_dim, c, r = config["z_dim"], config["channels"], config["resolution"]
    psi = TensorSpec("psi", "float32", (), "truncation ψ (1 = none, 0 = mean digit)")
    generate = generate_entry(
        z_dim,
        c,
        r,
        psi,
        latent("mix_z", z_dim, "latent of the mixing seed (pass z for no mixing)"),
        doc="seed (+ ψ, mixing seed) → digit",
    )
    synthesize = EntryPoint(
        "synthesize",
        (
            _ws(config, "one w per synthesis layer (W+), e.g. from project"),
            psi,
            latent("mix_z", z_dim, "latent of the mixing seed"),
            TensorSpec("mix_layer", "int64", (), "ws from this index on come from mix_z"),
        ),
        (image("image", c, r),),
        "ws (+ ψ, a mixing seed from a layer) → digit",
    )
    return (generate, synthesize, interpolate_entry(z_dim, c, r, doc="lerp in w"))


def encoder_entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``project``: a digit → its ws and their reconstruction."""
    c, r = config["channels"], config["resolution"]
    entry = EntryPoint(
        "project",
        (image("image", c, r),),
        (_ws(config, "one w per synthesis layer (W+)"), image("image", c, r)),
        "digit → ws + reconstruction (feed-forward encoder)",
    )
    return (entry,)


# The network classes import torch: they load only when asked for.
__getattr__ = _PACKAGE.network_getattr(__all__)

# Its families and models (names, configs, pinned digests, targets): models.toml, beside this.
_PACKAGE.register_table()
