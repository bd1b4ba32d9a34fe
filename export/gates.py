"""The parity gate: an exported artifact must compute what the torch model computes.

Every export runs the entry point on the same fixed inputs (64 seeds, or 64 fixed images,
masks and latents) in torch float32 and through the artifact, and compares each output:

- float outputs: relative L2 error ``‖a − t‖₂ / ‖t‖₂`` (``t`` = torch) at most
  :data:`FP32_REL_L2` (1e-5) for a float32 graph, :data:`FP16_REL_L2` (1e-2) for a float16
  one — float16 keeps ~3 decimal digits and the error grows with depth; measured on the zoo's
  graphs it lies between 5e-5 (VAE) and 1.4e-3 (CycleGAN, StyleGAN2), so the bound leaves
  ~7× headroom while still catching a graph that computes something else;
- uint8 image outputs (``--uint8-output``): torch's output goes through
  :func:`zoo.pipeline.to_uint8_nhwc` and the artifact's bytes may differ from it by at most one
  level (:data:`UINT8_MAX_LEVELS`; a value on a rounding boundary can land either side); for a
  float16 graph the relative L2 bound applies instead.

The max absolute error is reported beside it for people; the gate itself uses rel-L2 (and
levels for bytes), which does not depend on an output's scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from export.runners import OrtRunner
from export.samples import sample_inputs
from export.signature import graph_signature
from zoo.pipeline import is_image, to_uint8_nhwc
from zoo.registry import EntryPoint, spec_of_module

if TYPE_CHECKING:
    from torch import nn

#: Relative L2 error a float32 artifact may have against torch.
FP32_REL_L2 = 1e-5
#: Relative L2 error a float16 artifact may have against torch float32.
FP16_REL_L2 = 1e-2
#: Levels a uint8 output of a float32 artifact may differ from torch's post-processing.
UINT8_MAX_LEVELS = 1
#: Fixed inputs each export is checked on.
PARITY_N = 64

Arrays = tuple[npt.NDArray[Any], ...]


@dataclass(frozen=True)
class OutputParity:
    """Errors of one output tensor."""

    name: str  # graph output name
    dtype: str  # "float32" or "uint8"
    max_abs: float  # largest absolute difference (in levels for uint8)
    rel_l2: float  # ‖a − t‖₂ / ‖t‖₂
    passed: bool  # within this output's bound


@dataclass(frozen=True)
class ParityReport:
    """Artifact vs torch on ``n`` fixed inputs; ``max_abs``/``rel_l2`` are the worst outputs'."""

    max_abs: float  # worst absolute error over the outputs
    rel_l2: float  # worst relative L2 error over the outputs
    n: int  # inputs compared
    passed: bool  # every output within its bound
    bound: float  # rel-L2 bound of float outputs
    precision: str  # "fp32" or "fp16"
    engine: str = "onnxruntime"  # what ran the artifact (export.runners.ENGINES, or a label)
    outputs: tuple[OutputParity, ...] = field(default_factory=tuple)  # per output

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParityReport:
        """Inverse of :meth:`to_dict`; also reads reports written before the key was renamed."""
        outs = tuple(OutputParity(**o) for o in data.get("outputs", ()))
        data = dict(data)
        if "backend" in data:  # export.json and engine manifests written before "engine"
            data.setdefault("engine", data.pop("backend"))
        return cls(**{**data, "outputs": outs})

    def summary(self) -> str:
        """One line for people: verdict, errors and the bounds that judged them."""
        verdict = "passed" if self.passed else "FAILED"
        fp16 = self.precision == "fp16"
        in_levels = [_judged_in_levels(o.dtype, fp16=fp16) for o in self.outputs]
        bounds = []
        if any(in_levels):
            bounds.append(f"uint8 outputs ≤ {UINT8_MAX_LEVELS} level")
        if not in_levels or not all(in_levels):
            bounds.append(f"rel-L2 ≤ {self.bound:g}")
        return (
            f"parity {verdict} ({self.engine}, {self.precision}, n={self.n}): "
            f"max abs {self.max_abs:.3g}, rel-L2 {self.rel_l2:.3g} (bound: {', '.join(bounds)})"
        )


def _judged_in_levels(dtype: str, *, fp16: bool) -> bool:
    """Whether an output of ``dtype`` is held to grey levels (uint8 images of a float32 graph)
    rather than to the relative L2 bound."""
    return dtype == "uint8" and not fp16


def torch_reference(
    module: nn.Module, entry: EntryPoint, inputs: Sequence[npt.NDArray[Any]], *, uint8_output: bool
) -> Arrays:
    """The entry point's outputs in torch float32, post-processed like the export."""
    import torch

    args = [torch.from_numpy(np.ascontiguousarray(a)) for a in inputs]
    with torch.inference_mode():
        out = getattr(module.eval(), entry.name)(*args)
    outs = out if isinstance(out, tuple) else (out,)
    result = []
    for x, spec in zip(outs, entry.outputs, strict=True):
        arr = x.detach().cpu().numpy()
        result.append(to_uint8_nhwc(arr) if uint8_output and is_image(spec) else arr)
    return tuple(result)


def compare_outputs(
    reference: Sequence[npt.NDArray[Any]],
    candidate: Sequence[npt.NDArray[Any]],
    names: Sequence[str],
    *,
    fp16: bool = False,
    engine: str = "onnxruntime",
) -> ParityReport:
    """Compare ``candidate`` outputs with torch's ``reference`` under the gate's bounds."""
    bound = FP16_REL_L2 if fp16 else FP32_REL_L2
    rows = []
    for name, ref, got in zip(names, reference, candidate, strict=True):
        if ref.shape != got.shape:
            rows.append(OutputParity(name, str(got.dtype), float("inf"), float("inf"), False))
            continue
        t = ref.astype(np.float64)
        diff = got.astype(np.float64) - t
        max_abs = float(np.abs(diff).max()) if diff.size else 0.0
        rel = float(np.linalg.norm(diff) / max(float(np.linalg.norm(t)), 1e-12))
        if not (np.isfinite(max_abs) and np.isfinite(rel)):
            ok = False
        elif _judged_in_levels(str(ref.dtype), fp16=fp16):
            ok = max_abs <= UINT8_MAX_LEVELS
        else:
            ok = rel <= bound
        rows.append(OutputParity(name, str(got.dtype), max_abs, rel, ok))
    return ParityReport(
        max_abs=max(r.max_abs for r in rows),
        rel_l2=max(r.rel_l2 for r in rows),
        n=len(reference[0]) if reference else 0,
        passed=all(r.passed for r in rows),
        bound=bound,
        precision="fp16" if fp16 else "fp32",
        engine=engine,
        outputs=tuple(rows),
    )


def parity_check(
    model_name: str,
    entry: str | None,
    module: nn.Module,
    onnx_path: Path,
    *,
    n: int = PARITY_N,
    fp16: bool = False,
    uint8_output: bool = False,
    threads: int | None = None,
) -> ParityReport:
    """Run ``onnx_path`` in ONNX Runtime and ``module`` in torch float32 on ``n`` fixed inputs."""
    ep = spec_of_module(model_name, module).entry_point(entry)  # a variant has its own
    runner = OrtRunner(model_name, ep.name, onnx_path, threads=threads, check_meta=False)
    return check_runner(module, ep, runner, n=n, fp16=fp16, uint8_output=uint8_output)


def check_runner(
    module: nn.Module,
    entry: EntryPoint,
    run: Callable[..., Arrays],
    *,
    n: int = PARITY_N,
    fp16: bool = False,
    uint8_output: bool = False,
    engine: str = "onnxruntime",
) -> ParityReport:
    """The gate for any runner of ``entry`` (ONNX Runtime, TensorRT) against torch float32."""
    inputs = sample_inputs(entry, n)
    reference = torch_reference(module, entry, inputs, uint8_output=uint8_output)
    candidate = run(*inputs)
    names = [t.name for t in graph_signature(entry, uint8_output=uint8_output).outputs]
    return compare_outputs(reference, candidate, names, fp16=fp16, engine=engine)
