"""Triton Python-backend model: wire inputs → graph inputs, first step of a native ensemble.

``zoo repo build --native`` copies this file to ``<triton model>_pre/1/model.py``. It turns
seeds into latents with the seed → latent rule and uint8 NHWC images into float NCHW, so the
next step, a native ``onnxruntime_onnx`` or ``tensorrt_plan`` model, receives exactly its graph
inputs. It needs NumPy and genzoo's torch-free modules only (``pip install --no-deps genzoo``
in the NGC container): the graph signature comes from this model's own config (its outputs are
the graph's inputs), never from the registry, which would import torch.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from serving.server.backends.common import request_wire
from serving.server.wire import graph_inputs, wire_inputs
from zoo.errors import ZooError
from zoo.registry import EntryPoint, TensorSpec

_DTYPES = {"TYPE_FP32": "float32", "TYPE_INT64": "int64", "TYPE_UINT8": "uint8"}


class TritonPythonModel:
    """Pre-processing for one entry point, described by this model's outputs."""

    def initialize(self, args: dict[str, Any]) -> None:
        """Rebuild the graph's input signature from the config."""
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        scalars = set(filter(None, params.get("zoo_scalar_inputs", "").split(",")))
        self.dims = {t["name"]: tuple(int(d) for d in t["dims"]) for t in config["output"]}
        graph = tuple(
            TensorSpec(
                t["name"],
                _DTYPES[t["data_type"]],  # type: ignore[arg-type]
                () if t["name"] in scalars else self.dims[t["name"]],
            )
            for t in config["output"]
        )
        self.entry = EntryPoint(params.get("zoo_entry", "preprocess"), graph, ())
        self.inputs = [w.name for w in wire_inputs(self.entry)]

    def execute(self, requests: list[Any]) -> list[Any]:
        """Convert each request; a bad one is answered with its error."""
        responses = []
        for request in requests:
            try:
                arrays = graph_inputs(self.entry, request_wire(request, self.inputs))
            except (ZooError, ValueError) as e:
                err = pb_utils.TritonError(str(e), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=err))
                continue
            tensors = [
                pb_utils.Tensor(t.name, np.ascontiguousarray(a.reshape(len(a), *self.dims[t.name])))
                for t, a in zip(self.entry.inputs, arrays, strict=True)
            ]
            responses.append(pb_utils.InferenceResponse(tensors))
        return responses
