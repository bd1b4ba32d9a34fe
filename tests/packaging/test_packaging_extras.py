"""Each optional module's extra, as the CLI names it, is the extra that installs it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from zoo.errors import OPTIONAL_MODULES, MissingDependencyError, missing_dependency

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_of(extra: str, extras: dict[str, list[str]]) -> set[str]:
    """The packages ``genzoo[extra]`` installs directly, following genzoo[...] references."""
    found: set[str] = set()
    for line in extras[extra]:
        req = Requirement(line)
        if req.name == "genzoo":
            for sub in req.extras:
                found |= packages_of(sub, extras)
        else:
            found.add(_norm(req.name))
    return found


@pytest.mark.parametrize("module", sorted(OPTIONAL_MODULES))
def test_the_named_extra_installs_the_module(module: str) -> None:
    """`pip install 'genzoo[EXTRA]'` really brings the package the message names."""
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    package, extra = OPTIONAL_MODULES[module]
    assert _norm(package) in packages_of(extra, extras), (module, package, extra)


def test_a_missing_optional_module_becomes_one_line_naming_the_extra() -> None:
    """A submodule's failure counts as its package's; other import errors stay what they are."""
    e = missing_dependency(ModuleNotFoundError("No module named 'torch'", name="torch.nn"))
    assert isinstance(e, MissingDependencyError) and e.extra == "torch"
    assert str(e) == "torch is not installed. Install it with `pip install 'genzoo[torch]'`."
    assert missing_dependency(ModuleNotFoundError("x", name="zoo.nothing")) is None
    assert missing_dependency(ImportError("cannot import name 'x' from 'torch'")) is None
