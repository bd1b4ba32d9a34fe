"""The zoo's calls in-process: the same methods as :class:`serving.client.ZooClient`, no server.

``zoo generate --local`` and the seed-determinism tests use :class:`InProcessZoo`. It converts
requests with the same :mod:`serving.wire` code the Triton backends run, so an image made
here and one served by Triton differ only by the backend that ran the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from serving.client import BaseZooClient, ModelSignature, resolve_model
from serving.wire import graph_inputs, wire_inputs, wire_outputs, wire_results
from zoo.errors import ExportGateError
from zoo.registry import EntryPoint, get_spec, list_models, spec_of_module, triton_model_name
from zoo.runners import Runner

if TYPE_CHECKING:
    from torch import nn

#: Backends that run in-process (``export.runners.make_runner`` adds ONNX Runtime and TensorRT).
BACKENDS = ("onnxruntime", "torch", "compile", "tensorrt")
#: Model file in a repository version folder, per backend that runs an exported artifact.
ARTIFACTS = {"onnxruntime": "model.onnx", "tensorrt": "model.plan"}


def served_entries(models: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """Triton model name → (zoo model, entry point) for every entry point of ``models``."""
    out: dict[str, tuple[str, str]] = {}
    for name in models or list_models():
        for entry in get_spec(name).entry_points:
            out[triton_model_name(name, entry.name)] = (name, entry.name)
    return out


def signature_of(triton_name: str, entry: EntryPoint, max_batch_size: int = 0) -> ModelSignature:
    """The client-side signature of an entry point's wire form."""
    return ModelSignature(
        name=triton_name,
        inputs={w.name: (np.dtype(w.dtype), w.dims) for w in wire_inputs(entry)},
        outputs={w.name: (np.dtype(w.dtype), w.dims) for w in wire_outputs(entry)},
        max_batch_size=max_batch_size,
    )


def load_module(name: str, *, offline: bool | None = None) -> nn.Module:
    """The trained weights of ``name``, pulled through the hub (bundled copy when offline).

    Either way the weights are safetensors checked against their sha256.
    """
    from zoo.hub import pull

    return pull(name, offline=offline).load()


def open_runner(
    backend: str,
    model: str,
    entry: str,
    *,
    module: nn.Module | None = None,
    artifact: Path | None = None,
    threads: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str = "cpu",
    half: bool = False,
) -> Runner:
    """A runner for one entry point: torch here, the others from :mod:`export.runners`.

    ``overrides`` name the variant an artifact was exported from (its ``runner.entry`` is that
    variant's); a ``module`` brings its own config. Only the torch backends import torch.
    ``device`` is where it runs (``"cuda"`` on a GPU host); ``half`` runs the torch backend in
    float16, NHWC in memory (what a GPU's tensor cores want).
    """
    if backend not in BACKENDS:
        from zoo.errors import InvalidNameError

        raise InvalidNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "torch":
        from zoo.runners import TorchRunner

        return TorchRunner(
            model,
            module or load_module(model),
            entry,
            threads=threads,
            device=device,
            half=half,
            channels_last=half,
        )
    from export.runners import make_runner

    runner = make_runner(
        backend, model, entry, module=module, artifact=artifact, threads=threads, device=device
    )
    spec = spec_of_module(model, module) if module is not None else get_spec(model)
    spec = spec.with_config(**(overrides or {}))
    if artifact is not None:
        from export.artifacts import read_meta

        meta = read_meta(artifact) if artifact.suffix == ".onnx" else None
        if meta is not None and meta.get("overrides", {}) != spec.overrides:
            raise ExportGateError(
                f"{artifact} was exported with config overrides {meta.get('overrides', {})}, "
                f"not {spec.overrides}; rebuild it (`zoo repo build --set ...`)."
            )
    # export.runners reads the default spec; a variant's graph has the variant's signature.
    runner.entry = spec.entry_point(runner.entry.name)
    return runner


class InProcessZoo(BaseZooClient):
    """Runs the zoo's calls in this process with ``backend``; weights load once per model.

    ``modules`` overrides the weights (torch backends); ``repository`` is where the ONNX Runtime
    and TensorRT backends find their exported files (default: the model repository).
    """

    def __init__(
        self,
        backend: str = "torch",
        *,
        modules: Mapping[str, nn.Module] | None = None,
        repository: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.backend = backend
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
            if zoo_model not in self._modules and self.backend in ("torch", "compile"):
                self._modules[zoo_model] = load_module(zoo_model)
            artifact = None
            if self.repository is not None and self.backend in ARTIFACTS:
                artifact = Path(self.repository) / name / "1" / ARTIFACTS[self.backend]
            self._runners[name] = open_runner(
                self.backend,
                zoo_model,
                entry,
                module=self._modules.get(zoo_model),
                artifact=artifact,
                threads=self.threads,
            )
        return self._runners[name]

    def infer(self, sig: ModelSignature, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Convert the wire inputs, run the graph, convert its outputs back."""
        runner = self._runner(sig.name)
        outputs = wire_results(runner.entry, runner(*graph_inputs(runner.entry, inputs)))
        return {w.name: o for w, o in zip(wire_outputs(runner.entry), outputs, strict=True)}
