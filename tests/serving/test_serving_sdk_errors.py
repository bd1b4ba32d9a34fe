"""The SDK's refusals and typed errors against the session's real Triton, blocking and asyncio:
bad input caught before sending, errors the server raises, a bad direction, bad latent codes,
and a client used again after ``close()``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import numpy as np
import pytest

from serving.client import (
    AsyncZooClient,
    InvalidInputError,
    ModelNotFoundError,
    RequestTimeoutError,
    ZooClient,
    ZooClientError,
)
from serving.server.triton import TritonServer

#: Seeds no other test sends: Triton's response cache keeps a failed request's answer.
FRESH_SEED = 917_346_201


@pytest.fixture(params=["http", "grpc"])
def url_protocol(request: pytest.FixtureRequest, triton: TritonServer) -> tuple[str, Any]:
    """The session server's URL and protocol, once per protocol."""
    url = triton.http_url if request.param == "http" else triton.grpc_url
    return url, request.param


def test_async_client_refuses_bad_input_before_sending(url_protocol: tuple[str, Any]) -> None:
    url, protocol = url_protocol

    async def run() -> list[BaseException]:
        async with AsyncZooClient(url, protocol=protocol, timeout=30) as zoo:
            calls = [
                zoo.generate("cgan-mnist", [1, 2], labels=[1, 10]),
                zoo.generate("dcgan-mnist", [-1]),
                zoo.generate("stylegan2-mnist", [1], psi=float("nan")),
                zoo.classify("classifier-mnist", np.zeros((2, 28, 28, 1), np.uint8)),
                zoo.decode("vae-mnist", np.zeros((2, 7), np.float32)),
            ]
            return list(await asyncio.gather(*calls, return_exceptions=True))

    errors = asyncio.run(run())
    messages = [r"0\.\.9", "non-negative", "finite", r"\(N, 32, 32, 1\)", r"\(N, 16\)"]
    for err, message in zip(errors, messages, strict=True):
        assert isinstance(err, InvalidInputError) and isinstance(err, ValueError), err
        assert re.search(message, str(err)), err


def test_async_client_maps_server_errors_to_types(url_protocol: tuple[str, Any]) -> None:
    url, protocol = url_protocol

    async def run() -> dict[str, BaseException | None]:
        out: dict[str, BaseException | None] = {}
        async with AsyncZooClient(url, protocol=protocol, timeout=30) as zoo:
            try:
                await zoo.generate("no-such-model", [1])
            except ZooClientError as e:
                out["unknown model"] = e
            sig = await zoo.signature("cgan-mnist", ("generate",))
            seed = FRESH_SEED + (protocol == "grpc")
            wire = {"seed": np.array([[seed]], np.int64), "label": np.array([[42]], np.int64)}
            try:  # the SDK's label check bypassed: the server's own check answers
                await zoo.infer(sig, wire)
            except ZooClientError as e:
                out["bad label"] = e
        async with AsyncZooClient(url, protocol=protocol, timeout=1e-6) as hurried:
            try:
                await hurried.list_models()
            except ZooClientError as e:
                out["timeout"] = e
        return out

    got = asyncio.run(run())
    assert isinstance(got["unknown model"], ModelNotFoundError)
    assert isinstance(got["unknown model"], KeyError) and "zoo repo build" in str(
        got["unknown model"]
    )
    assert isinstance(got["bad label"], InvalidInputError)
    assert "labels must lie in 0..9" in str(got["bad label"])
    assert isinstance(got["timeout"], RequestTimeoutError) and isinstance(
        got["timeout"], TimeoutError
    )


def test_decode_refuses_bad_latent_codes(triton: TritonServer) -> None:
    with ZooClient(triton.http_url) as zoo:
        good = np.zeros(16, np.float32)  # one code without its batch axis is accepted
        assert zoo.decode("vae-mnist", good).shape == (1, 32, 32, 1)
        with pytest.raises(InvalidInputError, match=r"latent of shape \(N, 16\), got \(2, 15\)"):
            zoo.decode("vae-mnist", np.zeros((2, 15), np.float32))
        with pytest.raises(InvalidInputError, match=r"\(N, 16\), got \(0, 16\)"):
            zoo.decode("vae-mnist", np.zeros((0, 16), np.float32))
        codes = np.zeros((2, 16), np.float32)
        codes[1, 3] = np.nan
        with pytest.raises(InvalidInputError, match="finite"):
            zoo.decode("vae-mnist", codes)
        codes[1, 3] = np.inf
        with pytest.raises(InvalidInputError, match="finite"):
            zoo.decode("vae-mnist", codes)


def test_translate_with_an_unknown_direction_names_it(triton: TritonServer) -> None:
    images = np.zeros((1, 32, 32, 1), np.uint8)
    with ZooClient(triton.http_url) as zoo:
        with pytest.raises(ZooClientError, match="sideways") as info:
            zoo.translate("cyclegan-digits", images, direction="sideways")
        assert isinstance(info.value, InvalidInputError | ModelNotFoundError)
        assert zoo.translate("cyclegan-digits", images, direction="b2a").shape == images.shape


def test_a_closed_client_reconnects_on_its_next_call(url_protocol: tuple[str, Any]) -> None:
    url, protocol = url_protocol
    zoo = ZooClient(url, protocol=protocol)
    first = zoo.generate("dcgan-mnist", [5, 6])
    zoo.close()
    again = zoo.generate("dcgan-mnist", [5, 6])  # a new connection, the same images
    np.testing.assert_array_equal(first, again)
    zoo.close()
    zoo.close()  # closing twice is harmless

    async def run() -> tuple[np.ndarray, np.ndarray]:
        azoo = AsyncZooClient(url, protocol=protocol)
        a = await azoo.generate("dcgan-mnist", [5, 6])
        await azoo.close()
        b = await azoo.generate("dcgan-mnist", [5, 6])
        await azoo.close()
        await azoo.close()
        return a, b

    a, b = asyncio.run(run())
    np.testing.assert_array_equal(a, first)
    np.testing.assert_array_equal(b, first)
