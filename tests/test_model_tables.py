"""The zoo tables (``zoo/models/<package>/models.toml``): what they load to, and what they refuse.

The loader, :meth:`zoo.models.layout.FamilyPackage.register_table`, runs here on tables written
to a temp folder for a package made in the test (``tablepkg``), against a copy of the registry,
and on the five shipped tables, which must load to exactly what the registry serves.
"""

from __future__ import annotations

import re
import sys
import tomllib
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import zoo.registry
from zoo.models.layout import FamilyPackage
from zoo.models.signatures import generate_entry
from zoo.models.table import TABLE_FILE
from zoo.registry import EntryPoint, get_family, get_spec, list_models

PACKAGE = "tablepkg"
#: The family packages that ship a zoo table.
SHIPPED = ("classifier", "cyclegan", "dcgan", "stylegan2", "vae")

#: A table that loads: two families (one with its own signature rule) and one model.
VALID = """\
# A comment stays a comment.
[families.tabletoy]
trainer = "ToyTrainer"
pipeline_tag = "unconditional-image-generation"
targets = { classes_covered = 10, cap = 3.0 }
lower_is_better = ["moment_distance"]

[families.tabletoy-alt]
trainer = "AltTrainer"
entry_points = "alt_entry_points"
pipeline_tag = "image-to-image"

[models.tabletoy-mnist]
family = "tabletoy"
description = "A toy model for the table tests."
network = "Net"
config = { z_dim = 8, resolution = 32, channels = 1, scale = 0.5 }
datasets = ["mnist"]
sha256 = ""
tags = ["gan", "toy"]
metric_targets = { precision = 0.7, classes_covered = 10, class_ratio_max = 3.0 }
"""


def _entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    return (generate_entry(config["z_dim"], config["channels"], config["resolution"], doc="x"),)


def _alt_entry_points(config: Mapping[str, Any]) -> tuple[EntryPoint, ...]:
    return (generate_entry(config["z_dim"], config["channels"], config["resolution"], doc="y"),)


def _copy_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register into copies of the registry's tables (loaded first), undone after the test."""
    list_models()
    monkeypatch.setattr(zoo.registry, "_FAMILIES", dict(zoo.registry._FAMILIES))
    monkeypatch.setattr(zoo.registry, "_SPECS", dict(zoo.registry._SPECS))


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The package ``tablepkg`` (its signature rules and lazy network names), and a registry copy.

    A module made here stands in for a family package's ``__init__``: the loader reads it from
    ``sys.modules``, as it reads a package that is still importing.
    """
    _copy_registry(monkeypatch)
    package = types.ModuleType(PACKAGE)
    package.entry_points = _entry_points
    package.alt_entry_points = _alt_entry_points
    package.__getattr__ = FamilyPackage(PACKAGE).network_getattr(("Net", "Critic"))
    monkeypatch.setitem(sys.modules, PACKAGE, package)
    return package


@pytest.fixture
def load(tmp_path: Path, module: types.ModuleType) -> Callable[[str], Path]:
    """Write ``text`` as a zoo table and register it for ``tablepkg``; return the file."""

    def load_(text: str) -> Path:
        path = tmp_path / TABLE_FILE
        path.write_text(text, encoding="utf-8")
        FamilyPackage(PACKAGE).register_table(path)
        return path

    return load_


def test_a_table_registers_its_families_then_its_models(load: Callable[[str], Path]) -> None:
    load(VALID)
    family = get_family("tabletoy")
    assert family.trainer == "tablepkg.training:ToyTrainer"
    assert family.protocol == "tablepkg.evaluation:evaluate_tabletoy"
    assert family.entry_points is _entry_points
    assert family.pipeline_tag == "unconditional-image-generation"
    assert family.lower_is_better == frozenset({"moment_distance"})
    alt = get_family("tabletoy-alt")
    assert alt.entry_points is _alt_entry_points
    assert alt.samples == "tablepkg.card:samples_tabletoy_alt"
    assert (alt.targets, alt.lower_is_better) == ({}, frozenset())
    spec = get_spec("tabletoy-mnist")
    assert spec.builder == "tablepkg.network:Net"
    assert spec.datasets == ("mnist",)
    assert spec.tags == ("gan", "toy")
    assert (spec.revision, spec.license, spec.hub_repo) == ("main", "apache-2.0", "")
    assert spec.entry_points == _entry_points(spec.config)
    # Numbers keep the type they are written in; a config keeps its key order.
    assert repr(family.targets) == "{'classes_covered': 10, 'cap': 3.0}"
    assert repr(spec.metric_targets) == (
        "{'precision': 0.7, 'classes_covered': 10, 'class_ratio_max': 3.0}"
    )
    assert repr(spec.config) == "{'z_dim': 8, 'resolution': 32, 'channels': 1, 'scale': 0.5}"


def _edit(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


FAMILY = "[families.tabletoy]"
ALT = "[families.tabletoy-alt]"
MODEL = "[models.tabletoy-mnist]"

#: (the table, what its error must say besides the file's name)
REFUSED = {
    "unknown top-level table": (
        VALID + "\n[extras]\nx = 1\n",
        ["unknown top-level table [extras]", "[families.<name>] and [models.<name>]"],
    ),
    "unknown top-level key": (
        "version = 2\n" + VALID,
        ["unknown top-level key 'version'", "[families.<name>] and [models.<name>]"],
    ),
    "families not tables": (
        "families = 3\n",
        ["families must be tables [families.<name>], got an integer"],
    ),
    "a model that is not a table": (
        "models = { x = 1 }\n",
        ["models.x must be a table", "got an integer"],
    ),
    "unknown model key": (
        _edit('sha256 = ""', 'sha = ""'),
        [MODEL, "unknown key 'sha'", "did you mean 'sha256'?", "family, description, network"],
    ),
    "unknown family key": (
        _edit('trainer = "ToyTrainer"', 'trainer = "ToyTrainer"\ntask = "ToyTrainer"'),
        [FAMILY, "unknown key 'task'", "trainer, pipeline_tag, entry_points"],
    ),
    "missing model key": (
        _edit('sha256 = ""\n', ""),
        [MODEL, "lacks the required key 'sha256' (a string)", 'add sha256 = "..."'],
    ),
    "missing family key": (
        _edit('trainer = "AltTrainer"\n', ""),
        [ALT, "lacks the required key 'trainer' (a string)"],
    ),
    "not a string": (
        _edit('description = "A toy model for the table tests."', "description = 3"),
        [MODEL, "'description' must be a string, got an integer (3)", 'description = "..."'],
    ),
    "a string, not an array": (
        _edit('datasets = ["mnist"]', 'datasets = "mnist"'),
        [MODEL, "'datasets' must be an array of strings, got a string ('mnist')"],
    ),
    "an array holding a number": (
        _edit('tags = ["gan", "toy"]', 'tags = ["gan", 1]'),
        [MODEL, "'tags' must be an array of strings, got an array holding an integer (1)"],
    ),
    "a number written as a string": (
        _edit("metric_targets = { precision = 0.7,", 'metric_targets = { precision = "0.7",'),
        [MODEL, "'metric_targets' must be a table of numbers", "'precision' is a string ('0.7')"],
    ),
    "a boolean is no number": (
        _edit("targets = { classes_covered = 10,", "targets = { classes_covered = true,"),
        [FAMILY, "'targets' must be a table of numbers", "'classes_covered' is a boolean"],
    ),
    "a config that is not a table": (
        _edit("config = { z_dim = 8, resolution = 32, channels = 1, scale = 0.5 }", "config = 8"),
        [MODEL, "'config' must be a table, got an integer (8)", "config = { key = value }"],
    ),
    "a network the package lacks": (
        _edit('network = "Net"', 'network = "Generator"'),
        [MODEL, "'network' names 'Generator'", "tablepkg does not serve", "are Critic, Net"],
    ),
    "a package function is no network": (
        _edit('network = "Net"', 'network = "entry_points"'),
        [MODEL, "'network' names 'entry_points'", "Critic, Net"],
    ),
    "a signature rule the package lacks": (
        _edit('entry_points = "alt_entry_points"', 'entry_points = "encoder_entry_points"'),
        [ALT, "'entry_points' names 'encoder_entry_points'", "tablepkg has no function"],
    ),
    "a model of a family never registered": (
        _edit('family = "tabletoy"', 'family = "tabletoy-beta"'),
        [MODEL, "register family 'tabletoy-beta' before", "key 'family' names 'tabletoy-beta'"],
    ),
    "a model registered twice": (
        _edit("[models.tabletoy-mnist]", "[models.dcgan-mnist]"),
        ["[models.dcgan-mnist]", "model 'dcgan-mnist' is registered twice"],
    ),
    "a model name the registry refuses": (
        _edit("[models.tabletoy-mnist]", "[models.Tabletoy_MNIST]"),
        ["[models.Tabletoy_MNIST]", "invalid model name 'Tabletoy_MNIST'"],
    ),
    "not TOML": (VALID + "\n[models.x\n", ["not valid TOML", "https://toml.io"]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_table_that_breaks_the_schema_is_refused_by_file_table_and_key(
    case: str, load: Callable[[str], Path], tmp_path: Path
) -> None:
    text, says = REFUSED[case]
    with pytest.raises(ValueError) as refused:
        load(text)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / TABLE_FILE}: "), message
    for part in says:
        assert part in message, (part, message)


def test_a_schema_error_registers_nothing(load: Callable[[str], Path]) -> None:
    """The whole file is checked first: a bad model refuses the families above it too."""
    families, specs = dict(zoo.registry._FAMILIES), dict(zoo.registry._SPECS)
    with pytest.raises(ValueError, match="'network' names 'Generator'"):
        load(_edit('network = "Net"', 'network = "Generator"'))
    assert (families, specs) == (zoo.registry._FAMILIES, zoo.registry._SPECS)


def test_the_default_signature_rule_must_exist(
    load: Callable[[str], Path], module: types.ModuleType
) -> None:
    del module.entry_points
    with pytest.raises(ValueError, match=r"names 'entry_points' \(its default\)") as refused:
        load(VALID)
    assert FAMILY in str(refused.value)


def test_a_package_that_serves_no_network_class_is_told_how_to(
    load: Callable[[str], Path], module: types.ModuleType
) -> None:
    del module.__getattr__
    with pytest.raises(ValueError, match=r"serves no network class .*network_getattr") as refused:
        load(VALID)
    assert MODEL in str(refused.value)


def test_a_package_without_its_table_says_which_file(module: types.ModuleType) -> None:
    with pytest.raises(FileNotFoundError, match=r"no zoo table.*package-data") as missing:
        FamilyPackage(PACKAGE).register_table(Path("/nonexistent") / TABLE_FILE)
    assert "/nonexistent/models.toml" in str(missing.value)


def test_a_package_reads_its_own_table_as_a_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real package on ``sys.path`` whose ``__init__`` ends with ``register_table()``."""
    _copy_registry(monkeypatch)
    package = tmp_path / "tablepkg_real"
    package.mkdir()
    (package / TABLE_FILE).write_text(VALID.replace("tabletoy", "realtoy"), encoding="utf-8")
    (package / "__init__.py").write_text(
        "from zoo.models.layout import FamilyPackage\n"
        "from zoo.models.signatures import generate_entry\n"
        "_PACKAGE = FamilyPackage(__name__)\n"
        "def entry_points(config):\n"
        "    return (generate_entry(config['z_dim'], 1, 32, doc='x'),)\n"
        "alt_entry_points = entry_points\n"
        "__getattr__ = _PACKAGE.network_getattr(('Net',))\n"
        "_PACKAGE.register_table()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tablepkg_real", raising=False)
    import tablepkg_real

    spec = get_spec("realtoy-mnist")
    assert spec.builder == "tablepkg_real.network:Net"
    assert get_family(spec.family).entry_points is tablepkg_real.entry_points
    monkeypatch.delitem(sys.modules, "tablepkg_real")


def _shipped_table(package: str) -> dict[str, Any]:
    path = Path(zoo.__file__).parent / "models" / package / TABLE_FILE
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_the_shipped_tables_are_what_the_registry_serves() -> None:
    """Every built-in family and model comes from a table, with the values written there."""
    tables = {p: _shipped_table(p) for p in SHIPPED}
    families = [name for t in tables.values() for name in t["families"]]
    models = [name for t in tables.values() for name in t["models"]]
    builtin = [n for n in list_models() if get_spec(n).builder.startswith("zoo.models.")]
    assert sorted(models) == builtin
    for package, table in tables.items():
        for name, written in table["families"].items():
            family = get_family(name)
            assert family.trainer == f"zoo.models.{package}.training:{written['trainer']}"
            assert family.pipeline_tag == written["pipeline_tag"]
            rule = written.get("entry_points", "entry_points")
            assert family.entry_points is getattr(sys.modules[f"zoo.models.{package}"], rule)
            assert repr(family.targets) == repr(written.get("targets", {}))
            assert family.lower_is_better == frozenset(written.get("lower_is_better", ()))
        for name, written in table["models"].items():
            spec = get_spec(name)
            assert spec.family == written["family"] and spec.family in families
            assert spec.builder == f"zoo.models.{package}.network:{written['network']}"
            assert spec.description == written["description"]
            assert repr(spec.config) == repr(written["config"])  # types and key order
            assert spec.datasets == tuple(written["datasets"])
            assert spec.tags == tuple(written.get("tags", ()))
            assert spec.sha256 == written["sha256"] and re.fullmatch("[0-9a-f]{64}", spec.sha256)
            assert repr(spec.metric_targets) == repr(written.get("metric_targets", {}))


def test_the_shipped_tables_register_again_to_an_equal_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loading the five tables into an empty registry gives the same families and specs."""
    list_models()  # the registry as imported
    before = dict(zoo.registry._FAMILIES), dict(zoo.registry._SPECS)
    builtin = {n: s for n, s in before[1].items() if s.builder.startswith("zoo.models.")}
    monkeypatch.setattr(zoo.registry, "_FAMILIES", {})
    monkeypatch.setattr(zoo.registry, "_SPECS", {})
    for package in SHIPPED:
        FamilyPackage(f"zoo.models.{package}").register_table()
    # Each table registers in file order (the order packages are first imported in may vary).
    assert list(zoo.registry._SPECS) == [n for p in SHIPPED for n in _shipped_table(p)["models"]]
    assert builtin == zoo.registry._SPECS
    families = {n: f for n, f in before[0].items() if f.trainer.startswith("zoo.models.")}
    assert families == zoo.registry._FAMILIES


def test_a_broken_table_is_reported_at_every_lookup_not_just_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry stays unloaded after a family fails to register: no half registry."""
    _copy_registry(monkeypatch)
    package = tmp_path / "tablepkg_broken"
    package.mkdir()
    (package / TABLE_FILE).write_text(VALID.replace("trainer", "trainr", 1), encoding="utf-8")
    (package / "__init__.py").write_text(
        "from zoo.models.layout import FamilyPackage\nFamilyPackage(__name__).register_table()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ZOO_FAMILIES", "tablepkg_broken")
    monkeypatch.setattr(zoo.registry, "_loaded", False)
    for _ in range(2):
        with pytest.raises(ValueError, match=r"unknown key 'trainr'; did you mean 'trainer'"):
            list_models()
        assert "tablepkg_broken" not in sys.modules
