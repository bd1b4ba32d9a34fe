"""Triton's Python backend converts a dynamic batch of requests in one call (a speed-up that
``zoo bench`` measured) and still fails a bad request alone, against the real embedded Triton.

The repository asks the batcher for batches of exactly 8 images and lets it wait for them far
longer than any test takes to send them (30 s), so which requests run together does not depend
on how fast this host is: 8 requests of 2 images are 2 executions, 8 of 1 image are one. Each
answer is checked against the in-process result.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import torch

from serving.apps.bench.targets import triton_statistics
from serving.client import InvalidInputError, ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import ServerConfig, TritonServer
from zoo.registry import create_model

MODELS = ("cgan-mnist", "stylegan2-mnist")
#: How long the batcher waits to fill a batch of 8: a bound, not a figure any test relies on.
QUEUE_DELAY_US = 30_000_000


@pytest.fixture(scope="module")
def modules() -> dict[str, torch.nn.Module]:
    torch.manual_seed(7)
    return {m: create_model(m).eval() for m in MODELS}


@pytest.fixture(scope="module")
def batching_triton(
    tmp_path_factory: pytest.TempPathFactory, modules: dict[str, torch.nn.Module]
) -> Iterator[TritonServer]:
    repo = tmp_path_factory.mktemp("batching_repo")
    options = RepositoryOptions(
        preferred_batch_sizes=(8,), max_queue_delay_us=QUEUE_DELAY_US, response_cache=False
    )
    build_repository(list(MODELS), out_dir=repo, options=options, modules=modules, parity_n=4)
    config = ServerConfig.on_free_ports(
        repo,
        cache_size=0,
    )
    with TritonServer(config, log_file=repo.parent / "triton.log") as server:
        yield server


def _stats_once_counted(
    server: TritonServer, model: str, before: dict[str, Any], key: str, at_least: int
) -> dict[str, Any]:
    """The model's statistics once ``key`` has grown by ``at_least`` since ``before``.

    Triton counts an execution when the model releases it, just after the responses went out,
    so the moment the last answer arrives the counters may still be one step behind.
    """
    deadline = time.monotonic() + 5.0
    while True:
        after = triton_statistics(server.http_url, model)
        if after[key] - before[key] >= at_least or time.monotonic() > deadline:
            return after
        time.sleep(0.02)


def _send_together(server: TritonServer, calls: list[Any]) -> list[Any]:
    """Run the calls from 8 threads at once; exceptions are returned, not raised."""
    with ZooClient(server.grpc_url, protocol="grpc") as zoo:

        def one(call: Any) -> Any:
            try:
                return call(zoo)
            except InvalidInputError as e:
                return e

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(one, calls))


def test_batched_requests_match_in_process(
    batching_triton: TritonServer, modules: dict[str, torch.nn.Module]
) -> None:
    local = InProcessZoo("torch", modules=modules, threads=1)
    before = triton_statistics(batching_triton.http_url, "stylegan2-mnist")
    args = [(s, 0.5 + 0.1 * k, 100 + s) for k, s in enumerate(range(10, 18))]
    calls = [
        lambda zoo, s=s, p=p, m=m: zoo.generate(
            "stylegan2-mnist", [s, s + 1], psi=p, mix_seeds=[m, m]
        )
        for s, p, m in args
    ]
    results = _send_together(batching_triton, calls)
    after = _stats_once_counted(batching_triton, "stylegan2-mnist", before, "inference_count", 16)
    # 16 images in batches of exactly 8: two executions, whatever the arrival order.
    assert after["execution_count"] - before["execution_count"] == 2
    assert after["inference_count"] - before["inference_count"] == 16
    for (s, p, m), got in zip(args, results, strict=True):
        want = local.generate("stylegan2-mnist", [s, s + 1], psi=p, mix_seeds=[m, m])
        assert np.abs(got.astype(np.int16) - want.astype(np.int16)).max() <= 1


def test_a_bad_request_fails_alone(batching_triton: TritonServer) -> None:
    with ZooClient(batching_triton.grpc_url, protocol="grpc") as zoo:
        sig = zoo.signature("cgan-mnist", ("generate",))

    def request(label: int) -> Any:
        wire = {"seed": np.array([[label + 1]], np.int64), "label": np.array([[label]], np.int64)}
        return lambda z: z.infer(sig, wire)["image"]  # the client's label check is bypassed

    labels = [0, 1, 2, 42, 3, 4, 5, 6]
    before = triton_statistics(batching_triton.http_url, "cgan-mnist")
    results = _send_together(batching_triton, [request(lab) for lab in labels])
    after = _stats_once_counted(batching_triton, "cgan-mnist", before, "execution_count", 1)
    assert after["execution_count"] - before["execution_count"] == 1  # all 8 in one batch
    for label, got in zip(labels, results, strict=True):
        if label == 42:
            assert isinstance(got, InvalidInputError) and "labels must lie in 0..9" in str(got)
        else:
            assert isinstance(got, np.ndarray) and got.shape == (1, 32, 32, 1)
