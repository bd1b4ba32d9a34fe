"""A model family that lives in the test suite only: the proof that a family is one package.

``toy`` is a one-layer generator (a latent → a 32×32 digit through one linear layer and tanh),
registered here exactly as a family under ``zoo/models/`` registers itself (with a second
entry point, ``scaled``, whose inputs state their roles since no built-in family has their
names): a
:class:`~zoo.registry.Family` whose trainer, evaluation protocol, card picture and usage
text sit where :class:`~zoo.models.layout.FamilyPackage` finds them, and one zoo entry,
``toy-mnist``. Nothing outside this folder knows about it: the registry finds it through
``ZOO_FAMILIES=toy_family`` (with ``tests/`` on ``PYTHONPATH``, also in Triton's backend
stubs), and tests/test_toy_family.py trains, evaluates, cards, exports, serves and shows it
with genzoo's generic code.

Like a built-in family's ``__init__``, this module imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo.models.layout import FamilyPackage
from zoo.models.signatures import generate_entry, image
from zoo.registry import EntryPoint, ModelSpec, TensorSpec, register_model
from zoo.roles import scalar, seed_latent

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate``: seed latent → digit; ``scaled``: the same with the latent scaled.

    ``scaled``'s inputs have names no built-in family uses, so their roles are stated here
    (:mod:`zoo.roles`): ``zeta`` is the seed's latent, ``noise_scale`` a number per seed that
    a request may leave out (1: ``generate``'s digit, 0: the mean digit).
    """
    z_dim, c, r = config["z_dim"], config["channels"], config["resolution"]
    scaled = EntryPoint(
        "scaled",
        (
            TensorSpec("zeta", "float32", (z_dim,), "latent of the seed", role=seed_latent()),
            TensorSpec(
                "noise_scale", "float32", (), "latent scale (1 = generate)", role=scalar(1.0)
            ),
        ),
        (image("image", c, r),),
        "seed latent × noise_scale → digit",
    )
    return (generate_entry(z_dim, c, r, doc="seed latent → digit (one linear layer)"), scaled)


_PACKAGE.register_family(
    "toy",
    trainer="ToyTrainer",
    entry_points=entry_points,
    pipeline_tag="unconditional-image-generation",
    targets={"moment_distance": 2.0},
    lower_is_better={"moment_distance"},
)

register_model(
    ModelSpec(
        name="toy-mnist",
        family="toy",
        description="A one-layer toy generator of 32×32 digits (a family kept in the tests).",
        builder=_PACKAGE.network("ToyGenerator"),
        config={"z_dim": 8, "resolution": 32, "channels": 1},
        datasets=("mnist",),
        sha256="",
    )
)
