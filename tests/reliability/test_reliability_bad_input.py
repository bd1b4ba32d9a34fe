"""Bad input against the real server: raw tritonclient, raw HTTP bytes, raw gRPC bytes, the SDK.

Each bad request must get one clear error (HTTP 4xx / gRPC INVALID_ARGUMENT or NOT_FOUND, a
typed error in the SDK), and afterwards the server must still give the known answers on both
protocols. (tests/serving already covers a missing label, a float image and a typo'd model
name through the SDK; this covers the rest, below the SDK as well.)

Values the Python backend rejects (label, seed, ψ) differ between protocols: Triton 2.51's
response cache replays a failed request as an empty success, so a repeat is not a fresh check
(see RELIABILITY.md).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np
import pytest
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

from serving.client import InvalidInputError, ModelNotFoundError, ZooClient

if TYPE_CHECKING:
    from tests.reliability.conftest import ZooServe

I64 = np.int64


def _seed(*values: int) -> np.ndarray:
    return np.array(values, I64).reshape(-1, 1)


# name → (model, wire inputs per protocol, expected status kind, message fragment)
RAW_CASES: dict[str, tuple[str, Callable[[int], dict[str, np.ndarray]], str, str]] = {
    "wrong dtype": (
        "dcgan-mnist",
        lambda k: {"seed": np.array([[1.0]], np.float32)},
        "invalid",
        "data-type is 'FP32', but model 'dcgan-mnist' expects 'INT64'",
    ),
    "wrong shape": (
        "dcgan-mnist",
        lambda k: {"seed": _seed(1, 2).reshape(1, 2)},
        "invalid",
        "shape",
    ),
    "wrong rank": ("dcgan-mnist", lambda k: {"seed": np.array([1], I64)}, "invalid", "shape"),
    "empty batch": (
        "dcgan-mnist",
        lambda k: {"seed": np.zeros((0, 1), I64)},
        "invalid",
        "byte size mismatch",
    ),
    "batch above max": (
        "dcgan-mnist",
        lambda k: {"seed": _seed(*range(65))},
        "invalid",
        "batch-size must be <= 64",
    ),
    "NaN/inf psi": (
        "stylegan2-mnist",
        lambda k: {
            "seed": _seed(1),
            "psi": np.array([[(np.nan, np.inf)[k]]], np.float32),
            "mix_seed": _seed(1),
        },
        "invalid",
        "ψ must be a finite number",
    ),
    "label outside 0-9": (
        "cgan-mnist",
        lambda k: {"seed": _seed(1), "label": np.array([[10 + k]], I64)},
        "invalid",
        "labels must lie in 0..9",
    ),
    "negative seed": (
        "dcgan-mnist",
        lambda k: {"seed": _seed(-5 - k)},
        "invalid",
        "seeds must lie in 0..",
    ),
    "overflowing seed (uint64 2**63)": (
        "dcgan-mnist",
        lambda k: {"seed": np.array([[2**63 + k]], np.uint64)},
        "invalid",
        "expects 'INT64'",
    ),
    "mask of the wrong size": (
        "vae-mnist_inpaint",
        lambda k: {
            "image": np.zeros((1, 32, 32, 1), np.uint8),
            "mask": np.ones((1, 16, 16, 1), np.uint8),
        },
        "invalid",
        "input 'mask'",
    ),
    "float garbage as image": (
        "classifier-mnist",
        lambda k: {
            "image": np.random.default_rng(k).normal(size=(2, 32, 32, 1)).astype(np.float32)
        },
        "invalid",
        "expects 'UINT8'",
    ),
    "image with 3 channels": (
        "classifier-mnist",
        lambda k: {"image": np.zeros((1, 32, 32, 3), np.uint8)},
        "invalid",
        "input 'image'",
    ),
    "missing input": (
        "cgan-mnist",
        lambda k: {"seed": _seed(1)},
        "invalid",
        "missing required input",
    ),
    "unknown model": ("no-such-model", lambda k: {"seed": _seed(1)}, "not found", "unknown model"),
    "model that failed to load": (
        "broken-corrupt",
        lambda k: {"seed": _seed(1)},
        "not found",
        "no available versions",
    ),
}

STATUS = {
    ("http", "invalid"): "400",
    ("grpc", "invalid"): "StatusCode.INVALID_ARGUMENT",
    ("http", "not found"): "404",
    ("grpc", "not found"): "StatusCode.NOT_FOUND",
}


def _raw_infer(
    protocol: str, url: str, model: str, inputs: dict[str, np.ndarray], version: str = ""
) -> Any:
    mod: Any = thttp if protocol == "http" else tgrpc
    client = mod.InferenceServerClient(url)
    try:
        tensors = []
        for name, arr in inputs.items():
            t = mod.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
            t.set_data_from_numpy(arr)
            tensors.append(t)
        return client.infer(model, tensors, model_version=version)
    finally:
        client.close()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("case", list(RAW_CASES))
def test_raw_bad_request_is_a_clear_error(
    zoo_serve: ZooServe, still_serving: Callable[[], None], case: str, protocol: str
) -> None:
    model, make, kind, fragment = RAW_CASES[case]
    url = zoo_serve.http_url if protocol == "http" else zoo_serve.grpc_url
    with pytest.raises(InferenceServerException) as info:
        _raw_infer(protocol, url, model, make(protocol == "grpc"))
    assert str(info.value.status()) == STATUS[(protocol, kind)], info.value
    assert fragment in info.value.message()
    still_serving()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_unknown_version_is_not_found(
    zoo_serve: ZooServe, still_serving: Callable[[], None], protocol: str
) -> None:
    url = zoo_serve.http_url if protocol == "http" else zoo_serve.grpc_url
    with pytest.raises(InferenceServerException) as info:
        _raw_infer(protocol, url, "dcgan-mnist", {"seed": _seed(1)}, version="7")
    assert str(info.value.status()) == STATUS[(protocol, "not found")]
    assert "version 7 is not found" in info.value.message()
    still_serving()


def _post(server: ZooServe, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    host, port = server.http_url.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/v2/models/dcgan-mnist/infer", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


HEADER = json.dumps(
    {
        "inputs": [
            {
                "name": "seed",
                "shape": [1, 1],
                "datatype": "INT64",
                "parameters": {"binary_data_size": 8},
            }
        ]
    }
).encode()


@pytest.mark.parametrize(
    ("body", "headers", "status", "fragment"),
    [
        # Triton's HTTP front end answers unparsable JSON with 500, not 400 (see RELIABILITY.md).
        (b"\x00garbage\xff" * 64, {}, 500, "failed to parse the request JSON"),
        (b'{"inputs": [{"name": "seed", "shape": [1', {}, 500, "failed to parse the request JSON"),
        (
            HEADER + b"\x01\x00",
            {"Inference-Header-Content-Length": str(len(HEADER))},
            400,
            "additional bytes",
        ),
        (
            HEADER,
            {"Inference-Header-Content-Length": str(len(HEADER) + 100)},
            400,
            "inference header size",
        ),
    ],
    ids=[
        "binary garbage",
        "truncated JSON",
        "truncated binary tensor",
        "header length past the body",
    ],
)
def test_garbage_http_body_is_an_error_not_a_crash(
    zoo_serve: ZooServe,
    still_serving: Callable[[], None],
    body: bytes,
    headers: dict[str, str],
    status: int,
    fragment: str,
) -> None:
    code, answer = _post(zoo_serve, body, headers)
    assert code == status and fragment in answer["error"]
    still_serving()


def test_body_cut_off_mid_request_does_not_hang_the_server(
    zoo_serve: ZooServe, still_serving: Callable[[], None]
) -> None:
    """A client that promises 1000 bytes, sends 10 and hangs up: the server carries on."""
    host, port = zoo_serve.http_url.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/v2/models/dcgan-mnist/infer")
    conn.putheader("Content-Length", "1000")
    conn.endheaders()
    conn.send(b'{"inputs":')
    conn.close()
    still_serving()


def test_garbage_grpc_bytes_are_an_error_not_a_crash(
    zoo_serve: ZooServe, still_serving: Callable[[], None]
) -> None:
    with grpc.insecure_channel(zoo_serve.grpc_url) as channel:
        infer = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        with pytest.raises(grpc.RpcError) as info:
            infer(b"\xff\x00garbage" * 64, timeout=30)
    # gRPC's own parser answers INTERNAL for bytes that are not a protobuf (see RELIABILITY.md).
    assert info.value.code() == grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    assert "parse" in info.value.details()  # type: ignore[attr-defined]
    still_serving()


# The SDK checks before sending: each is a typed error with the fix in its message.
SDK_CASES: list[tuple[str, Callable[[ZooClient], Any], type[Exception], str]] = [
    ("empty batch", lambda z: z.generate("dcgan-mnist", []), InvalidInputError, "non-empty"),
    (
        "negative seed",
        lambda z: z.generate("dcgan-mnist", [-1]),
        InvalidInputError,
        "0..9223372036854775807",
    ),
    (
        "overflowing seed",
        lambda z: z.generate("dcgan-mnist", [2**63]),
        InvalidInputError,
        "0..9223372036854775807",
    ),
    ("huge seed", lambda z: z.generate("dcgan-mnist", [2**80]), InvalidInputError, "integers"),
    ("float seeds", lambda z: z.generate("dcgan-mnist", [1.5]), InvalidInputError, "integers"),
    ("2-D seeds", lambda z: z.generate("dcgan-mnist", [[1, 2]]), InvalidInputError, "1-D"),
    ("label 10", lambda z: z.generate("cgan-mnist", [1], labels=[10]), InvalidInputError, "0..9"),
    ("label -1", lambda z: z.generate("cgan-mnist", [1], labels=[-1]), InvalidInputError, "0..9"),
    (
        "labels count",
        lambda z: z.generate("cgan-mnist", [1, 2], labels=[1, 2, 3]),
        InvalidInputError,
        "2 labels",
    ),
    (
        "NaN psi",
        lambda z: z.generate("stylegan2-mnist", [1], psi=float("nan")),
        InvalidInputError,
        "finite",
    ),
    (
        "inf psi",
        lambda z: z.generate("stylegan2-mnist", [1], psi=float("inf")),
        InvalidInputError,
        "finite",
    ),
    (
        "psi on a DCGAN",
        lambda z: z.generate("dcgan-mnist", [1], psi=0.5),
        InvalidInputError,
        "no truncation",
    ),
    (
        "mask of the wrong size",
        lambda z: z.inpaint("vae-mnist", np.zeros((1, 32, 32, 1), np.uint8), np.ones((1, 16, 16))),
        InvalidInputError,
        "masks must have shape",
    ),
    (
        "float garbage as image",
        lambda z: z.classify(
            "classifier-mnist", np.random.default_rng(0).normal(size=(2, 32, 32, 1))
        ),
        InvalidInputError,
        "uint8",
    ),
    (
        "wrong channels",
        lambda z: z.classify("classifier-mnist", np.zeros((1, 32, 32, 3), np.uint8)),
        InvalidInputError,
        "(N, 32, 32, 1)",
    ),
    (
        "text as image",
        lambda z: z.classify("classifier-mnist", np.array(["not", "an", "image"])),
        InvalidInputError,
        "(N, 32, 32, 1)",
    ),
    (
        "empty images",
        lambda z: z.classify("classifier-mnist", np.zeros((0, 32, 32, 1), np.uint8)),
        InvalidInputError,
        "(N, 32, 32, 1)",
    ),
    (
        "unknown model",
        lambda z: z.generate("no-such-model", [1]),
        ModelNotFoundError,
        "list_models",
    ),
    (
        "model that failed to load",
        lambda z: z.generate("broken-corrupt", [1]),
        ModelNotFoundError,
        "does not serve",
    ),
]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_sdk_bad_input_is_a_typed_error(
    zoo_serve: ZooServe, still_serving: Callable[[], None], protocol: str
) -> None:
    url = zoo_serve.http_url if protocol == "http" else zoo_serve.grpc_url
    with ZooClient(url, protocol=protocol) as zoo:  # type: ignore[arg-type]
        for name, call, error, fragment in SDK_CASES:
            with pytest.raises(error) as info:
                call(zoo)
            assert fragment in str(info.value), f"{name}: {info.value}"
    still_serving()
