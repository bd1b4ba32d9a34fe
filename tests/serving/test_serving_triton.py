"""Every model through the real embedded Triton: HTTP and gRPC, sync and async, cache, threads."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import torch

from serving.client import (
    AsyncZooClient,
    BaseZooClient,
    InvalidInputError,
    ModelNotFoundError,
    RequestTimeoutError,
    ServerError,
    ZooClient,
)
from serving.server.inprocess import InProcessZoo, served_entries
from serving.server.triton import TritonServer

PROTOCOLS = ("http", "grpc")


def url_of(server: TritonServer, protocol: str) -> str:
    return server.http_url if protocol == "http" else server.grpc_url


@pytest.fixture(scope="module")
def local(serving_modules: dict[str, torch.nn.Module]) -> InProcessZoo:
    """In-process torch on the same weights the server's ONNX graphs were exported from."""
    return InProcessZoo("torch", modules=serving_modules, threads=1)


@pytest.fixture(scope="module")
def digits(local: InProcessZoo) -> np.ndarray:
    """Eight uint8 digits to feed the image-input models."""
    return local.generate("cgan-mnist", range(8), labels=np.arange(8))


def call_everything(zoo: BaseZooClient, digits: np.ndarray) -> dict[str, Any]:
    """One call per served entry point, keyed by Triton model name."""
    masks = np.ones(digits.shape, dtype=bool)
    masks[:, 16:] = False
    latent, logvar = zoo.encode("vae-mnist", digits)
    return {
        "dcgan-mnist": zoo.generate("dcgan-mnist", [0, 1, 2, 3, 99]),
        "cgan-mnist": zoo.generate("cgan-mnist", range(5), labels=[0, 1, 2, 3, 9]),
        "stylegan2-mnist": zoo.generate(
            "stylegan2-mnist", range(5), psi=[1.0, 0.7, 0.5, 0.0, 1.0], mix_seeds=[5, 6, 7, 8, 4]
        ),
        "vae-mnist_sample": zoo.generate("vae-mnist", range(5)),
        "vae-mnist_encode": np.concatenate([latent, logvar], axis=1),
        "vae-mnist_decode": zoo.decode("vae-mnist", latent),
        "vae-mnist_reconstruct": zoo.reconstruct("vae-mnist", digits),
        "vae-mnist_inpaint": zoo.inpaint("vae-mnist", digits, masks),
        "cyclegan-digits_translate_a2b": zoo.translate("cyclegan-digits", digits, "a2b"),
        "cyclegan-digits_translate_b2a": zoo.translate("cyclegan-digits", digits, "b2a"),
        "classifier-mnist": zoo.classify("classifier-mnist", digits),
    }


def assert_close(served: dict[str, Any], reference: dict[str, Any]) -> None:
    """Images within one uint8 level; float outputs within ONNX-vs-torch tolerance."""
    assert served.keys() == reference.keys()
    for name, ref in reference.items():
        out = served[name]
        assert out.shape == ref.shape and out.dtype == ref.dtype, name
        if out.dtype == np.uint8:
            diff = np.abs(out.astype(np.int16) - ref.astype(np.int16)).max()
            assert diff <= 1, f"{name}: served image differs by {diff} levels"
        else:
            np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-3, err_msg=name)


def test_server_lists_every_entry_point(triton: TritonServer) -> None:
    with ZooClient(triton.http_url) as zoo:
        assert zoo.ready()
        assert zoo.list_models() == sorted(served_entries())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_model_sync_matches_in_process(
    triton: TritonServer, protocol: str, local: InProcessZoo, digits: np.ndarray
) -> None:
    """Same seeds and images ⇒ the served outputs are the in-process (torch) ones."""
    with ZooClient(url_of(triton, protocol), protocol=protocol) as zoo:  # type: ignore[arg-type]
        served = call_everything(zoo, digits)
    reference = call_everything(local, digits)
    assert_close(served, reference)
    # The images are not trivially equal to each other: the seeds and arguments matter.
    assert not np.array_equal(served["dcgan-mnist"][0], served["dcgan-mnist"][1])
    sg = served["stylegan2-mnist"]
    assert not np.array_equal(sg[0], sg[1])  # ψ and mixing change the image


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_model_async_matches_sync(
    triton: TritonServer, protocol: str, local: InProcessZoo, digits: np.ndarray
) -> None:
    async def run() -> dict[str, Any]:
        async with AsyncZooClient(url_of(triton, protocol), protocol=protocol) as zoo:  # type: ignore[arg-type]
            masks = np.ones(digits.shape, dtype=bool)
            masks[:, 16:] = False
            calls = {
                "dcgan-mnist": zoo.generate("dcgan-mnist", [0, 1, 2, 3, 99]),
                "cgan-mnist": zoo.generate("cgan-mnist", range(5), labels=[0, 1, 2, 3, 9]),
                "stylegan2-mnist": zoo.generate(
                    "stylegan2-mnist",
                    range(5),
                    psi=[1.0, 0.7, 0.5, 0.0, 1.0],
                    mix_seeds=[5, 6, 7, 8, 4],
                ),
                "vae-mnist_sample": zoo.generate("vae-mnist", range(5)),
                "vae-mnist_reconstruct": zoo.reconstruct("vae-mnist", digits),
                "vae-mnist_inpaint": zoo.inpaint("vae-mnist", digits, masks),
                "cyclegan-digits_translate_a2b": zoo.translate("cyclegan-digits", digits, "a2b"),
                "cyclegan-digits_translate_b2a": zoo.translate("cyclegan-digits", digits, "b2a"),
                "classifier-mnist": zoo.classify("classifier-mnist", digits),
            }
            results = dict(zip(calls, await asyncio.gather(*calls.values()), strict=True))
            latent, logvar = await zoo.encode("vae-mnist", digits)
            results["vae-mnist_encode"] = np.concatenate([latent, logvar], axis=1)
            results["vae-mnist_decode"] = await zoo.decode("vae-mnist", latent)
            assert await zoo.ready()
            assert len(await zoo.list_models()) == len(served_entries())
            return results

    assert_close(asyncio.run(run()), call_everything(local, digits))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_batches_above_max_batch_size_are_split(triton: TritonServer, protocol: str) -> None:
    with ZooClient(url_of(triton, protocol), protocol=protocol) as zoo:  # type: ignore[arg-type]
        sig = zoo.signature("dcgan-mnist", ("generate",))
        n = 2 * sig.max_batch_size + 7
        big = zoo.generate("dcgan-mnist", range(1000, 1000 + n))
        parts = [
            zoo.generate("dcgan-mnist", range(1000 + i, 1000 + min(i + 10, n)))
            for i in range(0, n, 10)
        ]
    assert big.shape == (n, 32, 32, 1)
    np.testing.assert_array_equal(big, np.concatenate(parts))


def _cache_hits(server: TritonServer, model: str) -> float:
    with urllib.request.urlopen(server.metrics_url, timeout=10) as r:
        text = r.read().decode()
    m = re.search(
        rf'^nv_cache_num_hits_per_model{{model="{re.escape(model)}",[^}}]*}} (\S+)$', text, re.M
    )
    return float(m.group(1)) if m else 0.0


def test_response_cache_serves_repeated_seeds(triton: TritonServer) -> None:
    with ZooClient(triton.grpc_url, protocol="grpc") as zoo:
        seeds = [777_001, 777_002, 777_003]
        before = _cache_hits(triton, "dcgan-mnist")
        first = zoo.generate("dcgan-mnist", seeds)
        assert _cache_hits(triton, "dcgan-mnist") == before  # a new request is a miss
        again = zoo.generate("dcgan-mnist", seeds)
        again2 = zoo.generate("dcgan-mnist", seeds)
        assert _cache_hits(triton, "dcgan-mnist") == before + 2
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, again2)
    # Image-input models are not cached: their inputs rarely repeat.
    assert _cache_hits(triton, "classifier-mnist") == 0


def test_concurrent_clients_in_threads(triton: TritonServer, local: InProcessZoo) -> None:
    """Sixteen threads share two clients (and the dynamic batcher): each gets its own image."""
    seeds = range(5000, 5032)
    expected = local.generate("dcgan-mnist", seeds)
    with ZooClient(triton.http_url) as http, ZooClient(triton.grpc_url, protocol="grpc") as grpc:

        def one(seed: int) -> np.ndarray:
            zoo = http if seed % 2 else grpc
            return zoo.generate("dcgan-mnist", [seed])[0]

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = np.stack(list(pool.map(one, seeds)))
    assert np.abs(results.astype(np.int16) - expected.astype(np.int16)).max() <= 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bad_input_gives_typed_errors_and_server_keeps_answering(
    triton: TritonServer, protocol: str
) -> None:
    with ZooClient(url_of(triton, protocol), protocol=protocol) as zoo:  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="labels"):
            zoo.generate("cgan-mnist", [1, 2])  # class-conditional without labels
        with pytest.raises(InvalidInputError, match="uint8"):
            zoo.classify("classifier-mnist", np.zeros((2, 32, 32, 1), np.float32))
        with pytest.raises(ModelNotFoundError, match="dcgan-mnist"):
            zoo.generate("dcgan-mnistt", [1])
        # Bypass the client's checks: the server validates too, and answers with a typed error.
        label = 42 if protocol == "http" else 43  # the response cache must not have seen it
        sig = zoo.signature("cgan-mnist", ("generate",))
        assert sig.label_classes == 10  # the served config declares it (zoo_label_classes)
        with pytest.raises(InvalidInputError, match=r"^labels must lie in 0\.\.9, got 10\.$"):
            zoo.generate("cgan-mnist", [1], labels=[10])  # refused before sending
        bad = {"seed": np.array([[1]], np.int64), "label": np.array([[label]], np.int64)}
        with pytest.raises(InvalidInputError, match=r"labels must lie in 0\.\.9"):
            zoo.infer(sig, bad)
        # Triton 2.51 caches the failed response as an empty one: still an error, not data.
        with pytest.raises(ServerError, match="response cache replayed"):
            zoo.infer(sig, bad)
        sig = zoo.signature("vae-mnist", ("encode",))  # not cached: every failure is explicit
        with pytest.raises(InvalidInputError, match="image"):
            zoo.infer(sig, {"image": np.zeros((1, 32, 32, 3), np.uint8)})
        assert zoo.ready()
        assert zoo.generate("dcgan-mnist", [3]).shape == (1, 32, 32, 1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_timeout_is_a_typed_error(triton: TritonServer, protocol: str) -> None:
    """A 1 ms budget for 64 fresh StyleGAN2 images (about 0.1 s of compute) cannot be met."""
    first = 900_000 if protocol == "http" else 910_000  # fresh seeds: no cache hit
    url = url_of(triton, protocol)
    impatient = ZooClient(url, protocol=protocol, timeout=0.001)  # type: ignore[arg-type]
    with impatient, pytest.raises(RequestTimeoutError) as info:
        impatient.generate("stylegan2-mnist", range(first, first + 64))
    assert isinstance(info.value, TimeoutError)

    async def run() -> None:
        async with AsyncZooClient(url_of(triton, protocol), protocol=protocol, timeout=0.001) as a:  # type: ignore[arg-type]
            with pytest.raises(RequestTimeoutError):
                await a.generate("stylegan2-mnist", range(first + 100, first + 164))

    asyncio.run(run())
    with ZooClient(url_of(triton, protocol), protocol=protocol) as zoo:  # type: ignore[arg-type]
        assert zoo.ready()
