"""DCGAN and its class-conditional variant: the registry entries (torch-free).

The networks (:class:`DCGANGenerator`, :class:`DCGANDiscriminator`) live in
:mod:`zoo.models.dcgan.network`, imported on first use of either name or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import generate_entry, interpolate_entry
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model

if TYPE_CHECKING:
    from zoo.models.dcgan.network import DCGANDiscriminator, DCGANGenerator

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "entry_points"]

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate``: latent (+ class label when conditional) → image; ``interpolate``: two."""
    if config.get("num_classes", 0):
        n = config["num_classes"]
        label = TensorSpec("label", "int64", (), f"class 0–{n - 1}", classes=n)
        extra: tuple[TensorSpec, ...] = (label,)
        doc = "seed + class → digit"
    else:
        extra, doc = (), "seed latent → digit"
    z_dim, c, r = config["z_dim"], config["channels"], config["resolution"]
    entry = generate_entry(z_dim, c, r, *extra, doc=doc)
    held = "slerp in z, the label held" if extra else "slerp in z"
    return (entry, interpolate_entry(z_dim, c, r, *extra, doc=held))


# The network classes import torch: they load only when asked for.
__getattr__ = _PACKAGE.network_getattr(("DCGANGenerator", "DCGANDiscriminator"))


_DCGAN = {"z_dim": 64, "width": 32, "resolution": 32, "channels": 1}

_PACKAGE.register_family(
    "dcgan",
    trainer="DCGANTrainer",
    entry_points=entry_points,
    pipeline_tag="unconditional-image-generation",
    targets={"classes_covered": 10},
)

_PACKAGE.register_family(
    "cgan",
    trainer="DCGANTrainer",
    entry_points=entry_points,
    # The Hub has no class-conditional generation task: the cGAN takes noise (plus a
    # class) to an image, which is the Hub's unconditional image generation.
    pipeline_tag="unconditional-image-generation",
)

register_model(
    ModelSpec(
        name="dcgan-mnist",
        family="dcgan",
        description="DCGAN generating 32×32 MNIST digits from a seed.",
        builder=_PACKAGE.network("DCGANGenerator"),
        config=_DCGAN,
        datasets=("mnist",),
        sha256="f964045147b3fda6ffd85c373d144bf56656fec6b44a366a58270fea4bea3954",
        tags=("gan", "dcgan", "unconditional-image-generation"),
        metric_targets={"precision": 0.7, "recall": 0.5, "class_ratio_max": 3.0},
    )
)

register_model(
    ModelSpec(
        name="cgan-mnist",
        family="cgan",
        description="Class-conditional DCGAN: a seed and a digit class → that digit.",
        builder=_PACKAGE.network("DCGANGenerator"),
        config={**_DCGAN, "num_classes": 10, "embed_dim": 16},
        datasets=("mnist",),
        sha256="e2c9b10530d6496695e206a123315c224b0a523a836f942377e7beca00cb4d72",
        tags=("gan", "conditional-image-generation"),
        metric_targets={"label_accuracy": 0.95},
    )
)
