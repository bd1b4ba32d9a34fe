"""Lazy access to a family's network classes from its torch-free spec module."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from typing import Any


def network_getattr(module: str, network: str, names: Collection[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``module`` that imports ``network`` (torch) only on demand.

    The family package ``zoo.models.<family>`` registers its entries without torch; the names in
    ``names`` (its network classes) come from ``network`` the first time one is asked for.
    """

    def getattr_(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(network), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return getattr_
