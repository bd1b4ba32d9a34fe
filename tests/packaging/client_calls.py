"""Every SDK call on fixed inputs, in every mode; run by tests/packaging in two environments.

``python client_calls.py HTTP_URL GRPC_URL OUT.npz`` calls the SDK the interpreter imports
(the project's, or a fresh ``genzoo[client]`` install) sync and async, over HTTP and gRPC, with
and without system shared memory, and saves every output under ``MODE/CALL`` in ``OUT.npz``, with
the versions it ran on in ``OUT.json``. It imports only the SDK and numpy, so a client-only
install runs it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from serving.client import AsyncZooClient, ZooClient

SEEDS = list(range(6))


def calls(zoo: Any) -> dict[str, Any]:
    """The calls one client makes: name → a function of the client returning an awaitable or
    the output, so that the same list serves the blocking and the asyncio client."""
    return {
        "generate": lambda: zoo.generate("dcgan-mnist", SEEDS),
        "generate_psi": lambda: zoo.generate("stylegan2-mnist", SEEDS, psi=0.7),
        "classify": lambda: zoo.classify("classifier-mnist", _digits()),
        "translate": lambda: zoo.translate("cyclegan-digits", _digits(), direction="b2a"),
        "encode": lambda: zoo.encode("vae-mnist", _digits()),
        "decode": lambda: zoo.decode("vae-mnist", _latents()),
        "reconstruct": lambda: zoo.reconstruct("vae-mnist", _digits()),
        "inpaint": lambda: zoo.inpaint("vae-mnist", _digits(), _masks()),
        "project": lambda: zoo.project("stylegan2-mnist", _digits()),
    }


def _digits() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (4, 32, 32, 1), dtype=np.uint8)


def _latents() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)


def _masks() -> np.ndarray:
    masks = np.ones((4, 32, 32, 1), dtype=np.uint8)
    masks[:, 8:20] = 0
    return masks


def _flat(out: Any) -> list[np.ndarray]:
    return list(out) if isinstance(out, tuple) else [out]


def run_sync(url: str, shm: str | None) -> dict[str, np.ndarray]:
    """Every call through the blocking client."""
    with ZooClient(url, shared_memory=shm) as zoo:  # type: ignore[arg-type]
        return {k: v for name, fn in calls(zoo).items() for k, v in _named(name, fn())}


async def run_async(url: str, shm: str | None) -> dict[str, np.ndarray]:
    """Every call through the asyncio client."""
    async with AsyncZooClient(url, shared_memory=shm) as zoo:  # type: ignore[arg-type]
        return {k: v for name, fn in calls(zoo).items() for k, v in _named(name, await fn())}


def _named(name: str, out: Any) -> list[tuple[str, np.ndarray]]:
    return [(f"{name}{i}", np.asarray(a)) for i, a in enumerate(_flat(out))]


def main(http_url: str, grpc_url: str, out: str) -> None:
    """Run every mode; save the outputs and the versions they ran on."""
    modes = {
        "sync-http": lambda: run_sync(http_url, None),
        "sync-grpc": lambda: run_sync(grpc_url, None),
        "async-http": lambda: asyncio.run(run_async(http_url, None)),
        "async-grpc": lambda: asyncio.run(run_async(grpc_url, None)),
        "sync-http-shm": lambda: run_sync(http_url, "system"),
        "async-grpc-shm": lambda: asyncio.run(run_async(grpc_url, "system")),
    }
    arrays = {f"{mode}/{k}": v for mode, run in modes.items() for k, v in run().items()}
    np.savez(out, **arrays)  # type: ignore[arg-type]
    versions = {d: metadata.version(d) for d in ("numpy", "tritonclient", "genzoo")}
    Path(out).with_suffix(".json").write_text(json.dumps(versions))


if __name__ == "__main__":
    main(*sys.argv[1:4])
