"""genzoo: a model zoo and inference-serving package for image generative models."""

from __future__ import annotations

from typing import Any

from zoo._version import __version__
from zoo.registry import create_model, get_spec, list_models

__all__ = ["__version__", "create_model", "get_spec", "list_models", "load", "pull"]


def __getattr__(name: str) -> Any:
    # zoo.load / zoo.pull live in zoo.hub, imported on first use so `import zoo` stays light.
    if name in ("load", "pull"):
        from zoo import hub

        return getattr(hub, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
