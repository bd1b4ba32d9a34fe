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


def interpolate_entry(
    z_dim: int, channels: int, resolution: int, *extra: TensorSpec, doc: str
) -> EntryPoint:
    """The ``interpolate`` entry point: two latents (+ extras) and ``t`` in [0, 1] → image."""
    return EntryPoint(
        "interpolate",
        (
            latent("z", z_dim, "latent of the start seed"),
            latent("z_to", z_dim, "latent of the end seed"),
            TensorSpec("t", "float32", (), "position between them, 0 = start, 1 = end"),
            *extra,
        ),
        (image("image", channels, resolution),),
        f"two seeds + t → digit ({doc})",
    )
