"""genzoo: a model zoo and inference-serving package for image generative models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo._version import __version__

if TYPE_CHECKING:
    from zoo.registry import get_spec, list_models

__all__ = ["__version__", "create_model", "get_spec", "list_models", "load", "pull"]


def create_model(name: str, *, pretrained: bool = False, **overrides: Any) -> Any:
    """Build the zoo model ``name``, as ``timm.create_model`` does.

    With ``pretrained=False`` (the default) the network has random weights and ``overrides``
    replace config entries (a variant: ``create_model("stylegan2-mnist", resolution=256)``).
    With ``pretrained=True`` it is :func:`zoo.load`: the trained weights, pulled and sha256
    checked (the bundled copy when the Hub cannot be reached), in eval mode.
    """
    if pretrained:
        from zoo.hub import load

        return load(name, **overrides)
    from zoo import registry

    return registry.create_model(name, **overrides)


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import zoo` stays light: the client SDK imports zoo.errors and
    # zoo.validation, which must not bring the registry (or anything else) with them.
    # zoo.load / zoo.pull live in zoo.hub; get_spec / list_models in zoo.registry.
    if name in ("load", "pull"):
        from zoo import hub

        return getattr(hub, name)
    if name in ("get_spec", "list_models"):
        from zoo import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
