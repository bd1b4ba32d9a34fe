"""Convolutional VAE: the registry entry (torch-free).

The network (:class:`ConvVAE`) lives in :mod:`zoo.models.vae.network`, imported on first use
or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import image, interpolate_entry, latent
from zoo.registry import EntryPoint, TensorSpec

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

# Its families and models (names, configs, pinned digests, targets): models.toml, beside this.
_PACKAGE.register_table()
