"""A model family that lives in the test suite only: the proof that a family is one package.

``toy`` is a one-layer generator (a latent → a 32×32 digit through one linear layer and tanh),
registered here exactly as a family under ``zoo/models/`` registers itself: a
:class:`~zoo.registry.Family` whose training task, evaluation protocol, card picture and usage
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
from zoo.models.signatures import generate_entry
from zoo.registry import EntryPoint, ModelSpec, register_model

_PACKAGE = FamilyPackage(__name__)


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate``: seed latent → digit (its only entry point)."""
    z_dim, c, r = config["z_dim"], config["channels"], config["resolution"]
    return (generate_entry(z_dim, c, r, doc="seed latent → digit (one linear layer)"),)


_PACKAGE.register_family(
    "toy",
    task="ToyTask",
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
