"""The SDK's request building, result handling and error mapping, without a server.

Signatures are written out here (what a ``config.pbtxt`` would declare), so each check states
the model it assumes. Results and errors are tritonclient's own classes, built the way
tritonclient builds them from a server's answer.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tritonclient.http import InferResult
from tritonclient.utils import InferenceServerException

from serving.client import (
    AuthenticationError,
    InvalidInputError,
    ModelNotFoundError,
    ModelSignature,
    RequestTimeoutError,
    ServerError,
    ServerUnavailableError,
    TLSError,
    UnsupportedAPIError,
)
from serving.client.clients import _ready_names
from serving.client.requests import (
    check_images,
    check_latents,
    check_masks,
    check_seeds,
    generate_request,
    join_batches,
    resolve_model,
    split_batches,
)
from serving.client.signature import ROLES_PARAMETER
from serving.client.transport import map_error, outputs_of, parse_endpoint
from zoo.roles import IMPLIED, Role, encode_roles, scalar

I64 = np.dtype(np.int64)
F32 = np.dtype(np.float32)
U8 = np.dtype(np.uint8)
IMAGE_OUT = {"image": (U8, (32, 32, 1))}


def signature(name: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None) -> Any:
    return ModelSignature(name, inputs, outputs or IMAGE_OUT, max_batch_size=64)


DCGAN = signature("dcgan", {"seed": (I64, (1,))})
CGAN = ModelSignature(
    "cgan", {"seed": (I64, (1,)), "label": (I64, (1,))}, IMAGE_OUT, 64, label_classes=10
)
STYLEGAN = signature("stylegan", {"seed": (I64, (1,)), "psi": (F32, (1,)), "mix_seed": (I64, (1,))})
INPAINT = signature("vae_inpaint", {"image": (U8, (4, 3, 1)), "mask": (U8, (4, 3, 1))})
TRANSLATE = signature("rgb", {"image": (U8, (2, 2, 3))})
DECODE = signature("vae_decode", {"latent": (F32, (5,))})


def test_signature_from_http_and_grpc_json() -> None:
    http = {
        "name": "cgan-mnist",
        "max_batch_size": 64,
        "input": [
            {"name": "seed", "data_type": "TYPE_INT64", "dims": [1]},
            {"name": "label", "data_type": "TYPE_INT64", "dims": [1]},
        ],
        "output": [{"name": "image", "data_type": "TYPE_UINT8", "dims": [32, 32, 1]}],
    }
    sig = ModelSignature.from_config(http)
    assert sig.name == "cgan-mnist" and sig.max_batch_size == 64
    assert sig.inputs == {"seed": (I64, (1,)), "label": (I64, (1,))}
    assert sig.outputs == {"image": (U8, (32, 32, 1))}
    # gRPC's as_json nests it under "config" and writes int64 fields as strings.
    grpc = {
        "config": {
            "name": "vae-mnist_encode",
            "max_batch_size": "16",
            "input": [{"name": "image", "data_type": "TYPE_UINT8", "dims": ["32", "32", "1"]}],
            "output": [
                {"name": "latent", "data_type": "TYPE_FP32", "dims": ["16"]},
                {"name": "flag", "data_type": "TYPE_BOOL", "dims": ["1"]},
                {"name": "half", "data_type": "TYPE_FP16", "dims": ["2"]},
                {"name": "count", "data_type": "TYPE_INT32"},
            ],
        }
    }
    sig = ModelSignature.from_config(grpc)
    assert sig.name == "vae-mnist_encode" and sig.max_batch_size == 16
    assert sig.inputs == {"image": (U8, (32, 32, 1))}
    assert sig.outputs == {
        "latent": (F32, (16,)),
        "flag": (np.dtype(np.bool_), (1,)),
        "half": (np.dtype(np.float16), (2,)),
        "count": (np.dtype(np.int32), ()),
    }
    # No max_batch_size: a model without a batch axis; an unknown type reads as float32.
    bare = ModelSignature.from_config(
        {"name": "m", "output": [{"name": "y", "data_type": "TYPE_STRING", "dims": [1]}]}
    )
    assert bare.max_batch_size == 0 and bare.inputs == {} and bare.outputs == {"y": (F32, (1,))}


def test_signature_reads_the_roles_its_config_declares() -> None:
    roles = {"gain": scalar(2.0), "digit": Role("label")}
    config = {
        "name": "custom",
        "max_batch_size": 8,
        "input": [
            {"name": "seed", "data_type": "TYPE_INT64", "dims": [1]},
            {"name": "gain", "data_type": "TYPE_FP32", "dims": [1]},
            {"name": "digit", "data_type": "TYPE_INT64", "dims": [1]},
            {"name": "code", "data_type": "TYPE_FP32", "dims": [4]},
        ],
        "output": [{"name": "image", "data_type": "TYPE_UINT8", "dims": [32, 32, 1]}],
        "parameters": {ROLES_PARAMETER: {"string_value": encode_roles(roles)}},
    }
    for as_json in (config, {"config": config}):  # HTTP's, and gRPC's nested one
        sig = ModelSignature.from_config(as_json)
        assert sig.declared == roles
        assert [sig.role(name) for name in sig.inputs] == [
            IMPLIED["z"],  # the seed's by its name, the latent's by its shape
            scalar(2.0),
            Role("label"),
            Role("latent"),
        ]
        assert sig.inputs_of("label") == ["digit"]
    # Without the parameter (every zoo model's config) nothing is declared: name and shape tell.
    bare = ModelSignature.from_config({k: v for k, v in config.items() if k != "parameters"})
    assert bare.declared == {}
    assert bare.role("gain") == bare.role("digit") == scalar()


def test_signature_from_the_core_metadata() -> None:
    # What KServe's model server answers to GET /v2/models/{name}: the batch axis is the -1
    http = {
        "name": "stylegan2-mnist",
        "versions": None,
        "platform": "",
        "inputs": [
            {"name": "seed", "datatype": "INT64", "shape": [-1, 1]},
            {"name": "psi", "datatype": "FP32", "shape": [-1, 1]},
        ],
        "outputs": [{"name": "image", "datatype": "UINT8", "shape": [-1, 32, 32, 1]}],
    }
    sig = ModelSignature.from_metadata(http)
    assert sig.name == "stylegan2-mnist" and sig.max_batch_size == 0  # no limit known
    assert sig.inputs == {"seed": (I64, (1,)), "psi": (F32, (1,))}
    assert sig.outputs == {"image": (U8, (32, 32, 1))}
    # gRPC's as_json: int64 shapes as strings; a tensor without a batch axis keeps its shape
    grpc = {
        "name": "m",
        "inputs": [{"name": "x", "datatype": "BOOL", "shape": ["3", "2"]}],
        "outputs": [{"name": "y", "datatype": "BYTES", "shape": ["-1"]}],
    }
    sig = ModelSignature.from_metadata(grpc)
    assert sig.inputs == {"x": (np.dtype(np.bool_), (3, 2))}
    assert sig.outputs == {"y": (F32, ())}  # an unknown type reads as float32, as in configs
    # gRPC's JSON leaves out empty repeated fields: no inputs, a scalar's shape
    bare = ModelSignature.from_metadata(
        {"name": "m", "outputs": [{"name": "y", "datatype": "INT64"}]}
    )
    assert bare.inputs == {} and bare.outputs == {"y": (I64, ())}


def test_check_seeds() -> None:
    assert check_seeds(range(2, 5)).tolist() == [2, 3, 4]
    out = check_seeds(np.array([0, 2**63 - 1], np.uint64))
    assert out.dtype == np.int64 and out.tolist() == [0, 2**63 - 1]
    assert check_seeds(9).tolist() == [9]
    with pytest.raises(InvalidInputError, match="seeds must be a non-empty 1-D list of integers"):
        check_seeds(range(0))
    with pytest.raises(InvalidInputError, match="non-empty 1-D"):
        check_seeds([[1, 2]])
    with pytest.raises(InvalidInputError, match="mixing seeds must be integers, got dtype float64"):
        check_seeds([1.0], "mixing seeds")
    with pytest.raises(InvalidInputError, match=r"seeds must lie in 0\.\.9223372036854775807"):
        check_seeds(np.array([2**63], np.uint64))
    with pytest.raises(InvalidInputError, match=r"\(non-negative int64\)"):
        check_seeds([5, -1])


def test_generate_request_wire_tensors() -> None:
    req = generate_request(DCGAN, [7, 0, 3])
    assert list(req) == ["seed"]
    assert req["seed"].dtype == np.int64 and req["seed"].tolist() == [[7], [0], [3]]
    req = generate_request(CGAN, [1, 2], labels=[0, 9])
    assert req["label"].dtype == np.int64 and req["label"].tolist() == [[0], [9]]
    assert generate_request(CGAN, [1, 2], labels=np.uint8(4))["label"].tolist() == [[4], [4]]
    req = generate_request(STYLEGAN, [1, 2], psi=[-10, 10], mix_seeds=[5, 6])
    assert req["psi"].dtype == np.float32 and req["psi"].tolist() == [[-10.0], [10.0]]
    assert req["mix_seed"].dtype == np.int64 and req["mix_seed"].tolist() == [[5], [6]]
    req = generate_request(STYLEGAN, [1, 2], psi=0.5)
    assert req["psi"].tolist() == [[0.5], [0.5]]


def test_generate_request_defaults_mean_no_truncation_and_no_mixing() -> None:
    # Whether the defaults travel or are left to the server, they must mean ψ = 1, mix = seed.
    req = generate_request(STYLEGAN, [3, 4])
    assert req.get("psi", np.ones((2, 1))).tolist() == [[1.0], [1.0]]
    assert req.get("mix_seed", req["seed"]).tolist() == [[3], [4]]


@pytest.mark.parametrize(
    ("sig", "kwargs", "match"),
    [
        (DCGAN, {"labels": 3}, "dcgan is not class-conditional: drop the labels"),
        (DCGAN, {"psi": 0.5}, r"dcgan has no truncation ψ \(StyleGAN2 models have\)"),
        (DCGAN, {"mix_seeds": [1]}, r"dcgan has no style mixing \(StyleGAN2 models have\)"),
        (CGAN, {}, r"cgan is class-conditional: pass labels \(0–9\)"),
        (CGAN, {"labels": [1]}, r"expected 2 labels \(one per seed\), got shape \(1,\)"),
        (CGAN, {"labels": [1.0, 2.0]}, "labels must be integers, got dtype float64"),
        (CGAN, {"labels": [0, 10]}, r"labels must lie in 0\.\.9, got 10\.$"),
        (CGAN, {"labels": [-1, 9]}, r"labels must lie in 0\.\.9"),
        (
            STYLEGAN,
            {"psi": [1.0, np.inf]},
            r"^ψ must be a finite number in \[-10, 10\] "
            r"\(1 = no truncation, 0\.5–0\.8 is typical\)\.$",
        ),
        (STYLEGAN, {"psi": [1.0, -10.01]}, r"\(1 = no truncation\)"),
        (STYLEGAN, {"psi": [1.0]}, r"expected 2 ψ values \(one per seed\)"),
        (STYLEGAN, {"mix_seeds": [1]}, r"expected 2 mixing seeds \(one per seed\), got 1\."),
        (STYLEGAN, {"mix_seeds": [1, -2]}, r"mixing seeds must lie in 0\.\."),
        (DECODE, {}, "vae_decode does not generate: its inputs are latent"),
        (signature("empty", {}), {}, "empty does not generate: its inputs are none"),
    ],
)
def test_generate_request_refuses_with_a_reason(sig: Any, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        generate_request(sig, [1, 2], **kwargs)


def test_check_images() -> None:
    grey = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    out = check_images(INPAINT, grey)
    assert out.shape == (2, 4, 3, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], grey)
    strided = np.zeros((2, 4, 6, 1), np.uint8)[:, :, ::2]  # a view, not contiguous
    assert check_images(INPAINT, strided).flags["C_CONTIGUOUS"]
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    assert check_images(TRANSLATE, rgb).shape == (1, 2, 2, 3)
    shape = r"rgb takes image as uint8 \(N, 2, 2, 3\); got shape \(1, 2, 2\)\."
    with pytest.raises(InvalidInputError, match=shape):
        check_images(TRANSLATE, np.zeros((1, 2, 2), np.uint8))  # NHW only for one channel
    with pytest.raises(InvalidInputError, match=r"got shape \(2, 3, 4, 1\)"):
        check_images(INPAINT, np.zeros((2, 3, 4, 1), np.uint8))  # H and W swapped
    with pytest.raises(InvalidInputError, match=r"got shape \(2, 4, 4\)"):
        check_images(INPAINT, np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(InvalidInputError, match=r"got shape \(0, 4, 3, 1\)"):
        check_images(INPAINT, np.zeros((0, 4, 3, 1), np.uint8))
    with pytest.raises(InvalidInputError, match=r"got shape \(4, 3, 1\)"):
        check_images(INPAINT, np.zeros((4, 3, 1), np.uint8))  # one image without N
    with pytest.raises(InvalidInputError, match=r"mask must be uint8 pixels 0–255, got float32"):
        check_images(INPAINT, np.zeros((1, 4, 3, 1), np.float32), "mask")
    with pytest.raises(
        InvalidInputError,
        match=r"^image must be uint8 pixels 0–255, got int64; convert float images in \[0, 1\] "
        r"with \(x \* 255\)\.round\(\)\.astype\(np\.uint8\)\.$",
    ):
        check_images(INPAINT, np.zeros((1, 4, 3, 1), np.int64))
    with pytest.raises(InvalidInputError, match="dcgan does not take images: its inputs are seed"):
        check_images(DCGAN, grey)


def test_check_masks() -> None:
    values = np.array([0, 1, 2, 255, 0, 7, 0, 0, 1, 1, 0, 3], np.int64).reshape(1, 4, 3)
    out = check_masks(INPAINT, values, 1)
    assert out.dtype == np.uint8 and out.shape == (1, 4, 3, 1)
    assert out.ravel().tolist() == [0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1]
    assert check_masks(INPAINT, np.ones((2, 4, 3, 1), bool), 2).sum() == 24
    assert check_masks(INPAINT, np.full((1, 4, 3), 0.25), 1).sum() == 12  # numeric: nonzero
    with pytest.raises(
        InvalidInputError, match=r"masks must have shape \(2, 4, 3\) or \(2, 4, 3, 1\)"
    ):
        check_masks(INPAINT, np.ones((1, 4, 3)), 2)
    with pytest.raises(InvalidInputError, match=r"1 = known pixel, 0 = fill; got \(2, 3, 4, 1\)\."):
        check_masks(INPAINT, np.ones((2, 3, 4)), 2)
    with pytest.raises(InvalidInputError, match="masks must be boolean or numeric, got <U1"):
        check_masks(INPAINT, np.full((1, 4, 3), "a"), 1)
    with pytest.raises(InvalidInputError, match="dcgan does not inpaint"):
        check_masks(DCGAN, np.ones((1, 4, 3)), 1)


def test_check_latents() -> None:
    out = check_latents(DECODE, [1, 2, 3, 4, 5])  # one code without N
    assert out.dtype == np.float32 and out.tolist() == [[1.0, 2.0, 3.0, 4.0, 5.0]]
    assert check_latents(DECODE, np.zeros((3, 5), np.float64)).shape == (3, 5)
    with pytest.raises(
        InvalidInputError, match=r"vae_decode takes latent of shape \(N, 5\), got \(2, 4\)"
    ):
        check_latents(DECODE, np.zeros((2, 4)))
    with pytest.raises(InvalidInputError, match=r"got \(4,\)"):
        check_latents(DECODE, np.zeros(4))
    with pytest.raises(InvalidInputError, match=r"got \(0, 5\)"):
        check_latents(DECODE, np.zeros((0, 5)))
    with pytest.raises(InvalidInputError, match="latent must be finite numbers"):
        check_latents(DECODE, [[0, 0, np.nan, 0, 0]])
    with pytest.raises(InvalidInputError, match="z must be finite"):
        check_latents(signature("d", {"z": (F32, (2,))}), [[np.inf, 0]], "z")
    with pytest.raises(
        InvalidInputError,
        match=r"^cgan does not decode latent codes: its inputs are seed, label\.$",
    ):
        check_latents(CGAN, np.zeros((1, 5)))
    with pytest.raises(InvalidInputError, match="dcgan does not decode latent codes"):
        check_latents(DCGAN, np.zeros((1, 5)))


def test_split_batches() -> None:
    inputs = {"seed": np.arange(10).reshape(10, 1), "psi": np.arange(10.0).reshape(10, 1)}
    parts = split_batches(inputs, 4)
    assert [p["seed"][:, 0].tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p["psi"][:, 0].tolist() for p in parts][2] == [8.0, 9.0]
    assert len(split_batches(inputs, 5)) == 2  # an exact multiple: no empty last chunk
    assert len(split_batches(inputs, 10)) == 1
    assert [len(p["seed"]) for p in split_batches(inputs, 1)] == [1] * 10
    (whole,) = split_batches(inputs, 0)  # no batch axis limit: one request
    assert whole["seed"].shape == (10, 1)


def test_join_batches() -> None:
    parts = [{"a": np.array([[1], [2]]), "b": np.zeros(2)}, {"a": np.array([[3]]), "b": np.ones(1)}]
    joined = join_batches(parts)
    assert joined["a"].tolist() == [[1], [2], [3]] and joined["b"].tolist() == [0.0, 0.0, 1.0]
    single = {"a": np.array([5])}
    out = join_batches([single])
    assert out == single and out is not single  # a new dict the caller may change


def test_resolve_model() -> None:
    served = ["vae-mnist_sample", "vae-mnist_encode", "dcgan-mnist", "cgan-mnist"]
    # The first entry the model serves wins; then the model's own name.
    assert resolve_model(served, "vae-mnist", ("encode", "sample")) == "vae-mnist_encode"
    assert resolve_model(iter(served), "vae-mnist", ("generate", "sample")) == "vae-mnist_sample"
    assert resolve_model(served, "dcgan-mnist", ("generate",)) == "dcgan-mnist"
    with pytest.raises(
        ModelNotFoundError,
        match=r"^the server does not serve generate or sample of 'gan-mnist'\. "
        r"Did you mean cgan-mnist, dcgan-mnist\? `ZooClient\.list_models\(\)`",
    ):
        resolve_model(served, "gan-mnist", ("generate", "sample"))
    with pytest.raises(ModelNotFoundError, match=r"of 'xyz'\. `ZooClient") as info:
        resolve_model(served, "xyz", ("decode",))  # nothing close: no hint
    assert "Did you mean" not in str(info.value)
    assert "`zoo repo build` adds models." in str(info.value)


def test_resolve_model_suggests_at_most_three_names() -> None:
    served = ["mnist-a", "mnist-b", "mnist-c", "mnist-d", "other"]
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(served, "mnist", ("generate",))
    hint = str(info.value).split("Did you mean ")[1].split("?")[0]
    assert len(hint.split(", ")) == 3 and "other" not in hint


def test_model_not_found_reads_as_its_message() -> None:
    assert str(ModelNotFoundError("no 'x' here")) == "no 'x' here"  # KeyError would quote it
    assert str(ModelNotFoundError()) == ""


def test_parse_endpoint() -> None:
    bare = parse_endpoint("127.0.0.1:9000")
    assert (bare.protocol, bare.hostport, bare.tls) == ("http", "127.0.0.1:9000", False)
    assert parse_endpoint("http://example.org/").hostport == "example.org:8000"
    tls = parse_endpoint("https://example.org/")
    assert (tls.protocol, tls.hostport, tls.tls) == ("http", "example.org:443", True)
    grpc = parse_endpoint("grpc://example.org")
    assert (grpc.protocol, grpc.hostport) == ("grpc", "example.org:8001")
    assert parse_endpoint("BOX", "grpc").hostport == "BOX:8001"  # only the slash is stripped
    with pytest.raises(InvalidInputError, match="protocol must be 'http' or 'grpc', got 'ftp'"):
        parse_endpoint("h:1", "ftp")  # type: ignore[arg-type]
    for bad in ("", "http://", "h:1/v2", "http://h:1/v2/models"):
        with pytest.raises(InvalidInputError, match="url must look like 'host:port'"):
            parse_endpoint(bad)
    with pytest.raises(InvalidInputError, match="cannot connect over a://"):
        parse_endpoint("a://b://c:1")
    # IPv6 literals: the port is what follows the closing bracket
    assert parse_endpoint("[::1]").hostport == "[::1]:8000"
    assert parse_endpoint("grpc://[::1]:9").hostport == "[::1]:9"
    assert parse_endpoint("h:1").headers == () and parse_endpoint("h:1").header_dict() is None


def test_parse_endpoint_scheme_sets_protocol_and_tls() -> None:
    for url, protocol, tls, want in [
        ("HTTPS://h", None, None, ("http", "h:443", True)),  # the scheme is case-blind
        ("grpcs://h:9", None, None, ("grpc", "h:9", True)),
        ("grpc://h", "grpc", False, ("grpc", "h:8001", False)),  # options that agree are fine
        ("https://h", "http", True, ("http", "h:443", True)),
        ("h", None, True, ("http", "h:443", True)),  # a bare host takes protocol and ssl
        ("h", "grpc", True, ("grpc", "h:443", True)),
        ("h", "grpc", None, ("grpc", "h:8001", False)),
    ]:
        end = parse_endpoint(url, protocol, ssl=tls)  # type: ignore[arg-type]
        assert (end.protocol, end.hostport, end.tls) == want, url
    for url, protocol, tls, message in [
        ("grpc://h:1", "http", None, "grpc:// is grpc, but protocol='http': drop one of them."),
        (
            "https://h:1",
            None,
            False,
            "https:// is TLS, but ssl=False: use http:// or grpc:// instead.",
        ),
        (
            "grpc://h:1",
            None,
            True,
            "grpc:// is not TLS, but ssl=True: use https:// or grpcs:// instead.",
        ),
        (
            "FTP://h:1",
            None,
            None,
            "the client cannot connect over ftp://: use http:// or https:// (HTTP), grpc:// or "
            "grpcs:// (gRPC), or a bare host:port.",
        ),
        (
            "a://b://c:1",
            None,
            None,
            "the client cannot connect over a://: use http:// or https:// (HTTP), grpc:// or "
            "grpcs:// (gRPC), or a bare host:port.",
        ),
    ]:
        with pytest.raises(InvalidInputError) as info:
            parse_endpoint(url, protocol, ssl=tls)  # type: ignore[arg-type]
        assert str(info.value) == message


def test_parse_endpoint_certificates_and_headers(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / f"{n}.pem" for n in ("ca", "cert", "key"))
    for f in (ca, cert, key):
        f.write_text("PEM")  # only their existence is checked here; TLS reads them
    end = parse_endpoint("https://h", ca_cert=ca, client_cert=str(cert), client_key=key)
    assert (end.ca_cert, end.client_cert, end.client_key) == (str(ca), str(cert), str(key))
    assert parse_endpoint("grpcs://h", ca_cert=ca).client_cert is None  # a CA alone is enough
    assert parse_endpoint("h", ssl=True, client_cert=cert).client_cert == str(cert)
    plain_with_files: list[tuple[dict[str, Any], str]] = [
        (
            {"ca_cert": ca},
            "ca_cert only apply over TLS: use an https:// or grpcs:// URL (or ssl=True).",
        ),
        (
            {"client_cert": cert, "client_key": key},
            "client_cert, client_key only apply over TLS: use an https:// or grpcs:// URL "
            "(or ssl=True).",
        ),
    ]
    for kwargs, message in plain_with_files:
        with pytest.raises(InvalidInputError) as info:
            parse_endpoint("http://h", **kwargs)
        assert str(info.value) == message
    missing = tmp_path / "missing.pem"
    with pytest.raises(InvalidInputError) as info:
        parse_endpoint("https://h", ca_cert=ca, client_cert=missing)
    assert str(info.value) == f"client_cert: no PEM file at {missing}."
    with pytest.raises(InvalidInputError) as info:
        parse_endpoint("https://h", client_key=key)
    assert str(info.value) == "client_key needs client_cert (the certificate it belongs to)."
    # gRPC metadata keys are lower-case; HTTP headers keep theirs
    auth = {"Authorization": "Bearer t"}
    assert parse_endpoint("grpcs://h", headers=auth).headers == (("authorization", "Bearer t"),)
    assert parse_endpoint("h", "grpc", headers=auth).headers == (("authorization", "Bearer t"),)
    assert parse_endpoint("https://h", headers=auth).header_dict() == auth


def http_result(outputs: list[dict[str, Any]]) -> InferResult:
    """An HTTP inference result, parsed by tritonclient from a JSON response body."""
    body = json.dumps({"model_name": "m", "model_version": "1", "outputs": outputs})
    return InferResult.from_response_body(body.encode())


def test_outputs_of() -> None:
    sig = signature("m", {}, {"image": (U8, (2,)), "logits": (F32, (1,))})
    result = http_result(
        [
            {"name": "image", "datatype": "UINT8", "shape": [1, 2], "data": [3, 4]},
            {"name": "logits", "datatype": "FP32", "shape": [1, 1], "data": [0.5]},
        ]
    )
    out = outputs_of(result, sig, "h:1")
    assert list(out) == ["image", "logits"]
    assert out["image"].tolist() == [[3, 4]] and out["logits"].tolist() == [[0.5]]
    empty = http_result([{"name": "logits", "datatype": "FP32", "shape": [1, 1], "data": [0.5]}])
    with pytest.raises(ServerError) as info:
        outputs_of(empty, sig, "h:1")
    assert str(info.value) == (
        "h:1: m answered without image. The same request failed before and Triton's response "
        "cache replayed that failure as an empty response; check the inputs (the first "
        "attempt's error says what was wrong)."
    )
    with pytest.raises(ServerError, match="answered without image, logits"):
        outputs_of(http_result([]), sig, "h:1")


def server_error(msg: str | None, status: str | None = None) -> InferenceServerException:
    return InferenceServerException(msg=msg, status=status)  # type: ignore[arg-type]


#: What map_error says when nothing answers at "u" (the URL the tests pass).
NO_SERVER = (
    "no Triton server answers at u. Start one with `zoo serve` (or check the URL, the protocol "
    "and its port: HTTP 8000, gRPC 8001 by default)."
)


def unsupported(msg: str) -> str:
    return (
        f"u does not implement this call ({msg}): it speaks the v2 core protocol without "
        "Triton's extensions (model configuration, repository index)."
    )


def tls_failed(detail: str, why: str) -> str:
    return f"TLS handshake with u failed ({detail}): {why}"


#: _tls_failed's three explanations: an untrusted certificate, a plain port, anything else.
UNTRUSTED = (
    "the server's certificate is not trusted or does not match the host name: pass the CA "
    "bundle that signed it as ca_cert (CLI: --ca-cert), and connect by the name the "
    "certificate carries."
)
PLAIN_PORT = "the server does not speak TLS on that port: use http:// or grpc://, or its TLS port."
TLS_OTHER = (
    "check that the server's port speaks TLS, its certificate (ca_cert, --ca-cert) and, if it "
    "asks for one, the client certificate (client_cert / client_key)."
)
#: How gRPC reports a failed handshake (status UNAVAILABLE), as grpcio words it.
GRPC_UNTRUSTED = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:8443: Ssl "
    "handshake failed: SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:"
    "CERTIFICATE_VERIFY_FAILED"
)
#: ... and when the port does not speak TLS (Triton's plain gRPC port, as grpcio 1.7x words it).
GRPC_PLAIN = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:8001: Tls "
    "handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:100000f7:SSL routines:"
    "OPENSSL_internal:WRONG_VERSION_NUMBER: Invalid certificate verification context: OK"
)
#: ... and when the server ends the handshake (here: it wants a client certificate).
GRPC_REFUSED = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:8443: Ssl "
    "handshake failed: SSL_ERROR_SSL: error:10000410:SSL routines:OPENSSL_internal:"
    "SSLV3_ALERT_HANDSHAKE_FAILURE"
)
#: What Triton answers to a restricted API without its header (gRPC: status UNAVAILABLE).
RESTRICTED = "This API is restricted, expecting header 'zoo-admin-key'"
WANTS_TOKEN = (
    "u wants credentials (it answered {}): pass the token as headers={{'Authorization': "
    "'Bearer <token>'}} (CLI: --header, or ZOO_TOKEN)."
)
REFUSED_TOKEN = (
    "u refused the credentials sent (it answered {}): check the token in the Authorization "
    "header and what it grants."
)


def ssl_error(text: str) -> ssl.SSLError:
    return ssl.SSLError(1, text)


def behind(cause: BaseException, *, explicit: bool) -> ConnectionError:
    """A ConnectionError raised ``from cause`` (explicit) or while handling it."""
    err = ConnectionError("connection failed")
    if explicit:
        err.__cause__ = cause
    else:
        err.__context__ = cause
    return err


@pytest.mark.parametrize(
    ("err", "kind", "message"),
    [
        (
            server_error("late", "StatusCode.DEADLINE_EXCEEDED"),
            RequestTimeoutError,
            "u did not answer in time: late",
        ),
        (
            server_error("Deadline Exceeded"),
            RequestTimeoutError,
            "u did not answer in time: Deadline Exceeded",
        ),
        (server_error("down", "StatusCode.UNAVAILABLE"), ServerUnavailableError, NO_SERVER),
        (server_error("unknown model: 'x'", "400"), ModelNotFoundError, "u: unknown model: 'x'"),
        (server_error("gone", "StatusCode.NOT_FOUND"), ModelNotFoundError, "u: gone"),
        # a method or route the server lacks (KServe: no model config, no repository index)
        (
            server_error("Method not found!", "StatusCode.UNIMPLEMENTED"),
            UnsupportedAPIError,
            unsupported("Method not found!"),
        ),
        (server_error("'error'", "404"), UnsupportedAPIError, unsupported("'error'")),
        (
            server_error("Model with name x does not exist.", "404"),
            ModelNotFoundError,
            "u: Model with name x does not exist.",
        ),
        (server_error("bad shape", "400"), InvalidInputError, "bad shape"),
        (server_error("bad", "StatusCode.INVALID_ARGUMENT"), InvalidInputError, "bad"),
        (server_error("boom", "500"), ServerError, "u failed the request: boom"),
        (server_error("boom"), ServerError, "u failed the request: boom"),
        # a restricted admin API: gRPC refuses with UNAVAILABLE, which is not "no server"
        (
            server_error(RESTRICTED, "StatusCode.UNAVAILABLE"),
            ServerError,
            f"u: {RESTRICTED}: this server keeps its admin APIs for callers with its admin key.",
        ),
        (
            server_error(RESTRICTED, "403"),
            ServerError,
            f"u: {RESTRICTED}: this server keeps its admin APIs for callers with its admin key.",
        ),
        # no token, or one the proxy in front of the server refuses
        (
            server_error("Unauthorized", "401"),
            AuthenticationError,
            WANTS_TOKEN.format("401 Unauthorized"),
        ),
        (
            server_error("no token", "StatusCode.UNAUTHENTICATED"),
            AuthenticationError,
            WANTS_TOKEN.format("UNAUTHENTICATED"),
        ),
        (
            server_error("Forbidden", "403"),
            AuthenticationError,
            REFUSED_TOKEN.format("403 Forbidden"),
        ),
        (
            server_error("bad token", "StatusCode.PERMISSION_DENIED"),
            AuthenticationError,
            REFUSED_TOKEN.format("PERMISSION_DENIED"),
        ),
        # gRPC's failed handshake is an UNAVAILABLE whose message says so
        (
            server_error(GRPC_UNTRUSTED, "StatusCode.UNAVAILABLE"),
            TLSError,
            tls_failed(GRPC_UNTRUSTED, UNTRUSTED),
        ),
        (
            server_error(GRPC_PLAIN, "StatusCode.UNAVAILABLE"),
            TLSError,
            tls_failed(GRPC_PLAIN[:200], PLAIN_PORT),  # the detail is cut at 200 characters
        ),
        (
            server_error(GRPC_REFUSED, "StatusCode.UNAVAILABLE"),
            TLSError,
            tls_failed(GRPC_REFUSED, TLS_OTHER),
        ),
        # HTTP's: an ssl.SSLError, raised or behind the error raised
        (
            ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed"),
            TLSError,
            tls_failed("[SSL: CERTIFICATE_VERIFY_FAILED] self-signed", UNTRUSTED),
        ),
        (
            behind(ssl_error("[SSL: WRONG_VERSION_NUMBER] wrong version number"), explicit=True),
            TLSError,
            tls_failed("[SSL: WRONG_VERSION_NUMBER] wrong version number", PLAIN_PORT),
        ),
        (  # Triton's plain HTTP port hangs up on the ClientHello
            ssl_error("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol"),
            TLSError,
            tls_failed(
                "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol",
                PLAIN_PORT,
            ),
        ),
        (
            behind(ssl_error("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert"), explicit=False),
            TLSError,
            tls_failed("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert", UNTRUSTED),
        ),
        (TimeoutError(), RequestTimeoutError, "u did not answer in time."),
        (TimeoutError(), RequestTimeoutError, "u did not answer in time."),
        (RuntimeError("read timed out"), RequestTimeoutError, "u did not answer in time."),
        (ConnectionRefusedError(111, "refused"), ServerUnavailableError, NO_SERVER),
        (OSError("no route"), ServerUnavailableError, NO_SERVER),
        (RuntimeError("odd"), ServerError, "u failed the request: RuntimeError: odd"),
    ],
)
def test_map_error(err: BaseException, kind: type, message: str) -> None:
    mapped = map_error(err, "u")
    assert type(mapped) is kind
    assert str(mapped) == message


def test_map_error_keeps_the_clients_own_errors_and_explains_unavailable() -> None:
    own = InvalidInputError("x")
    assert map_error(own, "u") is own
    text = str(map_error(ConnectionResetError(), "h:8000"))
    assert text == (
        "no Triton server answers at h:8000. Start one with `zoo serve` (or check the URL, the "
        "protocol and its port: HTTP 8000, gRPC 8001 by default)."
    )
    # No message at all: the exception's own text ("[500] ") stands in, not "None".
    text = str(map_error(server_error(None, "500"), "u"))
    assert text.startswith("u failed the request: [500]") and "None" not in text


def test_ready_names() -> None:
    http = [
        {"name": "b", "state": "READY"},
        {"name": "a", "state": "READY"},
        {"name": "c", "state": "UNAVAILABLE", "reason": "failed"},
        {"name": "d"},
    ]
    assert _ready_names(http) == ["a", "b"]
    assert _ready_names({"models": http}) == ["a", "b"]  # gRPC's as_json
    assert _ready_names({}) == []


def test_any_entry_point_is_requested_by_role() -> None:
    from serving.client.requests import entry_request
    from zoo.roles import Role, scalar

    sig = ModelSignature(
        "toy_scaled",
        {"seed": (I64, (1,)), "noise_scale": (F32, (1,)), "digit": (I64, (1,))},
        IMAGE_OUT,
        64,
        label_classes=10,
        declared={"noise_scale": scalar(1.0), "digit": Role("label")},
    )
    assert sig.role("seed").seed == "seed" and sig.inputs_of("label") == ["digit"]
    req = entry_request(sig, {"seed": [1, 2], "digit": 3})
    assert set(req) == {"seed", "digit"}  # noise_scale left out: the server's default
    np.testing.assert_array_equal(req["seed"], [[1], [2]])
    np.testing.assert_array_equal(req["digit"], [[3], [3]])
    req = entry_request(sig, {"seed": [1, 2], "digit": [0, 1], "noise_scale": 0.5})
    assert req["noise_scale"].dtype == np.float32 and req["noise_scale"].shape == (2, 1)
    with pytest.raises(InvalidInputError, match="toy_scaled needs digit"):
        entry_request(sig, {"seed": [1]})
    with pytest.raises(InvalidInputError, match=r"labels must lie in 0\.\.9"):
        entry_request(sig, {"seed": [1], "digit": 10})
    with pytest.raises(InvalidInputError, match="takes no input zoom"):
        entry_request(sig, {"seed": [1], "digit": 1, "zoom": 2})
    with pytest.raises(InvalidInputError, match="noise_scale must be a finite number"):
        entry_request(sig, {"seed": [1], "digit": 1, "noise_scale": float("nan")})
    # Without a declaration a scalar is required, an image is an image: what the wire tells.
    images, masks = np.zeros((2, 4, 3, 1), np.uint8), np.ones((2, 4, 3))
    inpaint = entry_request(INPAINT, {"image": images, "mask": masks})
    assert inpaint["mask"].shape == (2, 4, 3, 1) and inpaint["mask"].all()
