"""A family package's zoo table, ``models.toml``: its format, read and checked.

What a package registers is data (names, pinned digests, quality targets), so it lives beside
the code in ``<package>/models.toml`` (a package resource: the wheel carries it), and the
package's ``__init__`` ends with one call,
:meth:`zoo.models.layout.FamilyPackage.register_table`. That reads the file (:func:`read_table`
checks it against the schema below), then registers its families (in file order) through
``FamilyPackage.register_family``, then its models (in file order) through
:func:`zoo.registry.register_model`. The file holds two kinds of table::

    # The dcgan package's entries in the zoo; the format is zoo/models/table.py's docstring.
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
import tomllib
from collections.abc import Mapping
from typing import Any, Literal

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


def _checked_tables(file: str, data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``data``'s ``families`` and ``models`` tables (each may be absent), checked."""
    for name, value in data.items():
        if name not in _TABLES:
            what = f"table [{name}]" if isinstance(value, dict) else f"key {name!r}"
            raise ValueError(
                f"{file}: unknown top-level {what}; a zoo table holds only [families.<name>] "
                "and [models.<name>] tables (see zoo.models.table)."
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


def read_table(file: str, text: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``families`` and ``models`` tables of the zoo table ``text`` (read from ``file``).

    Each is checked against the schema above; one that breaks it is a :class:`ValueError` that
    names ``file``, the table and the key, and says how to write it.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{file}: not valid TOML ({e}); see https://toml.io.") from e
    return _checked_tables(file, data)
