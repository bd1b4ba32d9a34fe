"""Tensor signatures shared by the model families' registry entries."""

from __future__ import annotations

from zoo.registry import EntryPoint, TensorSpec


def image(name: str, channels: int, resolution: int, doc: str = "") -> TensorSpec:
    """A float32 NCHW image in [-1, 1] (batch axis excluded)."""
    return TensorSpec(
        name, "float32", (channels, resolution, resolution), doc or "image in [-1, 1]"
    )


def latent(name: str, dim: int, doc: str = "") -> TensorSpec:
    """A float32 latent vector (for generators: from the seed → latent rule)."""
    return TensorSpec(name, "float32", (dim,), doc or "latent from zoo.latent.seed_to_latent")


def generate_entry(
    z_dim: int, channels: int, resolution: int, *extra: TensorSpec, doc: str
) -> EntryPoint:
    """The ``generate`` entry point: latent (+ extras) → image."""
    return EntryPoint(
        "generate",
        (latent("z", z_dim), *extra),
        (image("image", channels, resolution),),
        doc,
    )
