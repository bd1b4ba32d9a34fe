"""The asyncio client: the same methods as :class:`~serving.client.ZooClient`, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from serving.client.clients import RemoteClient, _ready_names
from serving.client.errors import (
    AuthenticationError,
    InvalidInputError,
    ModelNotFoundError,
    ServerError,
    SharedMemoryError,
    TLSError,
    UnsupportedAPIError,
    ZooClientError,
)
from serving.client.requests import (
    check_images,
    check_latents,
    check_masks,
    encoder_of,
    generate_request,
    interpolate_request,
    join_batches,
    model_candidates,
    resolve_model,
    split_batches,
    synthesize_request,
)
from serving.client.shm import (
    Region,
    RegionSet,
    SharedMemoryPool,
    _register_args,
    _shm_outputs,
    _shm_register_failed,
    _shm_tensors,
)
from serving.client.signature import GENERATE_ENTRIES, Array, ModelSignature
from serving.client.transport import (
    Version,
    _infer_args,
    answered_version,
    map_error,
    outputs_of,
    version_kwargs,
)


class AsyncZooClient(RemoteClient):
    """The asyncio twin of :class:`ZooClient`: same methods, awaited; chunks run concurrently.

    It takes the same options (:class:`RemoteClient`'s).
    """

    aio = True

    def _init_transport(self) -> None:
        self._client: Any = None
        # Per task, as ZooClient's is per thread: tasks run in copies of their parent's context.
        self._answered: contextvars.ContextVar[int | None] = contextvars.ContextVar(
            f"answered_version_{id(self)}", default=None
        )

    @property
    def answered_version(self) -> int | None:
        """The model version that answered this task's last inference (``None`` before one).

        A request split into several batches reports the last batch's version.
        """
        return self._answered.get()

    def _get_client(self) -> Any:
        # Created lazily, inside the running event loop (aiohttp's session needs one).
        if self._client is None:
            self._client = self._new_client()
        return self._client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Await tritonclient's ``method`` with this client's headers, within the timeout."""
        kwargs["headers"] = self.endpoint.header_dict()
        try:
            call = getattr(self._get_client(), method)(*args, **kwargs)
            return await asyncio.wait_for(call, self.timeout)
        except Exception as e:
            raise map_error(e, self.endpoint.display) from e

    async def close(self) -> None:
        """Unregister and free shared-memory regions; close the connection."""
        if self._shm is not None:
            for regions in self._shm.drain():
                await self._release(self._shm, regions)
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def __aenter__(self) -> AsyncZooClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ready(self) -> bool:
        """Whether the server answers and is ready (False when unreachable; TLS/auth raise)."""
        try:
            if await self._call("is_server_ready"):
                return True
            await self._call("get_server_metadata")  # raises on refused credentials (HTTP)
        except (AuthenticationError, TLSError):
            raise
        except ZooClientError:
            pass
        return False

    async def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        kwargs = {"as_json": True} if self.protocol == "grpc" else {}
        return _ready_names(await self._call("get_model_repository_index", **kwargs))

    async def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        key = f"{model}|{','.join(entries)}"
        if key not in self._sigs:
            name = await self._resolve(model, entries) if entries else model
            kwargs = {"as_json": True} if self.protocol == "grpc" else {}
            try:
                config = await self._call("get_model_config", name, **kwargs)
                sig = ModelSignature.from_config(config)
            except UnsupportedAPIError:  # as ZooClient.signature: the core metadata instead
                metadata = await self._call("get_model_metadata", name, **kwargs)
                sig = ModelSignature.from_metadata(metadata)
            self._sigs[key] = sig
        return self._sigs[key]

    async def _resolve(self, model: str, entries: Sequence[str]) -> str:
        # As ZooClient._resolve: by readiness, open on a server with restricted admin APIs.
        for candidate in model_candidates(model, entries):
            with contextlib.suppress(ModelNotFoundError):  # KServe's gRPC: NOT_FOUND, not False
                if await self._call("is_model_ready", candidate):
                    return candidate
        try:
            served = await self.list_models()
        except (AuthenticationError, TLSError):
            raise  # tritonclient's HTTP readiness reads a refused token as "not ready"
        except ZooClientError:
            served = []
        return resolve_model(served, model, entries)

    async def infer(
        self, sig: ModelSignature, inputs: Mapping[str, Array], *, version: Version = None
    ) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model (``version`` of it, if given); chunks
        are sent concurrently."""
        asked = version_kwargs(version)

        async def one(chunk: Mapping[str, Array]) -> tuple[dict[str, Array], int | None]:
            if self._shm is not None:
                return await self._infer_shm(self._shm, sig, chunk, asked)
            tensors, wanted = _infer_args(self._mod, self.protocol, chunk, sig.outputs)
            result = await self._call("infer", sig.name, tensors, outputs=wanted, **asked)
            return outputs_of(result, sig, self.endpoint.display), answered_version(result)

        chunks = split_batches(inputs, sig.max_batch_size)
        answers = await asyncio.gather(*(one(c) for c in chunks))
        # Set here, in the caller's context: each gathered chunk ran in a copy of it.
        self._answered.set(answers[-1][1])
        return join_batches([out for out, _ in answers])

    # -- shared memory: as ZooClient's, awaited -------------------------------------------
    async def _infer_shm(
        self,
        pool: SharedMemoryPool,
        sig: ModelSignature,
        chunk: Mapping[str, Array],
        asked: Mapping[str, str],
    ) -> tuple[dict[str, Array], int | None]:
        """One request whose tensors travel through a (reused) set of shared-memory regions;
        its outputs and the model version that answered."""
        regions = pool.checkout(sig, chunk)
        try:
            if not regions.registered:
                for region in regions.all():
                    await self._register_region(region)
                regions.registered = True
            tensors, wanted = _shm_tensors(self._mod, pool, regions, chunk)
            result = await self._call("infer", sig.name, tensors, outputs=wanted, **asked)
            out = _shm_outputs(result, pool, regions, sig, self.endpoint.display)
        except BaseException:
            await self._release(pool, regions)  # a failed call may have left them half-written
            raise
        pool.checkin(regions)
        return out, answered_version(result)

    async def _register_region(self, region: Region) -> None:
        method, args = _register_args(region)
        try:
            await self._call(method, *args)
        except (ServerError, InvalidInputError) as e:
            server = None
            if isinstance(e, UnsupportedAPIError):  # the message names the server's version
                with contextlib.suppress(ZooClientError):
                    server = await self._call("get_server_metadata")
            message = _shm_register_failed(self.endpoint.display, region, e, server)
            raise SharedMemoryError(message) from e

    async def _release(self, pool: SharedMemoryPool, regions: RegionSet) -> None:
        """Unregister a set (best effort) and free it."""
        for region in regions.all():
            with contextlib.suppress(ZooClientError):
                await self._call(f"unregister_{region.kind}_shared_memory", region.name)
        pool.destroy(regions)

    async def generate(
        self,
        model: str,
        seeds: Any,
        labels: Any = None,
        psi: Any = None,
        mix_seeds: Any = None,
        *,
        version: Version = None,
    ) -> npt.NDArray[np.uint8]:
        """Images for ``seeds``, uint8 NHWC; cGAN needs ``labels``; ψ and mixing: StyleGAN2.

        ``version`` asks for that model version (default: the one the server serves).
        """
        sig = await self.signature(model, GENERATE_ENTRIES)
        req = generate_request(sig, seeds, labels=labels, psi=psi, mix_seeds=mix_seeds)
        return (await self.infer(sig, req, version=version))["image"]

    async def translate(
        self, model: str, images: Any, direction: str = "a2b", *, version: Version = None
    ) -> npt.NDArray[np.uint8]:
        """Image-to-image translation (CycleGAN), ``direction`` "a2b" or "b2a"; uint8 NHWC."""
        sig = await self.signature(model, (f"translate_{direction}",))
        return (await self.infer(sig, {"image": check_images(sig, images)}, version=version))[
            "image"
        ]

    async def encode(
        self, model: str, images: Any, *, version: Version = None
    ) -> tuple[Array, Array]:
        """Latent codes of images (VAE): posterior mean ``(N, D)`` and log-variance ``(N, D)``."""
        sig = await self.signature(model, ("encode",))
        out = await self.infer(sig, {"image": check_images(sig, images)}, version=version)
        return out["latent"], out["logvar"]

    async def decode(
        self, model: str, latents: Any, *, version: Version = None
    ) -> npt.NDArray[np.uint8]:
        """Images from latent codes (VAE), uint8 NHWC."""
        sig = await self.signature(model, ("decode",))
        return (await self.infer(sig, {"latent": check_latents(sig, latents)}, version=version))[
            "image"
        ]

    async def reconstruct(
        self, model: str, images: Any, *, version: Version = None
    ) -> npt.NDArray[np.uint8]:
        """Images through the autoencoder (VAE), uint8 NHWC."""
        sig = await self.signature(model, ("reconstruct",))
        return (await self.infer(sig, {"image": check_images(sig, images)}, version=version))[
            "image"
        ]

    async def inpaint(
        self, model: str, images: Any, masks: Any, *, version: Version = None
    ) -> npt.NDArray[np.uint8]:
        """Fill the pixels where ``masks`` is 0 (VAE); known pixels are kept; uint8 NHWC."""
        sig = await self.signature(model, ("inpaint",))
        imgs = check_images(sig, images)
        req = {"image": imgs, "mask": check_masks(sig, masks, len(imgs))}
        return (await self.infer(sig, req, version=version))["image"]

    async def classify(
        self, model: str, images: Any, *, version: Version = None
    ) -> npt.NDArray[np.float32]:
        """Class logits ``(N, classes)`` of images; ``argmax(axis=1)`` is the predicted class."""
        sig = await self.signature(model, ("classify",))
        return (await self.infer(sig, {"image": check_images(sig, images)}, version=version))[
            "logits"
        ]

    # -- projection, synthesis from ws, interpolation ---------------------------------------
    async def project(
        self, model: str, images: Any, *, version: Version = None
    ) -> tuple[Array, npt.NDArray[np.uint8]]:
        """ws ``(N, num_ws, w_dim)`` of digits and their reconstructions (uint8 NHWC)."""
        sig = await self.signature(encoder_of(model), ("project",))
        out = await self.infer(sig, {"image": check_images(sig, images)}, version=version)
        return out["w"], out["image"]

    async def synthesize(
        self,
        model: str,
        ws: Any,
        psi: Any = None,
        mix_seeds: Any = None,
        mix_layer: Any = None,
        mix_ws: Any = None,
        *,
        version: Version = None,
    ) -> npt.NDArray[np.uint8]:
        """Images from ws (StyleGAN2); ws from ``mix_layer`` on from ``mix_seeds`` or ``mix_ws``."""
        sig = await self.signature(model, ("synthesize",))
        req = synthesize_request(
            sig, ws, psi=psi, mix_seeds=mix_seeds, mix_layer=mix_layer, mix_ws=mix_ws
        )
        return (await self.infer(sig, req, version=version))["image"]

    async def interpolate(
        self,
        model: str,
        seed: int,
        seed_to: int,
        t: Any,
        labels: Any = None,
        *,
        version: Version = None,
    ) -> npt.NDArray[np.uint8]:
        """One image per ``t`` in [0, 1] between two seeds' digits; a cGAN holds ``labels``."""
        sig = await self.signature(model, ("interpolate",))
        req = interpolate_request(sig, seed, seed_to, t, labels=labels)
        return (await self.infer(sig, req, version=version))["image"]
