"""In-process runners for exported artifacts, and :func:`make_runner` for every backend.

Each runner implements :class:`zoo.runners.Runner`: arrays in the entry point's input order
(batch axis first) → tuple of the graph's outputs as NumPy arrays, in whatever dtype the graph
has (float32, or uint8 NHWC for a ``--uint8-output`` export). ``zoo eval --backend``, the
Triton Python backends and ``zoo bench`` all get their runner from :func:`make_runner`, so
every path shares one pre/post-processing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from export.artifacts import ENGINE_NAME, ONNX_NAME, check_onnx_artifact, version_dir
from zoo.errors import (
    ArtifactNotFoundError,
    InvalidInputError,
    InvalidNameError,
    MissingDependencyError,
)
from zoo.registry import EntryPoint, get_spec
from zoo.runners import Runner, TorchRunner

if TYPE_CHECKING:
    from torch import nn

#: Backends :func:`make_runner` knows.
BACKENDS = ("torch", "compile", "onnxruntime", "tensorrt")

# ONNX Runtime's type strings → NumPy dtypes, for the graphs export writes.
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def _check_arity(entry: EntryPoint, inputs: tuple[Any, ...]) -> None:
    if len(inputs) != len(entry.inputs):
        names = ", ".join(t.name for t in entry.inputs)
        raise InvalidInputError(
            f"entry point {entry.name!r} takes {len(entry.inputs)} input(s) ({names}), "
            f"got {len(inputs)}."
        )


class OrtRunner:
    """Runs an exported ONNX graph with ONNX Runtime (CPU, or CUDA when asked and available)."""

    def __init__(
        self,
        model_name: str,
        entry: str | None,
        onnx_path: Path,
        *,
        threads: int | None = None,  # intra-op threads; None = ONNX Runtime's default
        device: str = "cpu",  # "cpu", or "cuda" for the CUDA execution provider
        check_meta: bool = True,  # refuse files that failed their gate or changed
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError("onnxruntime", "export") from None
        self.model_name = model_name
        self.entry = get_spec(model_name).entry_point(entry)
        self.onnx_path = Path(onnx_path)
        if check_meta:
            self.meta = check_onnx_artifact(self.onnx_path, model_name, self.entry.name)
        elif not self.onnx_path.is_file():
            raise ArtifactNotFoundError(f"no ONNX file at {self.onnx_path}.")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # errors only: fp16 graphs log harmless folding warnings
        if threads is not None:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        # No spin-waiting. By default ORT's intra-op threads spin after each parallel section
        # and after Run returns; inside Triton's Python backend that spin takes the cores from
        # the stub's own Python (wire conversion, responses) and from Triton's front end. On
        # the shared 2-core host, dcgan-mnist batch 64 with 2 threads cost 25-31 ms of CPU per
        # batch spinning and 13-17 ms without, in-process and in the stub alike, and the
        # stub's time outside the ORT call fell from ~11 ms to ~1 ms per batch (BENCHMARKS.md,
        # "Where the served time goes").
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise InvalidInputError(
                    "this ONNX Runtime has no CUDA provider: install onnxruntime-gpu, "
                    "or use device 'cpu'."
                )
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(self.onnx_path), opts, providers=providers)
        graph_inputs = self.session.get_inputs()
        if len(graph_inputs) != len(self.entry.inputs):
            raise InvalidInputError(
                f"{self.onnx_path} has {len(graph_inputs)} input(s) but {model_name}:"
                f"{self.entry.name} takes {len(self.entry.inputs)}; re-export it."
            )
        self.input_names = [i.name for i in graph_inputs]
        self._dtypes = [_ORT_DTYPES.get(i.type, np.float32) for i in graph_inputs]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        """Run one batch; inputs are cast to the graph's dtypes."""
        _check_arity(self.entry, inputs)
        feed = {
            name: np.ascontiguousarray(a, dtype=dt)
            for name, a, dt in zip(self.input_names, inputs, self._dtypes, strict=True)
        }
        return tuple(self.session.run(self.output_names, feed))


class TensorRTRunner:
    """Runs a TensorRT engine on a CUDA device; a stale engine is rebuilt from its ONNX first.

    Needs ``tensorrt`` and a CUDA build of torch (used for device buffers and the stream).
    """

    def __init__(
        self,
        model_name: str,
        entry: str | None,
        engine_path: Path,
        *,
        device: str = "cuda",  # CUDA device the engine runs on
    ) -> None:
        import torch

        from export.tensorrt import load_engine, require_tensorrt

        require_tensorrt()
        import tensorrt as trt

        self.model_name = model_name
        self.entry = get_spec(model_name).entry_point(entry)
        self.engine_path = Path(engine_path)
        self.device = torch.device("cuda" if device == "cpu" else device)
        self.engine = load_engine(self.engine_path)
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        mode = trt.TensorIOMode.INPUT
        self.input_names = [n for n in names if self.engine.get_tensor_mode(n) == mode]
        self.output_names = [n for n in names if self.engine.get_tensor_mode(n) != mode]

    def _torch_dtype(self, name: str) -> Any:
        import tensorrt as trt
        import torch

        np_dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(name)))
        return torch.from_numpy(np.empty(0, dtype=np_dtype)).dtype

    def __call__(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        """Run one batch on the device; outputs come back as NumPy arrays."""
        import torch

        _check_arity(self.entry, inputs)
        keep = []
        for name, a in zip(self.input_names, inputs, strict=True):
            dtype = self._torch_dtype(name)
            t = torch.as_tensor(np.ascontiguousarray(a)).to(self.device, dtype).contiguous()
            self.context.set_input_shape(name, tuple(t.shape))
            self.context.set_tensor_address(name, t.data_ptr())
            keep.append(t)
        outs = []
        for name in self.output_names:
            shape = self.context.get_tensor_shape(name)[:]  # Dims → tuple
            t = torch.empty(shape, dtype=self._torch_dtype(name), device=self.device)
            self.context.set_tensor_address(name, t.data_ptr())
            outs.append(t)
        stream = torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError(f"TensorRT failed to run {self.engine_path}.")
        stream.synchronize()
        return tuple(t.cpu().numpy() for t in outs)


def make_runner(
    backend: str,
    model_name: str,
    entry: str | None = None,
    *,
    module: nn.Module | None = None,
    artifact: Path | None = None,
    threads: int | None = None,
    device: str = "cpu",
) -> Runner:
    """A runner of ``model_name``'s ``entry`` on ``backend`` (one of :data:`BACKENDS`).

    ``torch``/``compile`` run ``module`` (default: the pulled trained weights) eagerly or through
    ``torch.compile``; ``onnxruntime``/``tensorrt`` run ``artifact`` (default: the model
    repository's ``model.onnx``/``model.plan`` for this entry point).
    """
    if backend not in BACKENDS:
        raise InvalidNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    ep = get_spec(model_name).entry_point(entry)
    if backend in ("torch", "compile"):
        if module is None:
            from zoo.hub import load

            module = load(model_name)
        return TorchRunner(
            model_name,
            module,
            ep.name,
            device=device,
            compile=backend == "compile",
            threads=threads,
        )
    if backend == "onnxruntime":
        path = Path(artifact) if artifact else version_dir(model_name, ep.name) / ONNX_NAME
        return OrtRunner(model_name, ep.name, path, threads=threads, device=device)
    path = Path(artifact) if artifact else version_dir(model_name, ep.name) / ENGINE_NAME
    if not path.is_file():
        raise ArtifactNotFoundError(
            f"no TensorRT engine of {model_name} at {path}. "
            f"Run `zoo export {model_name} --format tensorrt` first (on a GPU host)."
        )
    return TensorRTRunner(model_name, ep.name, path, device="cuda" if device == "cpu" else device)
