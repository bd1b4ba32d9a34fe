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

The zoo table: ``models.toml``
------------------------------

What a package registers is data (names, pinned digests, quality targets), so it lives beside
the code in ``<package>/models.toml`` (a package resource: the wheel carries it), and the
package's ``__init__`` ends with one call, :meth:`FamilyPackage.register_table`. That reads the
file with :mod:`tomllib`, checks it against the schema below, then registers its families (in
file order) through :meth:`FamilyPackage.register_family`, then its models (in file order)
through :func:`zoo.registry.register_model`. The file holds two kinds of table::

    # The dcgan package's entries in the zoo (read by ...register_table).
    [families.dcgan]                       # the Family "dcgan"
    trainer = "DCGANTrainer"               # required: its class in <package>.training
    pipeline_tag = "unconditional-image-generation"   # required: the Hub task of its cards
    entry_points = "entry_points"          # optional (this default): its signature rule
    targets = { classes_covered = 10 }     # optional: family-wide quality targets
    lower_is_better = ["ppl_z"]            # optional: its metrics where lower is better

    [models.dcgan-mnist]                   # the ModelSpec "dcgan-mnist"
    family = "dcgan"                       # required: a family registered before it
    description = "..."                    # required: one line
    network = "DCGANGenerator"             # required: its network class (the spec's builder)
    config = { z_dim = 64, resolution = 32, channels = 1 }   # required: constructor config
    datasets = ["mnist"]                   # required
    sha256 = "..."                         # required ("" until trained)
    tags = ["gan"]                         # optional; so are revision, license, hub_repo
    metric_targets = { precision = 0.7 }   # optional: goals the weights must meet

A signature rule is code: ``entry_points`` names a function of the package module (read while
the package is still importing, so it must be defined above the ``register_table()`` call).
``network`` must be one of the names the package's ``__getattr__ =``
:meth:`FamilyPackage.network_getattr` imports from ``<package>.network`` (torch is not imported
to check it). Arrays become the spec's tuples (``datasets``, ``tags``); numbers keep the type
they are written in (``10`` an int, ``3.0`` a float); a config keeps its key order. A file that
breaks the schema (an unknown table or key, a missing key, a value of the wrong type, a name
the package lacks) is a :class:`ValueError` that names the file, the table and the key.

The Python API stays for packages that would rather register in code (``tests/toy_family``
does): :meth:`FamilyPackage.register_family` and ``register_model(ModelSpec(...))``.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from types import ModuleType
from typing import Any, Literal

import tomllib

from zoo.registry import EntryPointsOf, Family, ModelSpec, register_family, register_model

#: The file in a family package that holds its zoo table (see the module docstring).
TABLE_FILE = "models.toml"

#: The kinds of value a table's key takes: what the error calls each, and how to write one.
_Kind = Literal["str", "strs", "numbers", "table"]
_KINDS: dict[_Kind, tuple[str, str]] = {
    "str": ("a string", '"..."'),
    "strs": ("an array of strings", '["...", "..."]'),
    "numbers": ("a table of numbers", "{ name = 0.9 }"),
    "table": ("a table", "{ key = value }"),
}
#: The keys of a ``[families.<name>]`` table: kind, and whether it is required.
_FAMILY_KEYS: dict[str, tuple[_Kind, bool]] = {
    "trainer": ("str", True),
    "pipeline_tag": ("str", True),
    "entry_points": ("str", False),
    "targets": ("numbers", False),
    "lower_is_better": ("strs", False),
}
#: The keys of a ``[models.<name>]`` table: kind, and whether it is required.
_MODEL_KEYS: dict[str, tuple[_Kind, bool]] = {
    "family": ("str", True),
    "description": ("str", True),
    "network": ("str", True),
    "config": ("table", True),
    "datasets": ("strs", True),
    "sha256": ("str", True),
    "revision": ("str", False),
    "license": ("str", False),
    "hub_repo": ("str", False),
    "tags": ("strs", False),
    "metric_targets": ("numbers", False),
}
#: A TOML value's type in words, by the Python type tomllib reads it as (bool before int).
_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)
#: The top-level tables of a zoo table, and the keys each of their tables takes.
_TABLES = {"families": _FAMILY_KEYS, "models": _MODEL_KEYS}


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
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{file}: not valid TOML ({e}); see https://toml.io.") from e
        tables = _checked_tables(file, data)
        # The package is still importing when its __init__ calls this: take it as it stands.
        module = sys.modules.get(self.package) or importlib.import_module(self.package)
        families = {
            name: {
                "trainer": entries["trainer"],
                "entry_points": _signature_rule(file, name, module, entries),
                "pipeline_tag": entries["pipeline_tag"],
                "targets": entries.get("targets"),
                "lower_is_better": tuple(entries.get("lower_is_better", ())),
            }
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


def _checked_tables(file: str, data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``data``'s ``families`` and ``models`` tables (each may be absent), checked."""
    for name, value in data.items():
        if name not in _TABLES:
            what = f"table [{name}]" if isinstance(value, dict) else f"key {name!r}"
            raise ValueError(
                f"{file}: unknown top-level {what}; a zoo table holds only [families.<name>] "
                "and [models.<name>] tables (see zoo.models.layout)."
            )
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, keys in _TABLES.items():
        entries = data.get(kind, {})
        if not isinstance(entries, dict):
            raise ValueError(
                f"{file}: {kind} must be tables [{kind}.<name>], got {_toml_type(entries)}."
            )
        tables[kind] = {
            name: _checked(file, f"{kind}.{name}", table, keys) for name, table in entries.items()
        }
    return tables


def _checked(
    file: str, where: str, table: object, keys: Mapping[str, tuple[_Kind, bool]]
) -> dict[str, Any]:
    """The table ``[where]`` of ``file``, its keys checked against ``keys``."""
    if not isinstance(table, dict):
        raise ValueError(
            f"{file}: {where} must be a table (a [{where}] header with its keys below it), "
            f"got {_toml_type(table)}."
        )
    for key, value in table.items():
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{file}: [{where}] has unknown key {key!r}; {hint}"
                f"the known keys are {', '.join(keys)}."
            )
        kind, _ = keys[key]
        wrong = _wrong(value, kind)
        if wrong:
            what, example = _KINDS[kind]
            raise ValueError(
                f"{file}: [{where}] key {key!r} must be {what}, got {wrong}; "
                f"write it as {key} = {example}."
            )
    for key, (kind, required) in keys.items():
        if required and key not in table:
            what, example = _KINDS[kind]
            raise ValueError(
                f"{file}: [{where}] lacks the required key {key!r} ({what}); add {key} = {example}."
            )
    return table


def _wrong(value: object, kind: _Kind) -> str:
    """What is wrong with ``value`` as a value of ``kind`` ("" if nothing)."""
    if kind == "str":
        return "" if isinstance(value, str) else _toml_type(value, value)
    if kind == "strs":
        if not isinstance(value, list):
            return _toml_type(value, value)
        bad = [v for v in value if not isinstance(v, str)]
        return f"an array holding {_toml_type(bad[0], bad[0])}" if bad else ""
    if not isinstance(value, dict):
        return _toml_type(value, value)
    if kind == "numbers":
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                return f"a table whose {k!r} is {_toml_type(v, v)}"
    return ""


def _toml_type(value: object, shown: object = None) -> str:
    """``value``'s TOML type in words, followed by ``shown`` (as Python writes it) if given."""
    name = next((n for t, n in _TOML_TYPES if isinstance(value, t)), "a date or time")
    return name if shown is None else f"{name} ({shown!r})"


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
    fields: dict[str, Any] = {
        "family": table["family"],
        "description": table["description"],
        "builder": package.network(network),
        "config": table["config"],
        "datasets": tuple(table["datasets"]),
        "sha256": table["sha256"],
    }
    fields.update({k: table[k] for k in ("revision", "license", "hub_repo") if k in table})
    if "tags" in table:
        fields["tags"] = tuple(table["tags"])
    if "metric_targets" in table:
        fields["metric_targets"] = table["metric_targets"]
    return fields
