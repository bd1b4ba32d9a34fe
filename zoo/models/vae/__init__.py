"""Convolutional VAE: the registry entry (torch-free).

The network (:class:`ConvVAE`) lives in :mod:`zoo.models.vae.network`, imported on first use
or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image, interpolate_entry, latent
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model

if TYPE_CHECKING:
    from zoo.models.vae.network import ConvVAE

__all__ = ["ConvVAE", "entry_points"]

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """sample, encode, decode, reconstruct, inpaint and interpolate, at the config's size."""
    c, r, d = config["channels"], config["resolution"], config["latent_dim"]
    img = image("image", c, r)
    code = latent("latent", d, "posterior mean (the compressed code)")
    return (
        EntryPoint("sample", (latent("z", d),), (img,), "seed → digit"),
        EntryPoint(
            "encode",
            (img,),
            (code, TensorSpec("logvar", "float32", (d,), "posterior log-variance")),
            "digit → latent code",
        ),
        EntryPoint("decode", (code,), (img,), "latent code → digit"),
        EntryPoint("reconstruct", (img,), (img,), "digit → digit"),
        EntryPoint(
            "inpaint",
            (img, TensorSpec("mask", "float32", (c, r, r), "1 = known pixel, 0 = fill")),
            (img,),
            "digit with holes + mask → completed digit",
        ),
        interpolate_entry(d, c, r, doc="the sampler's slerp in z"),
    )


# The network classes import torch: they load only when asked for.
__getattr__ = _PACKAGE.network_getattr(("ConvVAE",))


_PACKAGE.register_family(
    "vae",
    trainer="VAETrainer",
    entry_points=entry_points,
    pipeline_tag="unconditional-image-generation",
)

register_model(
    ModelSpec(
        name="vae-mnist",
        family="vae",
        description="Convolutional VAE for MNIST: sample, encode/decode (16 floats), inpaint.",
        builder=_PACKAGE.network("ConvVAE"),
        config={"latent_dim": 16, "width": 32, "resolution": 32, "channels": 1},
        datasets=("mnist",),
        sha256="0c5408310daeef4d42fa60e372aa5d00ed6d952be2a883043caf2ee96594477d",
        tags=("vae", "image-inpainting"),
        metric_targets={"psnr_db": 18.0, "inpaint_gain_db": 3.0},
    )
)
