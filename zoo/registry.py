"""The model registry: one :class:`ModelSpec` per zoo entry, registered by a decorator.

Listing, lookup and "does it exist" all come from here (never from lists kept by hand), so
a model is tested, exported and served the moment it is registered.

Each spec names the model's *entry points*: the calls a user makes (``generate``,
``encode``, ``translate_a2b`` ...). An entry point has a tensor signature without the batch
axis; export, the Triton repository writer and the client all read it from here. Entry points
are derived from the config by the spec's :class:`Family` (``Family.entry_points``), so a
variant (``get_spec(name, resolution=256)``) has the signature of the network it builds.

A :class:`Family` holds everything that differs by architecture: the signature rule, the Hub
task of its cards, its quality targets, and (named as ``"module:attribute"``) its trainer,
evaluation protocol, card picture and usage text. Training, evaluation and cards are
generic code over it. The families register themselves: every package under ``zoo.models``
and every module named in ``ZOO_FAMILIES`` is imported the first time the registry is read.

This module, the family spec modules (``zoo.models.<family>``) and everything a spec holds
import without torch: a spec names its network class as ``"module:attribute"``, imported only
when :func:`create_model` builds one. A Triton backend running ONNX Runtime never loads torch.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from zoo.errors import InvalidInputError, InvalidNameError, UnknownModelError
from zoo.naming import check_model_name, served_name
from zoo.roles import Role, role_of
from zoo.settings import HUB_ORG, family_modules

if TYPE_CHECKING:
    from torch import nn

DType = Literal["float32", "int64", "uint8", "bool"]


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of an entry point; ``shape`` excludes the leading batch axis."""

    name: str  # tensor name in the exported graph and on the wire
    dtype: DType  # element type
    shape: tuple[int, ...]  # per-item shape; -1 marks a dynamic axis
    doc: str = ""  # one line for users
    classes: int = 0  # a class-label input takes 0..classes-1 (0: not a class label)
    role: Role | None = None  # what fills it (zoo.roles); None: implied by its name or shape

    def __post_init__(self) -> None:
        # The generic code fills and checks a label input from its classes (zoo.validation).
        if role_of(self).kind == "label" and self.classes < 1:
            raise ValueError(
                f"a {self.name!r} input must say how many classes it takes: "
                "TensorSpec(..., classes=N)."
            )


@dataclass(frozen=True)
class EntryPoint:
    """A call a model offers, with the tensors its graph takes and returns."""

    name: str  # e.g. "generate", "encode", "translate_a2b"
    inputs: tuple[TensorSpec, ...]  # graph inputs (latents, not seeds: seeds map via zoo.latent)
    outputs: tuple[TensorSpec, ...]  # graph outputs; images are float32 NCHW in [-1, 1]
    doc: str = ""  # one line for users


#: A family's signature rule: config → its entry points (the first is the default).
EntryPointsOf = Callable[[Mapping[str, Any]], tuple[EntryPoint, ...]]

#: The parts of a :class:`Family` that are torch code, named as ``"module:attribute"``.
FamilyPart = Literal["trainer", "protocol", "samples", "usage"]
#: What each part is, in the error a reference that does not import gives.
_PART_NAMES = {
    "trainer": "trainer",
    "protocol": "evaluation protocol",
    "samples": "card picture",
    "usage": "card usage text",
}


@dataclass(frozen=True)
class Family:
    """What differs from one architecture family to the next, registered beside its models.

    The torch-free parts are data. The rest name torch code as ``"module:attribute"``, imported
    by :meth:`part` when training, evaluation or a card needs it:

    - ``trainer``: the training class, a :class:`zoo.train.Trainer` subclass built from a
      ``TrainConfig``;
    - ``protocol``: ``protocol(ctx, make) -> None``, the evaluation: ``make(entry)`` gives a
      runner of the model under test (``zoo.evaluate.MakeRunner``); ``ctx``
      (``zoo.evaluate.EvalContext``) holds the data and the evaluator and collects the metrics;
    - ``samples``: ``samples(spec, module, report, plt) -> Figure``, the picture of the card's
      ``samples.png`` (``report`` may be ``None``; the card writer titles and saves it);
    - ``usage``: ``usage(spec) -> str``, the card's usage section (Markdown).
    """

    name: str  # e.g. "dcgan"; ModelSpec.family names it
    entry_points: EntryPointsOf  # the signature rule: config → entry points, default first
    pipeline_tag: str  # the Hub's task id for its cards (and their model-index)
    trainer: str  # "module:Class" of its trainer (zoo.train.Trainer)
    protocol: str  # "module:function" of its evaluation protocol
    samples: str  # "module:function" drawing its card's picture
    usage: str  # "module:function" writing its card's usage section
    targets: dict[str, float] = field(default_factory=dict)  # family-wide quality targets
    # its metrics where lower is better (the evaluation kit's FID and class ratio already are)
    lower_is_better: frozenset[str] = frozenset()

    def part(self, which: FamilyPart) -> Any:
        """The family's ``trainer``, ``protocol``, ``samples`` or ``usage``, imported now.

        A reference that does not import is an :class:`InvalidInputError` naming the family.
        """
        ref = getattr(self, which)
        try:
            return _resolve(ref)
        except (ImportError, AttributeError) as e:
            raise InvalidInputError(
                f"no {_PART_NAMES[which]} for family {self.name!r}: cannot import its {which} "
                f"{ref!r} ({e})."
            ) from e


def _check_ref(ref: str, what: str) -> None:
    """Refuse a reference to code that does not read ``"module:attribute"``."""
    module, sep, attribute = ref.partition(":")
    if not (module and sep and attribute):
        raise ValueError(f"{what} must read 'module:attribute', got {ref!r}")


def _resolve(ref: str) -> Any:
    """The attribute a ``"module:attribute"`` reference names, its module imported now."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ModelSpec:
    """Everything known about one zoo entry: what it is, how to build it, where its weights live.

    ``config`` is the full constructor config; ``overrides`` are the entries in which a variant
    (:meth:`with_config`) differs from the registered default, empty for the default itself.
    """

    name: str  # registry name, e.g. "dcgan-mnist"
    family: str  # architecture family, e.g. "dcgan"
    description: str  # one line
    builder: str  # network class as "module:attribute", imported when a model is built
    config: dict[str, Any]  # constructor config (widths, depths, latent size, resolution)
    datasets: tuple[str, ...]  # data it was trained on
    sha256: str  # digest of the shipped model.safetensors ("" until trained)
    revision: str = "main"  # Hub revision the registry pins
    license: str = "apache-2.0"  # SPDX-style licence id of the weights
    hub_repo: str = ""  # Hub repo id; defaults to "<HUB_ORG>/<name>"
    tags: tuple[str, ...] = ()  # extra Hub tags
    metric_targets: dict[str, float] = field(default_factory=dict)  # goals the weights must meet
    overrides: dict[str, Any] = field(default_factory=dict)  # where a variant differs from default
    entry_points: tuple[EntryPoint, ...] = field(init=False)  # derived from config by family

    def __post_init__(self) -> None:
        # Derived once: the signature always follows the config it was built from. The family
        # registers before its specs (its package does both at import).
        if self.family not in _FAMILIES:
            raise ValueError(f"{self.name!r}: register family {self.family!r} before its models")
        entries = _FAMILIES[self.family].entry_points(self.config)
        object.__setattr__(self, "entry_points", entries)

    @property
    def resolution(self) -> int:
        """Image side in pixels."""
        return int(self.config["resolution"])

    @property
    def channels(self) -> int:
        """Image channels."""
        return int(self.config["channels"])

    @property
    def repo_id(self) -> str:
        """Hub repo id of the published weights."""
        return self.hub_repo or f"{HUB_ORG}/{self.name}"

    @property
    def entry_names(self) -> tuple[str, ...]:
        """Names of the entry points, default first."""
        return tuple(e.name for e in self.entry_points)

    def with_config(self, **overrides: Any) -> ModelSpec:
        """This spec with config entries replaced (a variant), its entry points derived anew.

        Unknown keys are refused; overriding an entry with the value it has changes nothing.
        Variants have random weights: ``sha256`` is kept only for the default.
        """
        unknown = set(overrides) - set(self.config)
        if unknown:
            raise InvalidNameError(
                f"unknown config key(s) for {self.name}: {', '.join(sorted(unknown))}; "
                f"valid keys: {', '.join(sorted(self.config))}."
            )
        changed = {k: v for k, v in overrides.items() if self.config[k] != v}
        if not changed:
            return self
        config = {**self.config, **changed}
        default = _SPECS.get(self.name, self)  # overrides are relative to the registered entry
        if config == default.config:
            return default
        diff = {k: v for k, v in config.items() if default.config.get(k) != v}
        return replace(self, config=config, overrides=diff, sha256="")

    def entry_point(self, name: str | None = None) -> EntryPoint:
        """The entry point called ``name`` (the default one when ``None``)."""
        if name is None:
            return self.entry_points[0]
        for entry in self.entry_points:
            if entry.name == name:
                return entry
        raise InvalidNameError(
            f"model {self.name!r} has no entry point {name!r}; "
            f"it offers {', '.join(self.entry_names)}."
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``zoo info --json``)."""
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "tasks": list(self.entry_names),  # its JSON key since 0.1: scripts read it
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


_SPECS: dict[str, ModelSpec] = {}
_FAMILIES: dict[str, Family] = {}
#: The package whose sub-packages are the built-in families.
_BUILTIN_FAMILIES = "zoo.models"
_loaded = False


def register_family(family: Family) -> Family:
    """Add ``family`` to the registry (its package calls this before registering its models)."""
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    for which in ("trainer", "protocol", "samples", "usage"):
        _check_ref(getattr(family, which), f"{which} of family {family.name!r}")
    _FAMILIES[family.name] = family
    return family


def get_family(name: str) -> Family:
    """The :class:`Family` registered as ``name`` (a ``ModelSpec.family``)."""
    _ensure_loaded()
    if name not in _FAMILIES:
        known = ", ".join(sorted(_FAMILIES))
        raise InvalidNameError(f"unknown model family {name!r}; the registry has {known}.")
    return _FAMILIES[name]


def lower_is_better_metrics() -> frozenset[str]:
    """The metric names every family declares lower-is-better (``Family.lower_is_better``)."""
    _ensure_loaded()
    return frozenset().union(*(f.lower_is_better for f in _FAMILIES.values()))


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry (a family's spec module calls this at import) and return it."""
    check_model_name(spec.name)
    if spec.name in _SPECS:
        raise ValueError(f"model {spec.name!r} is registered twice")
    _check_ref(spec.builder, f"builder of {spec.name!r}")
    _SPECS[spec.name] = spec
    return spec


def _ensure_loaded() -> None:
    """Import every family once: the packages under ``zoo.models``, then ``ZOO_FAMILIES``.

    Importing a family's spec module registers it and its models; none of them imports torch.
    The families are found, not listed: a new package under ``zoo.models`` is picked up, and a
    family kept outside genzoo is named in ``ZOO_FAMILIES`` (it must be importable, here and in
    every process that serves it, e.g. Triton's backend stubs).
    """
    global _loaded
    if _loaded:
        return
    _loaded = True  # first: a family module that reads the registry must not recurse here
    builtin = importlib.import_module(_BUILTIN_FAMILIES)
    names = [
        f"{_BUILTIN_FAMILIES}.{m.name}" for m in pkgutil.iter_modules(builtin.__path__) if m.ispkg
    ]
    for module in (*sorted(names), *family_modules()):
        try:
            importlib.import_module(module)
        except BaseException as e:
            # A family that cannot be imported, or fails as it registers (a broken models.toml):
            # every later lookup raises its error again, rather than answer from half a registry.
            _loaded = False
            if isinstance(e, ImportError):
                raise InvalidInputError(
                    f"cannot import model family module {module!r} ({e}); ZOO_FAMILIES takes "
                    "importable module names separated by commas (is its folder on PYTHONPATH?)."
                ) from e
            raise


def list_models(pattern: str = "*", *, family: str | None = None) -> list[str]:
    """Names of the registered models matching a shell-style ``pattern``, sorted."""
    _ensure_loaded()
    return sorted(
        n
        for n, s in _SPECS.items()
        if fnmatch.fnmatch(n, pattern) and (family is None or s.family == family)
    )


def get_spec(name: str, **overrides: Any) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name``, or its variant with ``overrides``.

    Unknown names suggest close ones; unknown config keys are refused.
    """
    _ensure_loaded()
    if name not in _SPECS:
        raise UnknownModelError(name, difflib.get_close_matches(str(name), list(_SPECS), n=3))
    spec = _SPECS[name]
    return spec.with_config(**overrides) if overrides else spec


def spec_of_module(name: str, module: object) -> ModelSpec:
    """The spec (default or variant) whose config built ``module``, a zoo model class.

    Zoo models record their constructor config (``zoo.hub_mixin.HubMixin``); a module that
    records none is taken to be the default.
    """
    spec = get_spec(name)
    built = getattr(module, "_hub_mixin_config", None) or {}
    return spec.with_config(**{k: built[k] for k in spec.config if k in built})


def network_class(spec: ModelSpec) -> Callable[..., nn.Module]:
    """The network class ``spec.builder`` names, imported now (this imports torch)."""
    cls: Callable[..., nn.Module] = _resolve(spec.builder)
    return cls


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the model ``name`` with random weights; ``overrides`` replace config entries."""
    spec = get_spec(name, **overrides)
    return network_class(spec)(**spec.config)


def triton_model_name(model: str, entry: str | None = None) -> str:
    """The Triton model name serving ``entry`` of ``model`` (:func:`zoo.naming.served_name`).

    ``dcgan-mnist`` for its ``generate`` entry point, ``vae-mnist_encode`` for an entry point
    beside others, so adding an entry point to a model renames none of its served models.
    Export writes to ``model_repository/<this name>/1/`` and the client addresses the same name.
    """
    spec = get_spec(model)
    return served_name(spec.name, spec.entry_point(entry).name, [e.name for e in spec.entry_points])
