"""OpenVINO: a runner of the exported ONNX graph (or of an IR saved beside it) on the CPU plugin.

OpenVINO reads ``model.onnx`` directly; :func:`save_ir` also writes its own Intermediate
Representation beside it (``model.xml`` + ``model.bin``, what Triton's native ``openvino``
backend prefers), with a manifest (``openvino.json``) holding both files' sha256 and that of the
ONNX file they were converted from. :class:`OpenVinoRunner` runs the IR when one lies beside
the ONNX file, after :func:`export.artifacts.check_ir_artifact` has refused a corrupt or
mismatched one; otherwise it runs the ONNX file, checked as ONNX Runtime's runner checks it.

The compile options follow what was measured on the 2-core AMD host (BENCHMARKS.md,
"Engines"): float32 inference precision (the plugin's default on a CPU with AVX-512 BF16 is
bfloat16, which fails the parity gate), the ``LATENCY`` hint (one stream, all threads on the
one request the runner makes; a single synchronous request under ``THROUGHPUT`` ran 1.5-2x
slower), ``threads`` inference threads, and no CPU pinning (the Triton stub shares the cores
with the server's front end).

This module imports neither torch nor the export gates, so the Triton stub stays light.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from export.artifacts import (
    IR_BIN_NAME,
    IR_MANIFEST_NAME,
    IR_NAME,
    check_ir_artifact,
    check_onnx_artifact,
)
from export.signature import check_arity
from zoo.errors import (
    OPTIONAL_MODULES,
    ArtifactNotFoundError,
    InvalidInputError,
    MissingDependencyError,
)
from zoo.registry import get_spec
from zoo.weights import sha256_file

#: Performance hints the runner accepts (OpenVINO's ``PERFORMANCE_HINT``).
HINTS = ("LATENCY", "THROUGHPUT")
#: Inference precisions the runner accepts (OpenVINO's ``INFERENCE_PRECISION_HINT``).
PRECISIONS = ("f32", "bf16")


def require_openvino() -> Any:
    """The ``openvino`` module; :class:`MissingDependencyError` naming the extra otherwise."""
    try:
        import openvino
    except ImportError:
        raise MissingDependencyError(*OPTIONAL_MODULES["openvino"]) from None
    return openvino


def save_ir(onnx_path: Path, model_name: str, entry: str | None = None) -> Path:
    """Convert a checked ONNX export to OpenVINO IR beside it; return ``model.xml``'s path.

    The manifest records the IR files' and the source ONNX file's sha256, so a runner refuses an
    IR that was corrupted or that belongs to an older graph.
    """
    ov = require_openvino()
    onnx_path = Path(onnx_path)
    check_onnx_artifact(onnx_path, model_name, entry)
    ep = get_spec(model_name).entry_point(entry)
    xml = onnx_path.with_name(IR_NAME)
    ov.save_model(ov.Core().read_model(str(onnx_path)), str(xml), compress_to_fp16=False)
    manifest = {
        "model": model_name,
        "entry": ep.name,
        "onnx_file": onnx_path.name,
        "onnx_sha256": sha256_file(onnx_path),
        "xml_sha256": sha256_file(xml),
        "bin_sha256": sha256_file(xml.with_name(IR_BIN_NAME)),
        "openvino": ov.get_version(),
    }
    xml.with_name(IR_MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return xml


class OpenVinoRunner:
    """Runs an exported graph with OpenVINO's CPU plugin: the IR beside it if any, else the ONNX.

    ``path`` is the ``model.onnx`` of a version folder (or a ``model.xml``, whose manifest names
    its ONNX file). One inference request is reused across calls, under a lock, so concurrent
    callers take turns as they would on one ONNX Runtime session with one set of threads.
    """

    def __init__(
        self,
        model_name: str,
        entry: str | None,
        path: Path,
        *,
        threads: int | None = None,  # inference threads; None = OpenVINO's default (all cores)
        hint: str = "LATENCY",  # PERFORMANCE_HINT: LATENCY (one stream) or THROUGHPUT
        precision: str = "f32",  # f32 as exported; bf16 on CPUs that have it (must pass the gate)
        check_meta: bool = True,  # refuse files that failed their gate or changed
    ) -> None:
        ov = require_openvino()
        if hint not in HINTS:
            raise InvalidInputError(f"unknown OpenVINO hint {hint!r}; choose one of {HINTS}.")
        if precision not in PRECISIONS:
            raise InvalidInputError(
                f"unknown OpenVINO precision {precision!r}; choose one of {PRECISIONS}."
            )
        self.model_name = model_name
        self.entry = get_spec(model_name).entry_point(entry)
        path = Path(path)
        onnx_path = path.with_name(self._onnx_name(path)) if path.suffix == ".xml" else path
        if check_meta:
            self.meta = check_onnx_artifact(onnx_path, model_name, self.entry.name)
        elif not onnx_path.is_file() and path.suffix != ".xml":
            raise ArtifactNotFoundError(f"no ONNX file at {onnx_path}.")
        xml = onnx_path.with_name(IR_NAME)
        if xml.is_file() or path.suffix == ".xml":
            check_ir_artifact(xml, model_name, self.entry.name)
            self.source = xml
        else:
            self.source = onnx_path
        config: dict[str, Any] = {
            "PERFORMANCE_HINT": hint,
            "ENABLE_CPU_PINNING": False,
            # float32 as the graph says: on a CPU with AVX-512 BF16 (this host's EPYC) the
            # plugin otherwise computes in bfloat16: 2.2x faster on CycleGAN, but 6 grey levels
            # off torch (StyleGAN2: 25), where the gate allows 1.
            "INFERENCE_PRECISION_HINT": precision,
        }
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        core = ov.Core()
        model = core.read_model(str(self.source))
        if len(model.inputs) != len(self.entry.inputs):
            raise InvalidInputError(
                f"{self.source} has {len(model.inputs)} input(s) but {model_name}:"
                f"{self.entry.name} takes {len(self.entry.inputs)}; re-export it."
            )
        self.compiled = core.compile_model(model, "CPU", config)
        self.input_names = [i.get_any_name() for i in model.inputs]
        self.output_names = [o.get_any_name() for o in model.outputs]
        self._dtypes = [np.dtype(i.get_element_type().to_dtype()) for i in model.inputs]
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()

    @staticmethod
    def _onnx_name(xml: Path) -> str:
        manifest = xml.with_name(IR_MANIFEST_NAME)
        if not manifest.is_file():
            raise ArtifactNotFoundError(
                f"{xml} has no {IR_MANIFEST_NAME} beside it; write the IR with "
                "`zoo export NAME --format openvino`."
            )
        return str(json.loads(manifest.read_text()).get("onnx_file", "model.onnx"))

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        """Run one batch; inputs are cast to the graph's dtypes, outputs are fresh arrays."""
        check_arity(self.entry, inputs)
        feed = [
            np.ascontiguousarray(a, dtype=dt) for a, dt in zip(inputs, self._dtypes, strict=True)
        ]
        with self._lock:
            self._request.infer(feed, share_inputs=True)
            # The request reuses its output buffers on the next call: copy them out.
            return tuple(
                np.array(self._request.get_output_tensor(i).data, copy=True)
                for i in range(len(self.output_names))
            )
