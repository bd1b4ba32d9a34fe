"""A model family that lives in the test suite only: the proof that a family is one package.

``toy`` is a one-layer generator (a latent → a 32×32 digit through one linear layer and tanh),
registered here exactly as a family under ``zoo/models/`` registers itself: a
:class:`~zoo.registry.Family` naming its training task, evaluation protocol, card picture and
usage text, and one zoo entry, ``toy-mnist``. Nothing outside this folder knows about it: the
registry finds it through ``ZOO_FAMILIES=toy_family`` (with ``tests/`` on ``PYTHONPATH``, also
in Triton's backend stubs), and tests/test_toy_family.py trains, evaluates, cards, exports,
serves and shows it with genzoo's generic code.

Like a built-in family's ``__init__``, this module imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo.models.signatures import generate_entry
from zoo.registry import EntryPoint, Family, ModelSpec, register_family, register_model

_PACKAGE = "toy_family"


def entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    """``generate``: seed latent → digit (its only entry point)."""
    z_dim, c, r = config["z_dim"], config["channels"], config["resolution"]
    return (generate_entry(z_dim, c, r, doc="seed latent → digit (one linear layer)"),)


register_family(
    Family(
        name="toy",
        entry_points=entry_points,
        pipeline_tag="unconditional-image-generation",
        task=f"{_PACKAGE}.training:ToyTask",
        protocol=f"{_PACKAGE}.evaluation:evaluate_toy",
        samples=f"{_PACKAGE}.card:samples_toy",
        usage=f"{_PACKAGE}.card:usage_toy",
        targets={"moment_distance": 2.0},
        lower_is_better=frozenset({"moment_distance"}),
    )
)

register_model(
    ModelSpec(
        name="toy-mnist",
        family="toy",
        description="A one-layer toy generator of 32×32 digits (a family kept in the tests).",
        builder=f"{_PACKAGE}.network:ToyGenerator",
        config={"z_dim": 8, "resolution": 32, "channels": 1},
        datasets=("mnist",),
        sha256="",
    )
)
