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

A package's zoo table, ``models.toml``, is read and checked by :mod:`zoo.models.table`
(its format is there); :meth:`FamilyPackage.register_table` registers what it holds.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from types import ModuleType
from typing import Any

from zoo.models.table import TABLE_FILE, read_table
from zoo.registry import EntryPointsOf, Family, ModelSpec, register_family, register_model


@dataclass(frozen=True)
class NetworkGetattr:
    """A package's module ``__getattr__`` that imports its network classes ``names`` on demand.

    Made by :meth:`FamilyPackage.network_getattr`; the names it holds are those a zoo table's
    ``network`` may name.
    """

    package: str  # the family package, e.g. "zoo.models.dcgan"
    names: frozenset[str]  # the classes of <package>.network it serves

    def __call__(self, name: str) -> Any:
        """The network class ``name``, its module imported now (with torch)."""
        if name in self.names:
            return getattr(importlib.import_module(f"{self.package}.network"), name)
        raise AttributeError(f"module {self.package!r} has no attribute {name!r}")


@dataclass(frozen=True)
class FamilyPackage:
    """The family package ``package`` (e.g. ``"zoo.models.dcgan"``; its ``__name__``)."""

    package: str

    def network(self, name: str) -> str:
        """The network class ``name`` as ``"module:attribute"`` (a spec's ``builder``)."""
        return f"{self.package}.network:{name}"

    def network_getattr(self, names: Collection[str]) -> NetworkGetattr:
        """A module ``__getattr__`` for the package that imports ``network`` (torch) on demand.

        The package registers its entries without torch; the names in ``names`` (its network
        classes) come from its ``network`` module the first time one is asked for.
        """
        return NetworkGetattr(self.package, frozenset(names))

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

    def register_table(self, table: Traversable | None = None) -> None:
        """Register the families, then the models, of the package's zoo table, in file order.

        ``table`` is the file to read; by default the package's own ``models.toml`` (see the
        module docstring for its schema). The whole file is checked before anything registers:
        a file that breaks the schema raises :class:`ValueError` naming the file, the table and
        the key, and so does a registration the registry refuses (a name registered twice).
        """
        source = resources.files(self.package) / TABLE_FILE if table is None else table
        file = str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f"{file}: no zoo table, but {self.package} calls register_table(): write its "
                f"{TABLE_FILE} (a wheel ships it through pyproject's "
                "[tool.setuptools.package-data])."
            ) from e
        tables = read_table(file, text)
        # The package is still importing when its __init__ calls this: take it as it stands.
        module = sys.modules.get(self.package) or importlib.import_module(self.package)
        # A family table's keys are register_family's arguments; its rule is named, not given.
        families = {
            name: {**entries, "entry_points": _signature_rule(file, name, module, entries)}
            for name, entries in tables["families"].items()
        }
        models = {
            name: _spec_fields(self, file, name, module, entries)
            for name, entries in tables["models"].items()
        }
        for name, kwargs in families.items():
            try:
                self.register_family(name, **kwargs)
            except ValueError as e:
                raise ValueError(f"{file}: [families.{name}]: {e}") from e
        for name, kwargs in models.items():
            try:
                register_model(ModelSpec(name=name, **kwargs))
            except ValueError as e:
                family = kwargs["family"]
                hint = (
                    ""
                    if family in families
                    else f" (key 'family' names {family!r}: no [families.{family}] table here, "
                    "so a package imported before this one must register it)"
                )
                raise ValueError(f"{file}: [models.{name}]: {e}{hint}") from e


def _signature_rule(
    file: str, family: str, module: ModuleType, table: Mapping[str, Any]
) -> EntryPointsOf:
    """The package function a ``[families.<family>]`` table's ``entry_points`` names."""
    name = table.get("entry_points", "entry_points")
    rule = vars(module).get(name)
    if not callable(rule):
        given = "entry_points" in table
        raise ValueError(
            f"{file}: [families.{family}] key 'entry_points' names {name!r}"
            f"{'' if given else ' (its default)'}, but {module.__name__} has no function of "
            f"that name: define {name}(config) in its __init__ above the register_table() call"
            + (", or name the function it has." if given else ", or set entry_points = '...'.")
        )
    rule_: EntryPointsOf = rule
    return rule_


def _spec_fields(
    package: FamilyPackage, file: str, model: str, module: ModuleType, table: Mapping[str, Any]
) -> dict[str, Any]:
    """The :class:`ModelSpec` fields (but ``name``) a ``[models.<model>]`` table gives."""
    network = table["network"]
    lazy = vars(module).get("__getattr__")
    served = lazy.names - vars(module).keys() if isinstance(lazy, NetworkGetattr) else frozenset()
    if network not in served:
        package_ = module.__name__
        if served:
            has = f"its network classes are {', '.join(sorted(served))}"
            fix = f"name one of those, or add the class to {package_}.network and to that list"
        else:
            has = "it serves no network class"
            fix = "set __getattr__ = _PACKAGE.network_getattr((...)) above register_table()"
        raise ValueError(
            f"{file}: [models.{model}] key 'network' names {network!r}, which {package_} does "
            f"not serve: {has} (the names its __getattr__, FamilyPackage.network_getattr(...), "
            f"imports from {package_}.network); {fix}."
        )
    # The other keys are ModelSpec's fields of that name; arrays become its tuples.
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items() if k != "network"}
    fields["builder"] = package.network(network)
    return fields
