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
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model

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


_STYLEGAN2 = {
    "z_dim": 64,
    "w_dim": 64,
    "mapping_layers": 4,
    "width": 16,
    "max_channels": 64,
    "resolution": 32,
    "channels": 1,
    "mix_cutoff": 4,
    "noise_seed": 0,
}

_PACKAGE.register_family(
    "stylegan2",
    trainer="StyleGAN2Trainer",
    entry_points=entry_points,
    pipeline_tag="unconditional-image-generation",
    targets={"classes_covered": 10},
)

_PACKAGE.register_family(
    "stylegan2-encoder",
    trainer="StyleGAN2EncoderTrainer",
    entry_points=encoder_entry_points,
    pipeline_tag="image-to-image",
    targets={"ppl_ratio_w_z": 1.0},
    lower_is_better={"ppl_z", "ppl_w", "ppl_ratio_w_z"},
)

register_model(
    ModelSpec(
        name="stylegan2-mnist",
        family="stylegan2",
        description="Reduced StyleGAN2 for MNIST with truncation ψ and style mixing.",
        builder=_PACKAGE.network("StyleGAN2Generator"),
        config=_STYLEGAN2,
        datasets=("mnist",),
        sha256="f93fd293613d94ff03ba5abd3b0b6d2d0bcf85b4a55828d0a775cba5647cc489",
        tags=("gan", "stylegan2", "unconditional-image-generation"),
        metric_targets={"precision": 0.7, "recall": 0.5, "class_ratio_max": 3.0},
    )
)

register_model(
    ModelSpec(
        name="stylegan2-mnist-encoder",
        family="stylegan2-encoder",
        description="Encoder projecting a digit into stylegan2-mnist's W+ (with that generator).",
        builder=_PACKAGE.network("StyleGAN2Projector"),
        config={**_STYLEGAN2, "encoder_width": 32},
        datasets=("mnist",),
        sha256="8e5f2f495b63c28805357871956dbb9f91b0a321edda1461346d132653429d21",
        tags=("stylegan2", "gan-inversion", "image-to-image"),
        metric_targets={
            "psnr_db": 16.0,
            "refined_psnr_db": 19.0,
            "class_kept": 0.95,
            "refined_class_kept": 0.95,
            "restyled_class_kept": 0.8,
        },
    )
)
