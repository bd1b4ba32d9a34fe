"""torch → ONNX with the dynamo exporter, graph optimisation, and the parity gate.

:func:`export_onnx` exports one entry point of one model: the graph's inputs are the entry
point's tensors (latents, labels, ψ, images — seeds become latents outside the graph, by
:func:`zoo.latent.seed_to_latent`) with a dynamic batch axis 0 named ``batch``; its outputs
follow :func:`export.signature.graph_signature`. The graph has no random ops: StyleGAN2's noise
is its constant buffer (``noise_mode="const"``, the default of its entry point).

Writes ``model.onnx`` atomically and ``export.json`` beside it; see :mod:`export.artifacts` for
the layout and what happens to an export that fails its gate.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from export.artifacts import FAILED_ONNX_NAME, META_NAME, ONNX_NAME, version_dir
from export.gates import PARITY_N, ParityReport, parity_check
from export.samples import sample_inputs
from export.signature import GraphSignature, graph_signature
from export.wrappers import EntryModule
from zoo.errors import MissingDependencyError
from zoo.registry import EntryPoint, spec_of_module
from zoo.weights import sha256_file, write_atomic

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Default ONNX opset.
DEFAULT_OPSET = 18
#: Largest batch the exported graphs declare (the dynamic axis is 1..MAX_BATCH).
MAX_BATCH = 65_536


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how the exported graph compared with torch."""

    onnx_path: Path  # model.onnx, or model.failed.onnx when the parity gate failed
    meta_path: Path  # export.json beside it
    sha256: str  # of the ONNX file
    parity: ParityReport | None  # None when the gate was skipped
    seconds: float  # wall time of export + optimisation + gate
    model_name: str = ""  # registry name
    entry: str = ""  # entry point name
    optimizer: dict[str, Any] = field(default_factory=dict)  # effect of the graph optimiser

    @property
    def passed(self) -> bool:
        """Whether the artifact may be served (gate passed, or skipped on request)."""
        return self.parity is None or self.parity.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``zoo export --json``)."""
        return {
            "model": self.model_name,
            "entry": self.entry,
            "onnx_path": str(self.onnx_path),
            "meta_path": str(self.meta_path),
            "sha256": self.sha256,
            "passed": self.passed,
            "parity": None if self.parity is None else self.parity.to_dict(),
            "optimizer": self.optimizer,
            "seconds": round(self.seconds, 3),
        }


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise MissingDependencyError(e.name or "onnx", "export") from None


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Keep the exporter's progress prints and warnings out of the CLI's output."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def weights_digest(module: nn.Module) -> str:
    """sha256 over a module's state dict (names, dtypes, shapes, bytes) — identifies weights."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _example_args(entry: EntryPoint, n: int) -> tuple[torch.Tensor, ...]:
    import torch

    # Batch 2, not 1: the exporter would specialise a size-1 axis to a constant.
    return tuple(torch.from_numpy(a.copy()) for a in sample_inputs(entry, n))


def _graph_stats(model_proto: Any) -> dict[str, int]:
    return {"nodes": len(model_proto.graph.node), "bytes": model_proto.ByteSize()}


def _ort_latency_ms(model_bytes: bytes, feeds: dict[str, Any], reps: int = 20) -> float:
    """Median wall time of one ONNX Runtime call on one thread, in milliseconds."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    sess.run(None, feeds)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    return round(1e3 * sorted(times)[len(times) // 2], 4)


def export_onnx(
    model_name: str,
    entry: str | None = None,
    *,
    out_dir: Path | None = None,
    module: nn.Module | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    uint8_output: bool = False,
    optimize: bool = True,
    parity: bool = True,
    parity_n: int = PARITY_N,
    measure_optimizer: bool = False,
    threads: int | None = None,
) -> ExportResult:
    """Export one entry point of ``model_name`` to ONNX and check it against torch.

    ``module`` defaults to the pulled trained weights; ``out_dir`` to the model repository's
    version folder (``model_repository/<triton name>/1``). ``fp16`` runs the model in float16
    inside the graph (inputs and outputs stay float32); ``uint8_output`` ends image outputs in
    uint8 NHWC. ``measure_optimizer`` also times ONNX Runtime before and after the onnxscript
    optimiser (node count and size are always recorded). A failing gate does not raise: the
    result says ``passed=False`` and the file is kept as ``model.failed.onnx``.
    """
    _require_onnx()
    import onnx

    t_start = time.perf_counter()
    module, weights = _weights_of(model_name, module)
    # A variant (e.g. resolution=256) is exported with the signature its config derives.
    spec = spec_of_module(model_name, module)
    ep = spec.entry_point(entry)
    out = version_dir(model_name, ep.name) if out_dir is None else Path(out_dir)
    reference = copy.deepcopy(module).float().eval().requires_grad_(False)
    exported = copy.deepcopy(reference)
    if fp16:
        exported = exported.half()
    wrapper = EntryModule(exported, ep, fp16=fp16, uint8_output=uint8_output).eval()
    sig = graph_signature(ep, uint8_output=uint8_output)

    before, model_proto = _to_onnx(wrapper, ep, sig, opset=opset, optimize=optimize)
    onnx.checker.check_model(model_proto)
    model_bytes = model_proto.SerializeToString()
    optimizer = _optimizer_record(
        before, model_proto, model_bytes, ep, sig, enabled=optimize, measure=measure_optimizer
    )

    def gate(staging: Path) -> ParityReport | None:
        if not parity:
            return None
        return parity_check(
            model_name,
            ep.name,
            reference,
            staging,
            n=parity_n,
            fp16=fp16,
            uint8_output=uint8_output,
            threads=threads,
        )

    final, report = _write_gated(out, model_bytes, gate)
    passed = report is None or report.passed
    digest = sha256_file(final)
    seconds = time.perf_counter() - t_start
    meta = {
        "format": "onnx",
        "model": model_name,
        "entry": ep.name,
        "overrides": dict(spec.overrides),
        "onnx_file": final.name,
        "sha256": digest,
        "opset": opset,
        "exporter": "torch.onnx.export(dynamo=True)",
        "versions": _versions(),
        "signature": sig.to_dict(),
        "dynamic_axes": {"batch": [1, MAX_BATCH]},
        "fp16": fp16,
        "uint8_output": uint8_output,
        "optimizer": optimizer,
        "weights": weights,
        "passed": passed,
        "parity": None if report is None else report.to_dict(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
    }
    meta_path = out / META_NAME
    write_atomic(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return ExportResult(
        onnx_path=final,
        meta_path=meta_path,
        sha256=digest,
        parity=report,
        seconds=seconds,
        model_name=model_name,
        entry=ep.name,
        optimizer=optimizer,
    )


def _weights_of(model_name: str, module: nn.Module | None) -> tuple[nn.Module, dict[str, str]]:
    """The module to export (default: the pulled trained weights) and its weights record."""
    if module is not None:
        return module, {"source": "module", "sha256": weights_digest(module)}
    from zoo.hub import pull

    pulled = pull(model_name)
    return pulled.load(), {"source": pulled.source, "sha256": pulled.sha256}


def _to_onnx(
    wrapper: nn.Module, ep: EntryPoint, sig: GraphSignature, *, opset: int, optimize: bool
) -> tuple[Any, Any]:
    """The ONNX graph of ``wrapper`` with a dynamic batch axis: as exported, and optimised.

    The second is the first when ``optimize`` is off (the optimiser works in place).
    """
    import torch

    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with _quiet_exporter():
        program = torch.onnx.export(
            wrapper,
            _example_args(ep, 2),
            input_names=[t.name for t in sig.inputs],
            output_names=[t.name for t in sig.outputs],
            dynamic_shapes=(tuple({0: batch} for _ in sig.inputs),),
            opset_version=opset,
            dynamo=True,
            optimize=False,
            external_data=False,
            verbose=False,
        )
        assert program is not None
        before = program.model_proto
        if optimize:
            program.optimize()
        return before, program.model_proto


def _optimizer_record(
    before: Any,
    after: Any,
    after_bytes: bytes,
    ep: EntryPoint,
    sig: GraphSignature,
    *,
    enabled: bool,
    measure: bool,
) -> dict[str, Any]:
    """What the onnxscript optimiser did: node counts and sizes, and (``measure``) ORT latency."""
    record: dict[str, Any] = {
        "enabled": enabled,
        "before": _graph_stats(before),
        "after": _graph_stats(after),
    }
    if measure:
        feeds = {t.name: a for t, a in zip(sig.inputs, sample_inputs(ep, 16), strict=True)}
        record["ort_ms_batch16_before"] = _ort_latency_ms(before.SerializeToString(), feeds)
        record["ort_ms_batch16_after"] = _ort_latency_ms(after_bytes, feeds)
    return record


def _write_gated(
    out: Path, model_bytes: bytes, gate: Callable[[Path], ParityReport | None]
) -> tuple[Path, ParityReport | None]:
    """Write the graph into ``out`` as ``model.onnx`` if ``gate`` passes, else as the failed one.

    ``gate`` checks the graph at its staging path (``None``: not checked, which passes).
    """
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".{ONNX_NAME}.{os.getpid()}.staging"
    try:
        # The rename below makes the write atomic; a write cut short (Ctrl-C, a full disk)
        # leaves no staging file behind either.
        staging.write_bytes(model_bytes)
        report = gate(staging)
        passed = report is None or report.passed
        final = out / (ONNX_NAME if passed else FAILED_ONNX_NAME)
        os.replace(staging, final)
    finally:
        staging.unlink(missing_ok=True)
    if not passed:
        # Never leave an older graph in place that export.json no longer describes.
        (out / ONNX_NAME).unlink(missing_ok=True)
    return final, report


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import onnxscript
    import torch

    return {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxscript": onnxscript.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
