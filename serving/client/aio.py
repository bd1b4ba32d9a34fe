"""The asyncio client: the same methods as :class:`~serving.client.ZooClient`, awaited.

What the calls do is written once, in :mod:`serving.client.calls` (each verb) and
:class:`~serving.client.clients.RemoteClient` (the steps of signatures, readiness, inference
and shared memory); this client awaits the tritonclient calls they ask for.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from serving.client import calls
from serving.client.calls import Call, as_method
from serving.client.clients import RemoteClient
from serving.client.requests import join_batches, split_batches
from serving.client.signature import Array, ModelSignature
from serving.client.transport import Steps, Version, map_error, resume, version_kwargs

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def awaited(
    verb: Callable[P, Call[R]],
) -> Callable[Concatenate[AsyncZooClient, P], Coroutine[Any, Any, R]]:
    """The asyncio client method of ``verb`` (a function of :mod:`serving.client.calls`)."""

    async def method(self: AsyncZooClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._run(verb(*args, **kwargs))

    return as_method(method, verb)


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

    async def _drive(self, steps: Steps[T]) -> T:
        """Await the calls ``steps`` ask for, one after the other; what they return."""
        answer: Any = None
        error: BaseException | None = None
        while True:
            try:
                method, args, kwargs = resume(steps, answer, error)
            except StopIteration as done:
                return done.value
            try:
                answer, error = await self._call(method, *args, **kwargs), None
            except BaseException as e:  # the steps decide (shared memory: release, re-raise)
                answer, error = None, e

    async def close(self) -> None:
        """Unregister and free shared-memory regions; close the connection."""
        await self._drive(self._release_all_steps())
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
        return await self._drive(self._ready_steps())

    async def list_models(self) -> list[str]:
        """Names of the Triton models that are loaded and ready, sorted."""
        return await self._drive(self._list_models_steps())

    async def signature(self, model: str, entries: Sequence[str] = ()) -> ModelSignature:
        """The signature of the Triton model serving ``entries`` of ``model`` (cached)."""
        return await self._drive(self._signature_steps(model, entries))

    async def infer(
        self, sig: ModelSignature, inputs: Mapping[str, Array], *, version: Version = None
    ) -> dict[str, Array]:
        """Run wire ``inputs`` through ``sig``'s model (``version`` of it, if given); chunks
        are sent concurrently."""
        asked = version_kwargs(version)
        chunks = split_batches(inputs, sig.max_batch_size)
        answers = await asyncio.gather(
            *(self._drive(self._infer_steps(sig, c, asked)) for c in chunks)
        )
        # Set here, in the caller's context: each gathered chunk ran in a copy of it.
        self._answered.set(answers[-1][1])
        return join_batches([out for out, _ in answers])

    async def _run(self, call: Call[R]) -> R:
        """Every verb's one path, as :class:`ZooClient`'s, awaited."""
        sig = await self.signature(call.model, call.entries)
        return call.result(await self.infer(sig, call.inputs(sig), version=call.version))

    # -- the zoo (each verb written once, in serving.client.calls) -------------------------
    generate = awaited(calls.generate)
    translate = awaited(calls.translate)
    encode = awaited(calls.encode)
    decode = awaited(calls.decode)
    reconstruct = awaited(calls.reconstruct)
    inpaint = awaited(calls.inpaint)
    classify = awaited(calls.classify)

    # -- projection, synthesis from ws, interpolation, any entry point --------------------
    project = awaited(calls.project)
    synthesize = awaited(calls.synthesize)
    interpolate = awaited(calls.interpolate)
    call = awaited(calls.call)
