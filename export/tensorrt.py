"""ONNX → a gated TensorRT engine: export, build, parity gate, fp16 with fp32 fallback layers.

:func:`build_tensorrt` exports the ONNX graph, builds the engine (:mod:`export.tensorrt_engine`:
profiles, timing cache, manifest) and runs the parity gate (:mod:`export.gates`) on it. fp16:
first a *strongly typed* network from the float16 ONNX export, whose types TensorRT follows
exactly; if that engine fails the gate, the float32 graph is built with the FP16 flag under
precision constraints, and :func:`find_fp32_layers` bisects over its layers for the few that
must stay float32 for the gate to pass.

Like :mod:`export.tensorrt_engine`, this has run only against the stand-in for TensorRT's API
on the CPU machines here (``tests/export/tensorrt_standin.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from export.artifacts import ENGINE_NAME, version_dir
from export.gates import ParityReport, check_runner
from export.onnx import export_onnx
from export.runners import TensorRTRunner
from export.tensorrt_engine import (
    BuildOptions,
    build_engine,
    network_layers,
    read_manifest,
    require_tensorrt,
    write_manifest,
)
from zoo.errors import ExportGateError
from zoo.registry import get_spec

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

#: Folder of the fp16 ONNX graph a strongly typed engine is built from (inside the version dir).
FP16_ONNX_DIR = "fp16"


def find_fp32_layers(layers: Sequence[str], passes: Callable[[frozenset[str]], bool]) -> list[str]:
    """A small set of ``layers`` to keep in float32 so that ``passes(fp32_set)`` holds.

    ``passes`` builds and checks an engine with the given layers in float32 (the rest fp16).
    First a binary search for the shortest prefix (in network order) that passes — fp16
    error enters early and is amplified downstream — then chunks of that prefix are handed
    back to fp16, halving the chunk size, as long as the gate still passes. Uses
    O(log n + k log n) builds for k kept layers. Raises when even all-fp32 fails.
    """
    order = list(layers)
    if passes(frozenset()):
        return []
    if not passes(frozenset(order)):
        raise ExportGateError(
            "the gate fails even with every layer in float32: the graph itself is wrong; "
            "check the ONNX parity report."
        )
    lo, hi = 0, len(order)  # invariant: prefix of length hi passes, of length lo fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(frozenset(order[:mid])):
            hi = mid
        else:
            lo = mid
    keep = order[:hi]
    chunk = max(1, len(keep) // 2)
    while chunk >= 1 and len(keep) > 1:
        i = 0
        while i < len(keep):
            trial = keep[:i] + keep[i + chunk :]
            if trial and passes(frozenset(trial)):
                keep = trial
            else:
                i += chunk
        if chunk == 1:
            break
        chunk //= 2
    return keep


@dataclass(frozen=True)
class TensorRTResult:
    """What :func:`build_tensorrt` built and how it compared with torch."""

    engine_path: Path  # model.plan
    manifest_path: Path  # engine.json
    parity: ParityReport  # the gate's report on the final engine
    fp32_layers: tuple[str, ...]  # layers kept in float32 (fp16 builds)
    strongly_typed: bool  # built from the fp16 ONNX with strong typing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``zoo export --format tensorrt --json``)."""
        return {
            "engine_path": str(self.engine_path),
            "manifest_path": str(self.manifest_path),
            "passed": self.parity.passed,
            "parity": self.parity.to_dict(),
            "fp32_layers": list(self.fp32_layers),
            "strongly_typed": self.strongly_typed,
        }


def build_tensorrt(
    model_name: str,
    entry: str | None = None,
    *,
    module: nn.Module,
    out_dir: Path | None = None,
    options: BuildOptions | None = None,
    uint8_output: bool = False,
    parity_n: int = 64,
) -> TensorRTResult:
    """Export ONNX if needed, build the engine, gate it; for fp16, fall back layer by layer.

    ``module`` is the torch model the gate compares against (and exports from).
    """
    require_tensorrt()
    ep = get_spec(model_name).entry_point(entry)
    out = version_dir(model_name, ep.name) if out_dir is None else Path(out_dir)
    opts = options or BuildOptions()
    engine_path = out / ENGINE_NAME

    def export(sub: Path, fp16: bool) -> Path:
        res = export_onnx(
            model_name, ep.name, out_dir=sub, module=module, fp16=fp16, uint8_output=uint8_output
        )
        if res.parity is not None and not res.parity.passed:
            raise ExportGateError(f"the ONNX export failed its gate: {res.parity.summary()}")
        return res.onnx_path

    def gate(onnx_path: Path, build: BuildOptions) -> ParityReport:
        build_engine(onnx_path, engine_path, build)
        runner = TensorRTRunner(model_name, ep.name, engine_path)
        return check_runner(
            module,
            ep,
            runner,
            n=min(parity_n, build.max_batch),
            fp16=build.fp16,
            uint8_output=uint8_output,
            engine="tensorrt",
        )

    fp32_onnx = export(out, False)  # fresh: the engine must match these weights and flags
    if not opts.fp16:
        report = gate(fp32_onnx, replace(opts, strongly_typed=False, fp32_layers=()))
        final = replace(opts, strongly_typed=False, fp32_layers=())
    else:
        typed = replace(opts, strongly_typed=True, fp32_layers=())
        report = gate(export(out / FP16_ONNX_DIR, True), typed)
        final = typed
        if not report.passed:
            log.warning("strongly typed fp16 engine failed its gate; bisecting over layers")
            weak = replace(opts, strongly_typed=False)
            found = find_fp32_layers(
                network_layers(fp32_onnx),
                lambda keep: gate(fp32_onnx, replace(weak, fp32_layers=tuple(keep))).passed,
            )
            final = replace(weak, fp32_layers=tuple(found))
            report = gate(fp32_onnx, final)
    manifest = read_manifest(engine_path)
    assert manifest is not None
    manifest_path = write_manifest(engine_path, replace(manifest, parity=report.to_dict()))
    if not report.passed:
        raise ExportGateError(f"the TensorRT engine failed its gate: {report.summary()}")
    return TensorRTResult(
        engine_path, manifest_path, report, final.fp32_layers, final.strongly_typed
    )
