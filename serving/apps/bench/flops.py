"""FLOPs per image (counted once, with torch's flop counter) and the machine's matmul peak.

Achieved GFLOP/s of a bench target is its throughput times :func:`count_flops`; the report states
it as a fraction of :func:`measure_matmul_peak`, taken in the same run so both see the same
machine and the same background load.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from zoo.registry import EntryPoint


def count_flops(module: nn.Module, entry: EntryPoint, *, batch: int = 2) -> float:
    """FLOPs of one image through ``entry`` of ``module``, as torch's ``FlopCounterMode`` counts.

    The counter covers matrix multiplications and convolutions (2 FLOPs per multiply-add);
    element-wise work is not counted. It runs one batch of ``batch`` images (the export gate's
    fixed inputs) and divides, so per-batch constants do not hide in a batch of one.
    """
    import torch

    from export.samples import sample_inputs

    args = [torch.from_numpy(a.copy()) for a in sample_inputs(entry, batch)]
    return count_module_flops(getattr(module.eval(), entry.name), *args) / batch


def count_module_flops(fn: Callable[..., Any], *inputs: Any) -> float:
    """Total FLOPs of ``fn(*inputs)`` (a module or its method, on torch tensors).

    Runs with autograd on but no parameter requiring grad: the counter's module tracker hooks
    tensors that require grad, and under ``no_grad``/``inference_mode`` a parameter passed
    between submodules (StyleGAN2's constant input) has no grad function to hook.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    owner = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    params = list(owner.parameters()) if isinstance(owner, torch.nn.Module) else []
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            fn(*inputs)
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)
    return float(counter.get_total_flops())


@dataclass(frozen=True)
class MatmulPeak:
    """Achieved GFLOP/s of large square ``torch.mm`` calls: every core, or one CUDA device."""

    gflops: float  # best repetition: the figure targets are compared with
    median_gflops: float  # median repetition (how steady the machine was)
    size: int  # n of the n×n @ n×n products
    threads: int  # torch intra-op threads used (CPU)
    repetitions: int  # timed products
    device: str = "cpu"  # "cpu", or the CUDA device ("cuda", "cuda:N")
    dtype: str = "float32"  # torch dtype of the matrices ("float16" for tensor cores)
    tf32: bool | None = None  # CUDA float32: whether TF32 tensor cores were allowed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (on a CPU, the keys reports have always had)."""
        n = self.size
        if not self.device.startswith("cuda"):
            return {
                "gflops": self.gflops,
                "median_gflops": self.median_gflops,
                "method": f"torch.mm {self.dtype} {n}x{n}, {self.threads} threads",
                "size": n,
                "threads": self.threads,
                "repetitions": self.repetitions,
            }
        return {
            "gflops": self.gflops,
            "median_gflops": self.median_gflops,
            "method": f"torch.mm {self.dtype} {n}x{n}x{n}, random data, CUDA events, "
            f"best of {self.repetitions}",
            "size": n,
            "repetitions": self.repetitions,
            "device": self.device,
            "dtype": self.dtype,
            "tf32": self.tf32,
        }


def measure_matmul_peak(
    *,
    size: int | None = None,
    seconds: float = 1.0,
    threads: int | None = None,
    min_reps: int = 3,
    device: str = "cpu",
    dtype: str = "float32",
) -> MatmulPeak:
    """Time ``size``² matrix products of ``dtype`` on ``device``; the best repetition is the peak.

    On a CPU: float32 by default, ``size`` 2048, on ``threads`` (default: every core) for
    ``seconds``; a product this large keeps the BLAS kernel in its steady state, so the best
    figure is what the cores can do when nothing else runs. On CUDA: ``size`` 8192, three
    untimed products, then ``max(min_reps, 10)`` each timed with CUDA events (``seconds`` and
    ``threads`` do not apply); ``dtype="float16"`` gives the tensor-core peak fp16 models are
    compared with.
    """
    import torch

    if device.startswith("cuda"):
        return _cuda_matmul_peak(size or 8192, device, dtype, reps=max(min_reps, 10))
    size = size or 2048
    n_threads = threads or os.cpu_count() or 1
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(size, size, generator=gen, dtype=getattr(torch, dtype))
        b = torch.randn(size, size, generator=gen, dtype=getattr(torch, dtype))
        out = torch.empty_like(a)
        torch.mm(a, b, out=out)  # warm-up: thread pool, page faults
        flop = 2.0 * size**3
        rates: list[float] = []
        deadline = time.perf_counter() + seconds
        while len(rates) < min_reps or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            torch.mm(a, b, out=out)
            rates.append(flop / (time.perf_counter() - t0) / 1e9)
    finally:
        torch.set_num_threads(previous)
    return MatmulPeak(
        gflops=max(rates),
        median_gflops=statistics.median(rates),
        size=size,
        threads=n_threads,
        repetitions=len(rates),
        dtype=dtype,
    )


def _cuda_matmul_peak(size: int, device: str, dtype: str, *, reps: int) -> MatmulPeak:
    """:func:`measure_matmul_peak` on a CUDA device: CUDA events around each product."""
    import torch

    torch_dtype = getattr(torch, dtype)
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=torch_dtype, generator=gen)
    b = torch.randn(size, size, device=device, dtype=torch_dtype, generator=gen)
    out = torch.empty_like(a)
    for _ in range(3):  # untimed: cuBLAS picks its kernel, clocks ramp up
        torch.mm(a, b, out=out)
    rates: list[float] = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mm(a, b, out=out)
        end.record()
        end.synchronize()
        rates.append(2.0 * size**3 / (start.elapsed_time(end) / 1e3) / 1e9)
    del a, b, out
    torch.cuda.empty_cache()
    return MatmulPeak(
        gflops=max(rates),
        median_gflops=statistics.median(rates),
        size=size,
        threads=torch.get_num_threads(),
        repetitions=reps,
        device=device,
        dtype=dtype,
        tf32=bool(torch.backends.cuda.matmul.allow_tf32) if dtype == "float32" else None,
    )
