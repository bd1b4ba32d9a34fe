"""The runner interface: one entry point of one model, NumPy arrays in and out.

Every engine — torch eager, ``torch.compile``, ONNX Runtime, TensorRT (the last two in
``export.runners``, whose ``make_runner`` builds them all) — implements :class:`Runner`, so
``zoo eval --engine``, the Triton Python models and the benchmarks all share the
pre/post-processing in :mod:`zoo.pipeline`.

Inputs come in the order of the entry point's signature (``ModelSpec.entry_point(...)``),
with a leading batch axis; outputs are a tuple in the signature's output order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from zoo.registry import EntryPoint, spec_of_module

if TYPE_CHECKING:
    from torch import nn


class Runner(Protocol):
    """Runs one entry point on a batch: arrays in signature order → tuple of output arrays."""

    model_name: str
    entry: EntryPoint

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        """Run on one batch."""
        ...


class TorchRunner:
    """Runs an entry point with PyTorch, eagerly or through ``torch.compile``.

    ``half`` runs weights and floating-point inputs in float16 (outputs come back float32);
    ``channels_last`` stores weights and image inputs NHWC in memory, which the tensor-core
    convolutions of a GPU prefer. ``compile_mode`` is ``torch.compile``'s ``mode``:
    ``"reduce-overhead"`` replays CUDA graphs, which needs fixed shapes (``dynamic=False``,
    one graph per batch size); without a mode the graph is compiled for dynamic batches.
    """

    def __init__(
        self,
        model_name: str,
        module: nn.Module,
        entry: str | None = None,
        *,
        device: str = "cpu",
        compile: bool = False,
        threads: int | None = None,
        half: bool = False,
        channels_last: bool = False,
        compile_mode: str | None = None,
    ) -> None:
        import torch

        self.model_name = model_name
        # A variant (e.g. resolution=256) has its own signature: read it from the module's config.
        self.entry = spec_of_module(model_name, module).entry_point(entry)
        if threads is not None:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.channels_last = channels_last
        self.module = module.to(self.device, self.dtype).eval()
        if channels_last:
            # Documented (nn.Module.to) but missing from torch's overloads for type checkers.
            self.module = self.module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        fn = getattr(self.module, self.entry.name)
        if compile:
            fn = torch.compile(fn, dynamic=compile_mode is None, mode=compile_mode)
        self._fn = fn
        self.compiled = compile

    def release(self) -> None:
        """Free what the process holds for this runner beyond its module: compiled graphs (and
        their CUDA graph pools; ``torch._dynamo.reset()`` drops every compiled graph of the
        process) and the CUDA allocator's cache."""
        import torch

        if self.compiled:
            torch._dynamo.reset()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _tensor(self, a: npt.NDArray[np.generic]) -> Any:
        import torch

        t = torch.from_numpy(np.ascontiguousarray(a)).to(self.device)
        if not t.is_floating_point():
            return t
        t = t.to(self.dtype)
        return (
            t.contiguous(memory_format=torch.channels_last)
            if self.channels_last and t.dim() == 4
            else t
        )

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        import torch

        args = [self._tensor(a) for a in inputs]
        with torch.inference_mode():
            out = self._fn(*args)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(o.detach().float().cpu().numpy() for o in outs)


def torch_runner(
    model_name: str,
    entry: str | None = None,
    *,
    module: nn.Module,
    device: str = "cpu",
    compile: bool = False,
    threads: int | None = None,
    half: bool = False,
    channels_last: bool | None = None,
    compile_mode: str | None = None,
) -> TorchRunner:
    """A :class:`TorchRunner` of ``model_name``'s ``entry`` on ``module``.

    How ``export.runners.make_runner`` builds its ``torch`` and ``compile`` engines. Weights
    and images are stored NHWC with ``channels_last``, which by default follows ``half`` (what
    a GPU's tensor cores want); ``compile_mode`` is ``torch.compile``'s mode (with ``compile``).
    """
    return TorchRunner(
        model_name,
        module,
        entry,
        device=device,
        compile=compile,
        threads=threads,
        half=half,
        channels_last=half if channels_last is None else channels_last,
        compile_mode=compile_mode,
    )
