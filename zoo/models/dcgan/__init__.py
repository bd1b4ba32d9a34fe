"""DCGAN and its class-conditional variant: the registry entries (torch-free).

The networks (:class:`DCGANGenerator`, :class:`DCGANDiscriminator`) live in
:mod:`zoo.models.dcgan.network`, imported on first use of either name or when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import generate_entry, interpolate_entry
from zoo.registry import EntryPoint, TensorSpec

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

# Its families and models (names, configs, pinned digests, targets): models.toml, beside this.
_PACKAGE.register_table()
