"""The zoo's calls in-process: the same methods as :class:`serving.client.ZooClient`, no server.

``zoo generate --local`` and the seed-determinism tests use :class:`InProcessZoo`. It converts
requests with the same :mod:`serving.server.wire` code the Triton backends run, so an image made
here and one served by Triton differ only by the engine that ran the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from export.runners import make_runner, runner_engine
from serving.client import BaseZooClient, InvalidInputError, ModelSignature
from serving.client.requests import resolve_model
from serving.client.transport import Version
from serving.server.wire import (
    declared_roles,
    graph_inputs,
    wire_inputs,
    wire_outputs,
    wire_results,
)
from zoo.registry import EntryPoint, get_spec, list_models, spec_of_module, triton_model_name
from zoo.runners import Runner

if TYPE_CHECKING:
    from torch import nn


def served_entries(models: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """Triton model name → (zoo model, entry point) for every entry point of ``models``."""
    out: dict[str, tuple[str, str]] = {}
    for name in models or list_models():
        for entry in get_spec(name).entry_points:
            out[triton_model_name(name, entry.name)] = (name, entry.name)
    return out


def signature_of(triton_name: str, entry: EntryPoint, max_batch_size: int = 0) -> ModelSignature:
    """The client-side signature of an entry point's wire form (what its config declares)."""
    classes = [t.classes for t in entry.inputs if t.classes]
    return ModelSignature(
        name=triton_name,
        inputs={w.name: (np.dtype(w.dtype), w.dims) for w in wire_inputs(entry)},
        outputs={w.name: (np.dtype(w.dtype), w.dims) for w in wire_outputs(entry)},
        max_batch_size=max_batch_size,
        label_classes=classes[0] if classes else None,
        declared=declared_roles(entry),
    )


def load_module(name: str, *, offline: bool | None = None) -> nn.Module:
    """The trained weights of ``name``, pulled through the hub (bundled copy when offline).

    Either way the weights are safetensors checked against their sha256.
    """
    from zoo.hub import pull

    return pull(name, offline=offline).load()


class InProcessZoo(BaseZooClient):
    """Runs the zoo's calls in this process on ``engine``; weights load once per model.

    ``engine`` names a runner engine (``export.runners.ENGINES``); ``modules`` overrides the
    weights (torch engines); ``repository`` is where the ONNX Runtime, OpenVINO and TensorRT
    engines find their exported files (default: the model repository).
    """

    def __init__(
        self,
        engine: str = "torch",
        *,
        modules: Mapping[str, nn.Module] | None = None,
        repository: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.engine = engine
        self.repository = repository
        self.threads = threads
        self._modules = dict(modules or {})
        self._entries = served_entries()
        self._runners: dict[str, Runner] = {}

    def list_models(self) -> list[str]:
        """Every entry point's Triton model name (what a server built from the zoo serves)."""
        return sorted(self._entries)

    def ready(self) -> bool:
        """Always ready: nothing to connect to."""
        return True

    def close(self) -> None:
        """Drop the loaded runners (and the weights this object loaded)."""
        self._runners.clear()

    def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The wire signature of the entry point ``entries`` names for ``model``."""
        name = resolve_model(self._entries, model, entries) if entries else model
        zoo_model, entry = self._entries[name]
        module = self._modules.get(zoo_model)
        spec = get_spec(zoo_model) if module is None else spec_of_module(zoo_model, module)
        return signature_of(name, spec.entry_point(entry))

    def _runner(self, name: str) -> Runner:
        if name not in self._runners:
            zoo_model, entry = self._entries[name]
            engine = runner_engine(self.engine)
            if zoo_model not in self._modules and engine.artifact is None:
                self._modules[zoo_model] = load_module(zoo_model)
            artifact = None
            if self.repository is not None:
                artifact = engine.artifact_in(Path(self.repository) / name / "1")
            self._runners[name] = make_runner(
                self.engine,
                zoo_model,
                entry,
                module=self._modules.get(zoo_model),
                artifact=artifact,
                threads=self.threads,
            )
        return self._runners[name]

    def infer(
        self, sig: ModelSignature, inputs: Mapping[str, Any], *, version: Version = None
    ) -> dict[str, Any]:
        """Convert the wire inputs, run the graph, convert its outputs back.

        In-process there is one version of each model (the weights loaded): asking for a
        version is an error.
        """
        if version is not None:
            raise InvalidInputError(
                "in-process serving runs one version of each model; drop version= or call a "
                "Triton server, which holds the repository's versions."
            )
        runner = self._runner(sig.name)
        outputs = wire_results(runner.entry, runner(*graph_inputs(runner.entry, inputs)))
        return {w.name: o for w, o in zip(wire_outputs(runner.entry), outputs, strict=True)}
