"""Shared memory: regions the client writes inputs into and Triton writes outputs into."""

from __future__ import annotations

import itertools
import os
import threading
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from serving.client.signature import Array, ModelSignature
from zoo.errors import (
    InvalidInputError,
    ServerError,
    SharedMemoryError,
    UnsupportedAPIError,
    ZooClientError,
)

SharedMemory = Literal["system", "cuda"]

# ---------------------------------------------------------------------------------------------
# Shared memory: regions the client writes inputs into and Triton writes outputs into.
# ---------------------------------------------------------------------------------------------

_REGION_IDS = itertools.count()


@dataclass(eq=False)
class Region:
    """One shared-memory region: Triton's name for it, its handle and size."""

    kind: SharedMemory
    name: str  # the name the server knows it by (unique per process and client)
    key: str  # system: the POSIX shm key ("/name", a file in /dev/shm); cuda: unused
    byte_size: int
    handle: Any  # tritonclient's handle (ctypes pointer or CudaSharedMemoryRegion)
    device: int = 0  # cuda: the GPU it lives on


@dataclass
class RegionSet:
    """The input and output regions of one model at one batch size."""

    model: str
    batch: int
    inputs: dict[str, Region]
    outputs: dict[str, Region]
    registered: bool = False  # the server knows its regions (a new set: not yet)

    def __len__(self) -> int:
        return self.batch

    def all(self) -> list[Region]:
        """Every region of the set."""
        return [*self.inputs.values(), *self.outputs.values()]


def _shm_module(kind: SharedMemory) -> Any:
    """tritonclient's system or CUDA shared-memory utilities, with an install hint."""
    try:
        if kind == "system":
            import tritonclient.utils.shared_memory as shm
        else:
            import tritonclient.utils.cuda_shared_memory as shm
    except ImportError as e:
        if "pkg_resources" in str(e):  # tritonclient 2.51's utilities; setuptools 80 dropped it
            hint = (
                f"tritonclient {_version('tritonclient')}'s shared-memory module imports "
                f"pkg_resources, which setuptools {_version('setuptools')} does not have: "
                "pip install 'setuptools<80', or a newer tritonclient"
            )
        else:
            hint = "pip install 'genzoo[cuda-shm]' (cuda-python; CUDA shared memory needs a GPU)"
        raise SharedMemoryError(f"{kind} shared memory is not available here ({e}): {hint}.") from e
    return shm


def _describe_server(metadata: Any) -> str:
    """A server's name and version from its metadata (HTTP: a dict; gRPC: a message)."""
    if metadata is None:
        return "name and version unknown"
    get = metadata.get if isinstance(metadata, Mapping) else lambda k: getattr(metadata, k, None)
    return f"{get('name') or 'unnamed'} {get('version') or '(version unknown)'}"


def _version(dist: str) -> str:
    """The installed version of ``dist``, or "(not installed)"."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"


class SharedMemoryPool:
    """Shared-memory regions of one client, one set per model and batch size, reused.

    The client's side only; the clients register and unregister with the server (the blocking
    one directly, the asyncio one awaited). A call checks a :class:`RegionSet` out (a free one
    of the right size, or new regions not yet registered), writes its inputs, and checks it
    back in after the response has been read; concurrent calls get different sets. After a
    failed call the client unregisters its set and :meth:`destroy` frees it (the server may
    still hold it half-written); :meth:`drain` hands over the rest on close. A finalizer frees
    the client's side if the client is never closed, so no file is left in ``/dev/shm``.
    """

    def __init__(self, kind: SharedMemory, *, cuda_device: int = 0) -> None:
        if kind not in ("system", "cuda"):
            raise InvalidInputError(f"shared_memory must be 'system' or 'cuda', got {kind!r}.")
        self.kind: SharedMemory = kind
        self._mod = _shm_module(kind)
        self._device = int(cuda_device)
        self._lock = threading.Lock()
        self._free: dict[tuple[str, int], list[RegionSet]] = {}
        self._live: list[Region] = []  # created and not yet destroyed
        self._finalizer = weakref.finalize(self, _destroy_all, self._mod, self._live)

    def checkout(self, sig: ModelSignature, chunk: Mapping[str, Array]) -> RegionSet:
        """A free region set for ``chunk``'s batch size of ``sig``'s model (new if none is)."""
        batch = len(next(iter(chunk.values())))
        with self._lock:
            free = self._free.get((sig.name, batch))
            if free:
                return free.pop()
        sizes_in = {name: int(arr.nbytes) for name, arr in chunk.items()}
        sizes_out = {}
        for name, (dtype, dims) in sig.outputs.items():
            if any(d < 0 for d in dims):
                raise SharedMemoryError(
                    f"{sig.name}'s output {name} has a variable shape {dims}; shared memory "
                    "needs fixed output sizes: use the client without shared_memory."
                )
            sizes_out[name] = batch * int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
        regions = RegionSet(sig.name, batch, {}, {})
        try:
            for target, sizes in ((regions.inputs, sizes_in), (regions.outputs, sizes_out)):
                for name, size in sizes.items():
                    target[name] = self._create(max(size, 1))
        except BaseException:
            self.destroy(regions)
            raise
        return regions

    def checkin(self, regions: RegionSet) -> None:
        """Give a set back for the next call of the same model and batch size."""
        with self._lock:
            self._free.setdefault((regions.model, regions.batch), []).append(regions)

    def destroy(self, regions: RegionSet) -> None:
        """Free a set's regions on the client's side (the server's: unregistered before)."""
        for region in regions.all():
            with self._lock:
                if region not in self._live:
                    continue
                self._live.remove(region)
            self._mod.destroy_shared_memory_region(region.handle)

    def write(self, region: Region, arr: Array) -> None:
        """Copy ``arr`` into ``region``."""
        self._mod.set_shared_memory_region(region.handle, [np.ascontiguousarray(arr)])

    def read(self, region: Region, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Array:
        """A copy of ``region``'s contents as an array (the region is reused by the next call)."""
        return np.array(self._mod.get_contents_as_numpy(region.handle, dtype, list(shape)))

    def drain(self) -> list[RegionSet]:
        """Every free set, taken out of the pool (to unregister and destroy on close)."""
        with self._lock:
            sets = [r for sets in self._free.values() for r in sets]
            self._free.clear()
        return sets

    def _create(self, byte_size: int) -> Region:
        name = f"genzoo_{os.getpid()}_{next(_REGION_IDS)}_{uuid.uuid4().hex[:8]}"
        try:
            if self.kind == "system":
                handle = self._mod.create_shared_memory_region(name, f"/{name}", byte_size)
            else:
                handle = self._mod.create_shared_memory_region(name, byte_size, self._device)
        except Exception as e:
            raise SharedMemoryError(
                f"cannot create a {byte_size}-byte {self.kind} shared-memory region ({e}): "
                + (
                    "check the free space in /dev/shm (in a container: --shm-size)."
                    if self.kind == "system"
                    else f"check that CUDA device {self._device} exists and has memory free."
                )
            ) from e
        region = Region(self.kind, name, f"/{name}", byte_size, handle, self._device)
        with self._lock:
            self._live.append(region)
        return region


def _destroy_all(mod: Any, live: list[Region]) -> None:
    """Free what a client left behind (its finalizer: the server side dies with the process)."""
    while live:
        mod.destroy_shared_memory_region(live.pop().handle)


def _shm_tensors(
    mod: Any, pool: SharedMemoryPool, regions: RegionSet, chunk: Mapping[str, Array]
) -> tuple[list[Any], list[Any]]:
    """Write ``chunk`` into its input regions; the request's tensors, pointing at the regions."""
    from tritonclient.utils import np_to_triton_dtype

    tensors = []
    for name, arr in chunk.items():
        region = regions.inputs[name]
        pool.write(region, arr)
        t = mod.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
        t.set_shared_memory(region.name, region.byte_size)
        tensors.append(t)
    wanted = []
    for name, region in regions.outputs.items():
        o = mod.InferRequestedOutput(name)
        o.set_shared_memory(region.name, region.byte_size)
        wanted.append(o)
    return tensors, wanted


def _shm_outputs(
    result: Any, pool: SharedMemoryPool, regions: RegionSet, sig: ModelSignature, url: str
) -> dict[str, Array]:
    """The outputs Triton wrote into the set's output regions (copies: the set is reused)."""
    missing = [o for o in sig.outputs if result.get_output(o) is None]
    if missing:
        raise ServerError(
            f"{url}: {sig.name} answered without {', '.join(missing)}; check the inputs."
        )
    return {
        name: pool.read(regions.outputs[name], dtype, (len(regions), *dims))
        for name, (dtype, dims) in sig.outputs.items()
    }


def _register_args(region: Region) -> tuple[str, tuple[Any, ...]]:
    """The tritonclient method and arguments that register ``region`` with the server."""
    if region.kind == "system":
        return "register_system_shared_memory", (region.name, region.key, region.byte_size)
    from tritonclient.utils import cuda_shared_memory as cudashm

    handle = cudashm.get_raw_handle(region.handle)
    return "register_cuda_shared_memory", (region.name, handle, region.device, region.byte_size)


def _shm_register_failed(url: str, region: Region, err: ZooClientError, server: Any = None) -> str:
    """Why the server at ``url`` refused ``region``; ``server``: its metadata, if it answered."""
    if isinstance(err, UnsupportedAPIError):
        return (
            f"{url} does not implement {region.kind} shared memory ({err}). The server: "
            f"{_describe_server(server)}; this client: tritonclient {_version('tritonclient')}. "
            f"Use a Triton server with the {region.kind}_shared_memory extension, or leave "
            "shared_memory unset."
        )
    if region.kind == "system":
        return (
            f"{url} could not open the client's system shared-memory region {region.key} "
            f"({err}): system shared memory needs the client and the server on one host, "
            "sharing /dev/shm (in containers: --ipc=host). Over a network, leave "
            "shared_memory unset."
        )
    return (
        f"{url} could not open the client's CUDA shared-memory region on device "
        f"{region.device} ({err}): CUDA shared memory needs a GPU server on the same host "
        "with access to that device. Otherwise leave shared_memory unset."
    )
