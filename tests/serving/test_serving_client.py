"""The client SDK without a server: validation, typed errors, batching, import hygiene."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys

import numpy as np
import pytest

from serving.client import (
    AsyncZooClient,
    InvalidInputError,
    ModelNotFoundError,
    ModelSignature,
    ServerUnavailableError,
    ZooClient,
    calls,
)
from serving.client.closeable import Closeable
from serving.client.requests import (
    check_images,
    check_masks,
    generate_request,
    join_batches,
    resolve_model,
    split_batches,
)
from serving.server.inprocess import InProcessZoo, signature_of
from serving.server.triton import TritonServer, free_port
from zoo.registry import get_spec


def sig(model: str, entry: str | None = None) -> ModelSignature:
    return signature_of(model, get_spec(model).entry_point(entry), max_batch_size=64)


def test_generate_request_fills_defaults_per_model() -> None:
    req = generate_request(sig("stylegan2-mnist"), [3, 4])
    assert req["seed"].tolist() == [[3], [4]] and req["seed"].dtype == np.int64
    assert req["psi"].tolist() == [[1.0], [1.0]] and req["psi"].dtype == np.float32
    assert req["mix_seed"].tolist() == [[3], [4]]  # no mixing: the seed itself
    req = generate_request(sig("cgan-mnist"), range(3), labels=7)
    assert req["label"].tolist() == [[7], [7], [7]]
    assert set(generate_request(sig("dcgan-mnist"), 5)) == {"seed"}


@pytest.mark.parametrize(
    ("model", "kwargs", "match"),
    [
        ("dcgan-mnist", {"seeds": [-1]}, "non-negative"),
        ("dcgan-mnist", {"seeds": [1.5]}, "integers"),
        ("dcgan-mnist", {"seeds": []}, "non-empty"),
        ("dcgan-mnist", {"seeds": [1], "labels": 3}, "not class-conditional"),
        ("dcgan-mnist", {"seeds": [1], "psi": 0.5}, "truncation"),
        ("cgan-mnist", {"seeds": [1, 2]}, "class-conditional"),
        ("cgan-mnist", {"seeds": [1, 2], "labels": [1, 10]}, r"0\.\.9"),
        ("cgan-mnist", {"seeds": [1, 2], "labels": [1]}, "one per seed"),
        ("stylegan2-mnist", {"seeds": [1], "psi": float("nan")}, "finite"),
        ("stylegan2-mnist", {"seeds": [1, 2], "mix_seeds": [3]}, "mixing seeds"),
    ],
)
def test_generate_request_rejects_bad_input(model: str, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match) as info:
        generate_request(sig(model), **kwargs)
    assert isinstance(info.value, ValueError)


def test_image_and_mask_checks() -> None:
    s = sig("vae-mnist", "inpaint")
    grey = np.zeros((2, 32, 32), np.uint8)
    assert check_images(s, grey).shape == (2, 32, 32, 1)  # NHW accepted for one channel
    with pytest.raises(InvalidInputError, match=r"\(N, 32, 32, 1\)"):
        check_images(s, np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.raises(InvalidInputError, match="uint8"):
        check_images(s, np.zeros((2, 32, 32, 1), np.float64))
    m = check_masks(s, np.eye(32, dtype=bool)[None].repeat(2, 0), 2)
    assert m.dtype == np.uint8 and m.shape == (2, 32, 32, 1) and set(np.unique(m)) == {0, 1}
    with pytest.raises(InvalidInputError, match="one per image"):
        check_masks(s, np.ones((3, 32, 32)), 2)
    with pytest.raises(InvalidInputError, match="does not take images"):
        check_images(sig("dcgan-mnist"), grey)


def test_split_and_join_batches_round_trip() -> None:
    inputs = {"seed": np.arange(150).reshape(150, 1), "psi": np.ones((150, 1), np.float32)}
    parts = split_batches(inputs, 64)
    assert [len(p["seed"]) for p in parts] == [64, 64, 22]
    joined = join_batches(parts)
    np.testing.assert_array_equal(joined["seed"], inputs["seed"])


def test_resolve_model_names() -> None:
    served = ["dcgan-mnist", "vae-mnist_sample", "vae-mnist_encode"]
    assert resolve_model(served, "vae-mnist", ("generate", "sample")) == "vae-mnist_sample"
    assert resolve_model(served, "dcgan-mnist", ("generate", "sample")) == "dcgan-mnist"
    assert resolve_model(served, "vae-mnist_encode", ("x",)) == "vae-mnist_encode"
    with pytest.raises(ModelNotFoundError, match="Did you mean dcgan-mnist") as info:
        resolve_model(served, "dcgan-mnis", ("generate",))
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_no_server_is_a_typed_connection_error(protocol: str) -> None:
    url = f"127.0.0.1:{free_port()}"
    with ZooClient(url, protocol=protocol, timeout=5) as zoo:  # type: ignore[arg-type]
        assert zoo.ready() is False
        with pytest.raises(ServerUnavailableError, match="zoo serve") as info:
            zoo.generate("dcgan-mnist", [1])
        assert isinstance(info.value, ConnectionError)

    async def run() -> None:
        async with AsyncZooClient(url, protocol=protocol, timeout=5) as azoo:  # type: ignore[arg-type]
            assert await azoo.ready() is False
            with pytest.raises(ServerUnavailableError):
                await azoo.list_models()

    asyncio.run(run())


def test_leaving_a_with_block_closes_and_lets_the_error_through() -> None:
    """The clients, the playground and the launcher share :class:`Closeable`."""
    closed: list[str] = []

    class Resource(Closeable):
        def close(self) -> None:
            closed.append("closed")

    with pytest.raises(RuntimeError, match="inside"), Resource() as resource:
        assert isinstance(resource, Resource)
        raise RuntimeError("inside")
    assert closed == ["closed"]
    assert issubclass(ZooClient, Closeable) and issubclass(TritonServer, Closeable)
    never_started = TritonServer()
    never_started.close()  # stop(): nothing to stop, nothing reaped
    assert never_started.exit_code is None and not never_started.is_running()


def test_bad_url_and_protocol() -> None:
    with pytest.raises(InvalidInputError, match="protocol"):
        ZooClient("127.0.0.1:8000", protocol="ftp")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="host:port"):
        ZooClient("http://127.0.0.1:8000/v2/models")
    assert ZooClient("http://localhost").url == "localhost:8000"
    assert ZooClient("localhost", protocol="grpc").url == "localhost:8001"


def test_client_imports_no_torch_and_of_zoo_only_its_errors_and_checks() -> None:
    """A client machine installs numpy + tritonclient only.

    Of genzoo outside ``serving.client`` the SDK imports exactly the torch-free ``zoo.errors``
    (the one error hierarchy: ``InProcessZoo`` and the server side raise the SDK's
    ``InvalidInputError``), ``zoo.validation`` (the input checks both sides run, written
    once) and ``zoo.roles`` (what fills each input, read from the served signature), with the
    ``zoo`` package itself (its ``__init__`` imports nothing at the top but the version: the
    registry loads on first use). Nothing else of zoo, nothing of export, no torch.
    """
    code = (
        "import sys, serving.client as c; c.ZooClient('127.0.0.1:1'); "
        "c.ZooClient('127.0.0.1:1', protocol='grpc'); "
        "allowed = {'zoo', 'zoo._version', 'zoo.errors', 'zoo.validation', 'zoo.roles'}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'zoo', 'export') "
        "and m not in allowed); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


VERBS = (
    *("generate", "translate", "encode", "decode", "reconstruct", "inpaint", "classify"),
    *("project", "synthesize", "interpolate", "call"),
)


@pytest.mark.parametrize("name", VERBS)
def test_a_verb_is_the_same_method_in_every_client(name: str) -> None:
    verb = getattr(calls, name)
    params = list(inspect.signature(verb).parameters.values())
    for client in (ZooClient, AsyncZooClient, InProcessZoo):
        method = getattr(client, name)
        assert method.__name__ == name and method.__doc__ == verb.__doc__
        assert list(inspect.signature(method).parameters.values())[1:] == params
        assert inspect.iscoroutinefunction(method) == (client is AsyncZooClient)
