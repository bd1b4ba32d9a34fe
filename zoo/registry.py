"""The model registry: one :class:`ModelSpec` per zoo entry, registered by a decorator.

Listing, lookup and "does it exist" all come from here (never from lists kept by hand), so
a model is tested, exported and served the moment it is registered.

Each spec names the model's *entry points*: the calls a user makes (``generate``,
``encode``, ``translate_a2b`` ...). An entry point has a tensor signature without the batch
axis; export, the Triton repository writer and the client all read it from here.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from zoo.errors import InvalidNameError, UnknownModelError
from zoo.settings import HUB_ORG

if TYPE_CHECKING:
    from torch import nn

DType = Literal["float32", "int64", "uint8", "bool"]

# A model name is lower-case words joined by dashes: safe as a path segment and a repo name.
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of an entry point; ``shape`` excludes the leading batch axis."""

    name: str  # tensor name in the exported graph and on the wire
    dtype: DType  # element type
    shape: tuple[int, ...]  # per-item shape; -1 marks a dynamic axis
    doc: str = ""  # one line for users


@dataclass(frozen=True)
class EntryPoint:
    """A call a model offers, with the tensors its graph takes and returns."""

    name: str  # e.g. "generate", "encode", "translate_a2b"
    inputs: tuple[TensorSpec, ...]  # graph inputs (latents, not seeds: seeds map via zoo.latent)
    outputs: tuple[TensorSpec, ...]  # graph outputs; images are float32 NCHW in [-1, 1]
    doc: str = ""  # one line for users


@dataclass(frozen=True)
class ModelSpec:
    """Everything known about one zoo entry: what it is, how to build it, where its weights live."""

    name: str  # registry name, e.g. "dcgan-mnist"
    family: str  # architecture family, e.g. "dcgan"
    description: str  # one line
    entry_points: tuple[EntryPoint, ...]  # the calls it serves; the first is the default
    resolution: int  # image side in pixels
    channels: int  # image channels
    config: dict[str, Any]  # default constructor config (widths, depths, latent size)
    datasets: tuple[str, ...]  # data it was trained on
    sha256: str  # digest of the shipped model.safetensors ("" until trained)
    revision: str = "main"  # Hub revision the registry pins
    license: str = "apache-2.0"  # SPDX-style licence id of the weights
    hub_repo: str = ""  # Hub repo id; defaults to "<HUB_ORG>/<name>"
    tags: tuple[str, ...] = ()  # extra Hub tags
    metric_targets: dict[str, float] = field(default_factory=dict)  # goals the weights must meet

    @property
    def repo_id(self) -> str:
        """Hub repo id of the published weights."""
        return self.hub_repo or f"{HUB_ORG}/{self.name}"

    @property
    def tasks(self) -> tuple[str, ...]:
        """Names of the entry points, default first."""
        return tuple(e.name for e in self.entry_points)

    def entry_point(self, name: str | None = None) -> EntryPoint:
        """The entry point called ``name`` (the default one when ``None``)."""
        if name is None:
            return self.entry_points[0]
        for entry in self.entry_points:
            if entry.name == name:
                return entry
        raise InvalidNameError(
            f"model {self.name!r} has no entry point {name!r}; it offers {', '.join(self.tasks)}."
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``zoo info --json``)."""
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "tasks": list(self.tasks),
            "resolution": self.resolution,
            "channels": self.channels,
            "config": dict(self.config),
            "datasets": list(self.datasets),
            "repo_id": self.repo_id,
            "revision": self.revision,
            "sha256": self.sha256,
            "license": self.license,
            "metric_targets": dict(self.metric_targets),
            "entry_points": [
                {
                    "name": e.name,
                    "doc": e.doc,
                    "inputs": [_tensor_dict(t) for t in e.inputs],
                    "outputs": [_tensor_dict(t) for t in e.outputs],
                }
                for e in self.entry_points
            ],
        }


def _tensor_dict(t: TensorSpec) -> dict[str, Any]:
    return {"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "doc": t.doc}


Builder = Callable[..., "nn.Module"]

_SPECS: dict[str, ModelSpec] = {}
_BUILDERS: dict[str, Builder] = {}


def register_model(spec: ModelSpec) -> Callable[[Builder], Builder]:
    """Register ``spec`` with the decorated builder ``fn(**config) -> nn.Module``."""
    check_model_name(spec.name)

    def decorator(fn: Builder) -> Builder:
        if spec.name in _SPECS:
            raise ValueError(f"model {spec.name!r} is registered twice")
        _SPECS[spec.name] = spec
        _BUILDERS[spec.name] = fn
        return fn

    return decorator


def _ensure_loaded() -> None:
    # Importing the families runs their @register_model decorators.
    import zoo.models  # noqa: F401


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a well-formed model name, else raise :class:`InvalidNameError`."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid model name {name!r}: use lower-case letters, digits and dashes "
            "(e.g. 'dcgan-mnist'); run `zoo list` to see every model."
        )
    return name


def list_models(pattern: str = "*", *, family: str | None = None) -> list[str]:
    """Names of the registered models matching a shell-style ``pattern``, sorted."""
    _ensure_loaded()
    return sorted(
        n
        for n, s in _SPECS.items()
        if fnmatch.fnmatch(n, pattern) and (family is None or s.family == family)
    )


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name``; unknown names suggest close ones."""
    _ensure_loaded()
    if name in _SPECS:
        return _SPECS[name]
    raise UnknownModelError(name, difflib.get_close_matches(str(name), list(_SPECS), n=3))


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the model ``name`` with random weights; ``overrides`` replace config entries."""
    spec = get_spec(name)
    unknown = set(overrides) - set(spec.config)
    if unknown:
        raise InvalidNameError(
            f"unknown config key(s) for {name}: {', '.join(sorted(unknown))}; "
            f"valid keys: {', '.join(sorted(spec.config))}."
        )
    return _BUILDERS[name](**{**spec.config, **overrides})


def triton_model_name(model: str, entry: str | None = None) -> str:
    """The Triton model name serving ``entry`` of ``model``.

    A model with one entry point is served under its own name (``dcgan-mnist``); each entry
    point of a multi-entry model gets ``<model>_<entry>`` (``vae-mnist_encode``). Export writes
    to ``model_repository/<this name>/1/`` and the client addresses the same name.
    """
    spec = get_spec(model)
    ep = spec.entry_point(entry)
    return spec.name if len(spec.entry_points) == 1 else f"{spec.name}_{ep.name}"
