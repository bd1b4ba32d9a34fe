"""Shared memory between the client and the session's Triton: same bytes, reused regions, no leaks.

The regions are real POSIX shared memory (files in ``/dev/shm``) that the real Triton maps;
what the server holds is read from its own status endpoint, what the client holds from
``/dev/shm``. A client on "another host" is a subprocess with its own, empty ``/dev/shm``
(a private mount namespace), which is what a remote server sees of the client's regions.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from serving.client import (
    AsyncZooClient,
    ModelNotFoundError,
    ModelSignature,
    SharedMemoryError,
    ZooClient,
)
from serving.server.triton import TritonServer

PROTOCOLS = ("http", "grpc")
SHM = Path("/dev/shm")
PREFIX = f"genzoo_{os.getpid()}_"  # the names this process's clients give their regions


def local_regions() -> list[str]:
    """This process's region files in /dev/shm."""
    return sorted(p.name for p in SHM.iterdir() if p.name.startswith(PREFIX))


def server_regions(triton: TritonServer) -> list[str]:
    """This process's regions the server has registered (its system shared-memory status)."""
    url = f"http://{triton.http_url}/v2/systemsharedmemory/status"
    with urllib.request.urlopen(url, timeout=30) as r:
        status = json.loads(r.read())
    return sorted(s["name"] for s in status if s["name"].startswith(PREFIX))


def url_of(triton: TritonServer, protocol: str) -> str:
    return triton.http_url if protocol == "http" else triton.grpc_url


@pytest.fixture(scope="module", autouse=True)
def no_leaks(triton: TritonServer) -> Iterator[None]:
    """After the module: nothing left in /dev/shm or registered on the server."""
    yield
    assert local_regions() == [], "shared-memory files left in /dev/shm"
    assert server_regions(triton) == [], "regions left registered on the server"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_system_shared_memory_matches_the_socket(triton: TritonServer, protocol: str) -> None:
    url = url_of(triton, protocol)
    digits = np.arange(5 * 32 * 32, dtype=np.int64).reshape(5, 32, 32, 1).astype(np.uint8)
    with (
        ZooClient(url, protocol=protocol, shared_memory="system") as shm,  # type: ignore[arg-type]
        ZooClient(url, protocol=protocol) as sock,  # type: ignore[arg-type]
    ):
        # the shared-memory call first (fresh seeds), then one the response cache answers
        seeds_a, seeds_b = range(1000, 1070), range(2000, 2070)  # 70: chunks of 64 and 6
        got_a = shm.generate("dcgan-mnist", seeds_a)
        want_b = sock.generate("dcgan-mnist", seeds_b)
        assert got_a.tobytes() == sock.generate("dcgan-mnist", seeds_a).tobytes()
        assert shm.generate("dcgan-mnist", seeds_b).tobytes() == want_b.tobytes()
        assert got_a.shape == (70, 32, 32, 1) and got_a.dtype == np.uint8
        # two sets (batch 64 and 6) of one input and one output region, reused, not added
        assert len(server_regions(triton)) == 4 and len(local_regions()) == 4

        for method, args in (
            ("classify", ("classifier-mnist", digits)),
            ("encode", ("vae-mnist", digits)),  # two float outputs
            ("generate", ("stylegan2-mnist", [3, 4], None, 0.7, [5, 6])),  # three inputs
        ):
            got, want = getattr(shm, method)(*args), getattr(sock, method)(*args)
            for g, w in zip(
                got if isinstance(got, tuple) else (got,),
                want if isinstance(want, tuple) else (want,),
                strict=True,
            ):
                assert g.dtype == w.dtype and g.tobytes() == w.tobytes(), method
        assert len(server_regions(triton)) == 4 + 2 + 3 + 4 == len(local_regions())
    assert server_regions(triton) == [] and local_regions() == []  # close unregistered them


def test_a_failed_call_unregisters_its_regions(triton: TritonServer) -> None:
    with ZooClient(triton.grpc_url, protocol="grpc", shared_memory="system") as zoo:
        sig = zoo.signature("dcgan-mnist", ("generate",))
        zoo.generate("dcgan-mnist", [1, 2])
        kept = server_regions(triton)
        assert len(kept) == 2
        ghost = ModelSignature("no-such-model", sig.inputs, sig.outputs, sig.max_batch_size)
        with pytest.raises(ModelNotFoundError):
            zoo.infer(ghost, {"seed": np.array([[1], [2]], dtype=np.int64)})
        assert server_regions(triton) == kept == local_regions()  # only the good call's set
        assert zoo.generate("dcgan-mnist", [1, 2]).shape == (2, 32, 32, 1)  # still works


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_async_shared_memory_matches_the_socket(triton: TritonServer, protocol: str) -> None:
    url = url_of(triton, protocol)
    seeds = range(4000, 4140)  # chunks of 64, 64 and 12, sent concurrently
    digits = np.arange(3 * 32 * 32, dtype=np.int64).reshape(3, 32, 32, 1).astype(np.uint8)

    async def run() -> tuple[list[np.ndarray], list[str], list[str]]:
        async with AsyncZooClient(url, protocol=protocol, shared_memory="system") as zoo:  # type: ignore[arg-type]
            got = [await zoo.generate("dcgan-mnist", seeds)]
            held = local_regions()
            got.append(await zoo.generate("dcgan-mnist", seeds))  # the same sets again
            assert local_regions() == held == server_regions(triton)
            got.extend(await zoo.encode("vae-mnist", digits))
            return got, held, local_regions()

    got, held, after = asyncio.run(run())
    # concurrent chunks of one size get their own sets: two for 64, one for 12
    assert len(held) == 2 * 3
    assert len(after) == 6 + 3  # the encoder's image, latent and logvar
    assert server_regions(triton) == [] and local_regions() == []  # close unregistered them
    with ZooClient(url, protocol=protocol) as sock:  # type: ignore[arg-type]
        want = sock.generate("dcgan-mnist", seeds)
        latent, logvar = sock.encode("vae-mnist", digits)
    assert got[0].shape == (140, 32, 32, 1) and got[0].dtype == np.uint8
    assert got[0].tobytes() == want.tobytes() == got[1].tobytes()
    assert got[2].tobytes() == latent.tobytes() and got[3].tobytes() == logvar.tobytes()


def test_async_failed_call_unregisters_its_regions(triton: TritonServer) -> None:
    async def run() -> None:
        async with AsyncZooClient(triton.http_url, shared_memory="system") as zoo:
            sig = await zoo.signature("dcgan-mnist", ("generate",))
            await zoo.generate("dcgan-mnist", [1, 2])
            kept = server_regions(triton)
            assert len(kept) == 2
            ghost = ModelSignature("no-such-model", sig.inputs, sig.outputs, sig.max_batch_size)
            with pytest.raises(ModelNotFoundError):
                await zoo.infer(ghost, {"seed": np.array([[1], [2]], dtype=np.int64)})
            assert server_regions(triton) == kept == local_regions()
            assert (await zoo.generate("dcgan-mnist", [1, 2])).shape == (2, 32, 32, 1)

    asyncio.run(run())
    assert server_regions(triton) == [] and local_regions() == []


CHILD = """
import sys
from serving.client import SharedMemoryError, ZooClient
try:
    ZooClient(sys.argv[1], shared_memory="system").generate("dcgan-mnist", [1])
except SharedMemoryError as e:
    print("SharedMemoryError:", e)
"""


def test_a_server_on_another_host_is_a_clear_error(triton: TritonServer) -> None:
    unshare = shutil.which("unshare")
    probe = subprocess.run(
        [unshare or "unshare", "--mount", "true"], capture_output=True, check=False
    )
    if unshare is None or probe.returncode != 0:
        pytest.skip("needs `unshare --mount` (root) to give the client its own /dev/shm")
    script = 'mount -t tmpfs tmpfs /dev/shm && exec "$0" -c "$1" "$2"'
    child = [sys.executable, CHILD, triton.http_url]
    out = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script, *child],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "SharedMemoryError:" in out.stdout, out.stdout + out.stderr
    assert "on one host" in out.stdout and "leave shared_memory unset" in out.stdout


def test_unknown_kind_is_an_error(triton: TritonServer) -> None:
    with pytest.raises(ValueError, match="'system' or 'cuda'"):
        ZooClient(triton.http_url, shared_memory="disk")  # type: ignore[arg-type]


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="CUDA shared memory needs a CUDA GPU; none here")
def test_cuda_shared_memory_matches_the_socket(triton: TritonServer) -> None:
    try:
        zoo = ZooClient(triton.grpc_url, protocol="grpc", shared_memory="cuda")
    except SharedMemoryError as e:
        pytest.skip(f"CUDA shared memory is not usable here: {e}")
    with zoo, ZooClient(triton.grpc_url, protocol="grpc") as sock:
        seeds = range(3000, 3064)
        assert (
            zoo.generate("dcgan-mnist", seeds).tobytes()
            == sock.generate("dcgan-mnist", seeds).tobytes()
        )
