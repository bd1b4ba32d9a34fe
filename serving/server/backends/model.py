"""Triton Python-backend model serving one zoo entry point (the embedded default).

``zoo repo build`` copies this file to ``<triton model>/1/model.py``. Its ``config.pbtxt``
parameters say which entry point to run and how: ``zoo_model``, ``zoo_entry``, ``zoo_backend``
(the runner's engine: ``onnxruntime`` by default, ``openvino``, ``torch`` or ``tensorrt``; the
key keeps its old name, so the tracked and already-built configs stay valid), ``zoo_threads`` and,
for a variant, ``zoo_config`` (its config overrides, JSON); on a GPU host also ``zoo_device``
(``cuda``) and ``zoo_half`` (``true``: the torch runner in float16). With ONNX Runtime or
OpenVINO the process imports NumPy, the engine and genzoo's torch-free modules only; torch
loads for the torch engines.

Requests arrive in the wire form of :mod:`serving.server.wire` (seeds, uint8 NHWC images; ψ and the
mixing seed may be left out); the seed → latent rule runs here, so a client never sends
latents.

Doing the pre-processing here rather than in a Triton ensemble keeps one stub process and no
extra tensor copies per request: on a CPU host the latents are one vectorised NumPy call,
cheap next to the graph. The native repository (``zoo repo build --native``) does use an
ensemble, because native ONNX Runtime / TensorRT models cannot run Python.

Every request the dynamic batcher hands over is validated on its own (a bad one fails alone),
then all good ones run as one batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from export.runners import make_runner, runner_engine
from serving.server.backends.common import honour_pythonpath, request_wire
from serving.server.wire import graph_inputs, wire_inputs, wire_outputs, wire_results
from zoo.errors import ZooError


class TritonPythonModel:
    """One entry point of one zoo model, run by an in-process runner."""

    def initialize(self, args: dict[str, Any]) -> None:
        """Load the runner named by the model's config parameters."""
        honour_pythonpath()  # before the registry first imports the model families
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        engine = params.get("zoo_backend", "onnxruntime")  # the key's old name: see above
        threads = int(params.get("zoo_threads", "1"))
        version_dir = Path(args["model_repository"]) / args["model_version"]
        module = None
        if runner_engine(engine).artifact is None:  # torch, compile
            from zoo.weights import load_model_from_dir

            # `zoo repo build --engine torch` saved the weights here with their sha256.
            module = load_model_from_dir(version_dir, sha256=params["zoo_sha256"])
        self.runner = make_runner(
            engine,
            params["zoo_model"],
            params["zoo_entry"],
            module=module,
            artifact=runner_engine(engine).artifact_in(version_dir),
            threads=threads,
            overrides=json.loads(params.get("zoo_config", "{}")),
            device=params.get("zoo_device", "cpu"),
            half=params.get("zoo_half", "false") == "true",
        )
        self.inputs = [w.name for w in wire_inputs(self.runner.entry)]
        self.outputs = [w.name for w in wire_outputs(self.runner.entry)]

    def execute(self, requests: list[Any]) -> list[Any]:
        """Run every valid request of the batch in one call; answer bad ones with their error.

        The usual case, every request well-formed, converts them all in one vectorised call:
        converting request by request costs ~0.1 ms each (the seed → latent rule is a few dozen
        NumPy calls), as much as the graph itself for a small model at batch 1. Only when that
        fails are the requests converted one by one, so that just the bad ones fail.
        """
        entry = self.runner.entry
        responses: list[Any] = [None] * len(requests)
        wires = [request_wire(request, self.inputs) for request in requests]
        good: list[tuple[int, int]] = []  # (request index, images in it)
        joined: list[np.ndarray] | None = None
        # Requests that send the same tensors (optional ones may be left out) join one batch.
        if len(wires) > 1 and all(w.keys() == wires[0].keys() for w in wires):
            try:
                together = {k: np.concatenate([w[k] for w in wires]) for k in wires[0]}
                joined = list(graph_inputs(entry, together))
                good = [(i, len(w[self.inputs[0]])) for i, w in enumerate(wires)]
            except (ZooError, ValueError):
                joined = None
        if joined is None:
            parts = []
            for i, wire in enumerate(wires):
                try:
                    parts.append(graph_inputs(entry, wire))
                    good.append((i, len(parts[-1][0])))
                except (ZooError, ValueError) as e:
                    responses[i] = pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(str(e), pb_utils.TritonError.INVALID_ARG)
                    )
            joined = [np.concatenate(p) for p in zip(*parts, strict=True)] if parts else None
        if joined is not None and good:
            outputs = wire_results(entry, self.runner(*joined))
            start = 0
            for i, n in good:
                responses[i] = pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor(name, np.ascontiguousarray(out[start : start + n]))
                        for name, out in zip(self.outputs, outputs, strict=True)
                    ]
                )
                start += n
        return responses
