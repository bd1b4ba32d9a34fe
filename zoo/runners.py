"""The runner interface: one entry point of one model, NumPy arrays in and out.

Every backend — torch eager, ``torch.compile``, ONNX Runtime, TensorRT (the last two in
``export.runners``) — implements :class:`Runner`, so ``zoo eval --backend``, the Triton
backends and the benchmarks all share the pre/post-processing in :mod:`zoo.pipeline`.

Inputs come in the order of the entry point's signature (``ModelSpec.entry_point(...)``),
with a leading batch axis; outputs are a tuple in the signature's output order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

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
    """Runs an entry point with PyTorch, eagerly or through ``torch.compile``."""

    def __init__(
        self,
        model_name: str,
        module: nn.Module,
        entry: str | None = None,
        *,
        device: str = "cpu",
        compile: bool = False,
        threads: int | None = None,
    ) -> None:
        import torch

        self.model_name = model_name
        # A variant (e.g. resolution=256) has its own signature: read it from the module's config.
        self.entry = spec_of_module(model_name, module).entry_point(entry)
        if threads is not None:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        fn = getattr(self.module, self.entry.name)
        self._fn = torch.compile(fn, dynamic=True) if compile else fn

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        import torch

        args = [torch.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in inputs]
        with torch.inference_mode():
            out = self._fn(*args)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(o.detach().float().cpu().numpy() for o in outs)


def torch_runner(
    model_name: str,
    entry: str | None = None,
    *,
    module: nn.Module | None = None,
    device: str = "cpu",
    compile: bool = False,
) -> TorchRunner:
    """A :class:`TorchRunner` on ``module``, or on the bundled weights of ``model_name``."""
    if module is None:
        from zoo.weights import load_bundled

        module = load_bundled(model_name)
    return TorchRunner(model_name, module, entry, device=device, compile=compile)
