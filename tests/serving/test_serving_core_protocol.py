"""The SDK against a server that speaks only the KServe v2 core protocol: KServe's own.

KServe's Python model server (``.venv-kserve``, ``make kserve-server``; ``make test`` creates
it) serves the session repository's dcgan-mnist and stylegan2-mnist ONNX graphs through ONNX
Runtime (``kserve_model_server.py``). It has neither Triton's model-configuration nor its
repository-index extension, so the SDK reads each signature from the core metadata
(``GET /v2/models/{name}``, gRPC ``ModelMetadata``); the images must be the bytes the session's
Triton returns for the same seeds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from serving.client import (
    AsyncZooClient,
    ModelNotFoundError,
    SharedMemoryError,
    UnsupportedAPIError,
    ZooClient,
)
from serving.server.triton import TritonServer, _die_with_parent, free_port

ROOT = Path(__file__).resolve().parents[2]
KSERVE_PYTHON = Path(os.environ.get("ZOO_KSERVE_PYTHON", ROOT / ".venv-kserve" / "bin" / "python"))
SERVER_SCRIPT = Path(__file__).with_name("kserve_model_server.py")
SERVED = ("dcgan-mnist:generate", "stylegan2-mnist:generate")
PROTOCOLS = ("http", "grpc")


@dataclass(frozen=True)
class CoreServer:
    """The running KServe model server's two endpoints."""

    http_url: str
    grpc_url: str

    def url(self, protocol: str) -> str:
        return self.http_url if protocol == "http" else self.grpc_url


@pytest.fixture(scope="module")
def kserve_server(
    serving_repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
    missing_component: Callable[[str], NoReturn],
) -> Iterator[CoreServer]:
    """KServe's model server on free loopback ports, stopped after the module."""
    if not KSERVE_PYTHON.exists():
        missing_component(
            f"{KSERVE_PYTHON} is missing: run `make kserve-server` (make test creates it)."
        )
    http_port, grpc_port = free_port(), free_port()
    args = [str(http_port), str(grpc_port), str(serving_repo), *SERVED]
    log_path = tmp_path_factory.mktemp("kserve") / "kserve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(KSERVE_PYTHON), str(SERVER_SCRIPT), *args],
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # the project's torch-free modules
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # its own process group; SIGKILL if pytest dies
        )
    try:
        _wait_ready(proc, f"http://127.0.0.1:{http_port}/v2/health/ready", log_path)
        yield CoreServer(f"127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"KServe's model server exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"KServe's model server did not answer {url} within 120 s")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_generate_from_a_core_protocol_server_matches_triton(
    kserve_server: CoreServer, triton: TritonServer, protocol: str
) -> None:
    triton_url = triton.http_url if protocol == "http" else triton.grpc_url
    with (
        ZooClient(kserve_server.url(protocol), protocol=protocol) as core,  # type: ignore[arg-type]
        ZooClient(triton_url, protocol=protocol) as zoo,  # type: ignore[arg-type]
    ):
        sig = core.signature("dcgan-mnist", ("generate",))
        # the core metadata's tensors are those of Triton's config; it knows no batch limit
        assert sig.inputs == zoo.signature("dcgan-mnist", ("generate",)).inputs
        assert sig.outputs == zoo.signature("dcgan-mnist", ("generate",)).outputs
        assert sig.max_batch_size == 0
        seeds = range(3000, 3070)  # more than Triton's max batch: split there, one request here
        got = core.generate("dcgan-mnist", seeds)
        assert got.shape == (70, 32, 32, 1) and got.dtype == np.uint8
        assert got.tobytes() == zoo.generate("dcgan-mnist", seeds).tobytes()
        # three inputs, one float; the defaults (ψ = 1, no mixing) and explicit ones
        for kwargs in ({}, {"psi": 0.7, "mix_seeds": [9, 8, 7]}):
            got = core.generate("stylegan2-mnist", [4, 5, 6], **kwargs)
            assert got.tobytes() == zoo.generate("stylegan2-mnist", [4, 5, 6], **kwargs).tobytes()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_async_client_falls_back_to_the_core_metadata(
    kserve_server: CoreServer, triton: TritonServer, protocol: str
) -> None:
    triton_url = triton.http_url if protocol == "http" else triton.grpc_url

    async def both() -> tuple[np.ndarray, np.ndarray]:
        async with (
            AsyncZooClient(kserve_server.url(protocol), protocol=protocol) as core,  # type: ignore[arg-type]
            AsyncZooClient(triton_url, protocol=protocol) as zoo,  # type: ignore[arg-type]
        ):
            return await core.generate("dcgan-mnist", [1, 2, 3]), await zoo.generate(
                "dcgan-mnist", [1, 2, 3]
            )

    got, want = asyncio.run(both())
    assert got.shape == (3, 32, 32, 1) and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_what_a_core_protocol_server_lacks_is_a_typed_error(
    kserve_server: CoreServer, protocol: str
) -> None:
    with ZooClient(kserve_server.url(protocol), protocol=protocol) as core:  # type: ignore[arg-type]
        assert core.ready()
        with pytest.raises(UnsupportedAPIError, match="v2 core protocol"):
            core.list_models()  # no repository index
        with pytest.raises(ModelNotFoundError, match="cgan-mnist"):
            core.generate("cgan-mnist", [1], labels=[3])  # not served there


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_shared_memory_on_a_server_without_it_names_both_versions(
    kserve_server: CoreServer, protocol: str
) -> None:
    """A server without Triton's shared-memory extension: the error names it and the client."""
    from importlib.metadata import version

    url = kserve_server.url(protocol)
    core = ZooClient(url, protocol=protocol, shared_memory="system")  # type: ignore[arg-type]
    with core, pytest.raises(SharedMemoryError) as info:
        core.generate("dcgan-mnist", [1, 2])
    message = str(info.value)
    assert "does not implement system shared memory" in message
    assert f"this client: tritonclient {version('tritonclient')}" in message
    assert "The server: kserve " in message and "(version unknown)" not in message, message
