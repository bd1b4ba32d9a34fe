"""A zoo model behind KServe's own Python model server: the v2 core protocol and nothing more.

Run by ``tests/serving/test_serving_core_protocol.py`` with ``.venv-kserve/bin/python`` (``make
kserve``: KServe's model server pins protobuf and pandas versions that clash with ours), the
repository root on ``sys.path`` for the project's torch-free modules::

    python kserve_model_server.py HTTP_PORT GRPC_PORT REPOSITORY MODEL:ENTRY...

It serves each entry point's ONNX graph from a repository that ``zoo repo build`` wrote
(``REPOSITORY/<Triton name>/1/model.onnx``) through ONNX Runtime, with the same wire
conversion the Triton backends run (:mod:`serving.server.wire`), under the same Triton name.
KServe answers ``GET /v2/models/{name}``, readiness and inference over HTTP and gRPC, but has
neither Triton's model-configuration nor its repository-index extension: what the client's
fall-back to the core metadata is tested against.

KServe's ``ModelServer`` binds every interface; this composes the same parts (its data plane,
its FastAPI app and REST server, its gRPC servicer and interceptor) on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from grpc import aio
from kserve import InferOutput, InferRequest, InferResponse, Model
from kserve.model_repository import ModelRepository
from kserve.model_server import FASTAPI_APP_IMPORT_STRING
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.server import RESTServer

from export.runners import make_runner
from serving.server.wire import graph_inputs, wire_inputs, wire_outputs, wire_results
from zoo.registry import triton_model_name

HOST = "127.0.0.1"


class ZooEntryModel(Model):
    """One entry point of one zoo model, run by ONNX Runtime."""

    def __init__(self, model: str, entry: str, onnx_file: Path) -> None:
        super().__init__(triton_model_name(model, entry))
        self.runner = make_runner("onnxruntime", model, entry, artifact=onnx_file, threads=1)
        self.ready = True

    def get_input_types(self) -> list[dict[str, Any]]:
        """The wire inputs, batch axis first (-1: any size), as v2 metadata lists them."""
        return [_meta(w) for w in wire_inputs(self.runner.entry)]

    def get_output_types(self) -> list[dict[str, Any]]:
        """The wire outputs, batch axis first."""
        return [_meta(w) for w in wire_outputs(self.runner.entry)]

    def predict(
        self, payload: InferRequest, headers: Any = None, response_headers: Any = None
    ) -> InferResponse:
        """Wire tensors in, wire tensors out, converted as the Triton backends convert them."""
        entry = self.runner.entry
        wire = {t.name: t.as_numpy() for t in payload.inputs}
        results = wire_results(entry, self.runner(*graph_inputs(entry, wire)))
        outputs = []
        for w, arr in zip(wire_outputs(entry), results, strict=True):
            out = InferOutput(w.name, list(arr.shape), _datatype(w))
            out.set_data_from_numpy(np.ascontiguousarray(arr), binary_data=True)
            outputs.append(out)
        # a request without an id gets one: KServe's REST response model requires it
        return InferResponse(payload.id or uuid.uuid4().hex, self.name, outputs)


def _datatype(w: Any) -> str:
    """The v2 protocol's name of a wire tensor's dtype (``config.pbtxt``'s without ``TYPE_``)."""
    return str(w.triton_dtype).removeprefix("TYPE_")


def _meta(w: Any) -> dict[str, Any]:
    return {"name": w.name, "datatype": _datatype(w), "shape": [-1, *w.dims]}


async def serve(models: list[Model], http_port: int, grpc_port: int) -> None:
    """KServe's REST and gRPC front ends over one data plane, on loopback."""
    registry = ModelRepository()
    for model in models:
        registry.update(model)
    dataplane = DataPlane(model_registry=registry)
    extension = ModelRepositoryExtension(model_registry=registry)
    rest = RESTServer(FASTAPI_APP_IMPORT_STRING, dataplane, extension, http_port, workers=1)
    rest.config.host = HOST
    grpc_server = aio.server(interceptors=(ExceptionToStatusInterceptor(),))
    grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
        InferenceServicer(dataplane, extension), grpc_server
    )
    grpc_server.add_insecure_port(f"{HOST}:{grpc_port}")
    await grpc_server.start()
    await rest.start()


def main(argv: list[str]) -> None:
    """``HTTP_PORT GRPC_PORT REPOSITORY MODEL:ENTRY...``: serve until terminated."""
    http_port, grpc_port, repository, *entries = argv
    models = []
    for pair in entries:
        model, entry = pair.split(":")
        onnx_file = Path(repository) / triton_model_name(model, entry) / "1" / "model.onnx"
        models.append(ZooEntryModel(model, entry, onnx_file))
    asyncio.run(serve(models, int(http_port), int(grpc_port)))


if __name__ == "__main__":
    main(sys.argv[1:])
