"""The layout of a family package, and the references to its parts that follow from it.

A family package (``zoo/models/<family>/``, or one named in ``ZOO_FAMILIES``) keeps its torch
code in four modules, the names of their parts following the family's name (``-`` read as
``_``):

- ``network``: the network classes (a spec's ``builder``, the package's lazy names);
- ``training``: the trainer, a ``zoo.train.Trainer`` subclass;
- ``evaluation``: ``evaluate_<family>``, the evaluation protocol;
- ``card``: ``samples_<family>`` and ``usage_<family>``, the card's picture and usage text.

Its torch-free ``__init__`` declares itself through a :class:`FamilyPackage`, so that each
family states only what differs: its signature rule, Hub task, trainer and targets.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from zoo.registry import EntryPointsOf, Family, register_family


@dataclass(frozen=True)
class FamilyPackage:
    """The family package ``package`` (e.g. ``"zoo.models.dcgan"``; its ``__name__``)."""

    package: str

    def network(self, name: str) -> str:
        """The network class ``name`` as ``"module:attribute"`` (a spec's ``builder``)."""
        return f"{self.package}.network:{name}"

    def network_getattr(self, names: Collection[str]) -> Callable[[str], Any]:
        """A module ``__getattr__`` for the package that imports ``network`` (torch) on demand.

        The package registers its entries without torch; the names in ``names`` (its network
        classes) come from its ``network`` module the first time one is asked for.
        """
        network = f"{self.package}.network"

        def getattr_(name: str) -> Any:
            if name in names:
                return getattr(importlib.import_module(network), name)
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")

        return getattr_

    def register_family(
        self,
        name: str,
        *,
        trainer: str | None = None,
        entry_points: EntryPointsOf,
        pipeline_tag: str,
        targets: Mapping[str, float] | None = None,
        lower_is_better: Collection[str] = (),
        task: str | None = None,
    ) -> Family:
        """Register the :class:`~zoo.registry.Family` ``name`` whose parts this package holds.

        ``trainer`` (required) is the class in ``training``; the protocol, picture and usage text
        are found by the family's name. The other arguments are the :class:`Family` fields of
        that name. ``task`` is ``trainer``'s deprecated name (before issue 26), still taken with
        a ``DeprecationWarning`` so that a family kept outside genzoo keeps registering: a
        keyword this refused would fail the registry's first lookup, every model's included.
        """
        if task is not None:
            warnings.warn(
                f"register_family({name!r}, task=...) is deprecated and will be removed; "
                "say trainer=... (same value).",
                DeprecationWarning,
                stacklevel=2,
            )
            if trainer is not None:
                raise TypeError(f"register_family({name!r}) takes trainer= or task=, not both.")
            trainer = task
        if trainer is None:
            raise TypeError(
                f"register_family({name!r}) needs trainer=: its class in {self.package}.training."
            )
        part = name.replace("-", "_")
        return register_family(
            Family(
                name=name,
                entry_points=entry_points,
                pipeline_tag=pipeline_tag,
                trainer=f"{self.package}.training:{trainer}",
                protocol=f"{self.package}.evaluation:evaluate_{part}",
                samples=f"{self.package}.card:samples_{part}",
                usage=f"{self.package}.card:usage_{part}",
                targets=dict(targets or {}),
                lower_is_better=frozenset(lower_is_better),
            )
        )
