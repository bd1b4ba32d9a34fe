"""The runner factory: :data:`ENGINES` (a name → how to build) and :func:`make_runner`.

A *runner* (:class:`zoo.runners.Runner`) runs one entry point in this process: arrays in the
entry point's input order (batch axis first) → tuple of the graph's outputs as NumPy arrays, in
whatever dtype the graph has (float32, or uint8 NHWC for a ``--uint8-output`` export). Its
*engine* is what runs it: torch, ``torch.compile``, ONNX Runtime, OpenVINO
(:mod:`export.openvino`) or TensorRT (this module holds ONNX Runtime's and TensorRT's).
("Backend" is kept for Triton's backends, which may run one of these engines.)
``zoo eval --engine``, ``zoo generate --local``, the Triton Python models, ``zoo bench``'s
in-process targets and its LitServe peer all get their runner from :func:`make_runner`, so
every path shares one pre/post-processing.

Building an ONNX Runtime or OpenVINO runner imports no torch (the Triton stubs rely on it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from export.artifacts import ENGINE_NAME, ONNX_NAME, check_onnx_artifact, read_meta, version_dir
from export.signature import check_arity
from export.tensorrt_engine import load_engine, require_tensorrt
from zoo.errors import (
    ArtifactNotFoundError,
    ExportGateError,
    InvalidInputError,
    InvalidNameError,
    MissingDependencyError,
)
from zoo.registry import get_spec, spec_of_module
from zoo.runners import Runner, torch_runner

if TYPE_CHECKING:
    from torch import nn

# ONNX Runtime's type strings → NumPy dtypes, for the graphs export writes.
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


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
        check_arity(self.entry, inputs)
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

        check_arity(self.entry, inputs)
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


@dataclass(frozen=True)
class RunnerOptions:
    """What :func:`make_runner` was asked for, handed to an engine's builder."""

    model_name: str
    entry: str  # entry point name (the default one resolved)
    module: nn.Module | None  # weights of the torch engines (None: the pulled trained ones)
    artifact: Path | None  # the exported file (None: the model repository's)
    threads: int | None  # intra-op threads; None = the library's default
    device: str  # "cpu", or "cuda"/"cuda:N" on a GPU host
    half: bool  # torch: float16 weights and inputs (tensor cores)
    channels_last: bool | None  # torch: NHWC in memory; None: with half
    compile_mode: str | None  # compile: torch.compile's mode (None: dynamic batches)


@dataclass(frozen=True)
class RunnerEngine:
    """One engine a runner can run on: its name, the file it runs, how to build the runner."""

    name: str
    artifact: str | None  # file it runs from a repository version folder; None: torch weights
    build: Callable[[RunnerOptions], Runner]

    def artifact_in(self, version_dir: Path) -> Path | None:
        """Where this engine's file lies in a repository version folder (None: torch)."""
        return None if self.artifact is None else Path(version_dir) / self.artifact


def _torch(o: RunnerOptions, *, compile: bool = False) -> Runner:
    module = o.module
    if module is None:
        from zoo.hub import load

        module = load(o.model_name)
    return torch_runner(
        o.model_name,
        o.entry,
        module=module,
        device=o.device,
        compile=compile,
        threads=o.threads,
        half=o.half,
        channels_last=o.channels_last,
        compile_mode=o.compile_mode,
    )


def _default_artifact(o: RunnerOptions, name: str) -> Path:
    return Path(o.artifact) if o.artifact else version_dir(o.model_name, o.entry) / name


def _onnxruntime(o: RunnerOptions) -> Runner:
    path = _default_artifact(o, ONNX_NAME)
    return OrtRunner(o.model_name, o.entry, path, threads=o.threads, device=o.device)


def _openvino(o: RunnerOptions, *, precision: str = "f32") -> Runner:
    from export.openvino import OpenVinoRunner

    path = _default_artifact(o, ONNX_NAME)
    return OpenVinoRunner(o.model_name, o.entry, path, threads=o.threads, precision=precision)


def _tensorrt(o: RunnerOptions) -> Runner:
    path = _default_artifact(o, ENGINE_NAME)
    if not path.is_file():
        raise ArtifactNotFoundError(
            f"no TensorRT engine of {o.model_name} at {path}. "
            f"Run `zoo export {o.model_name} --format tensorrt` first (on a GPU host)."
        )
    device = "cuda" if o.device == "cpu" else o.device
    return TensorRTRunner(o.model_name, o.entry, path, device=device)


#: Every engine a runner runs on, by name: the one list ``--engine`` options accept.
ENGINES: dict[str, RunnerEngine] = {
    e.name: e
    for e in (
        RunnerEngine("torch", None, _torch),
        RunnerEngine("compile", None, lambda o: _torch(o, compile=True)),
        RunnerEngine("onnxruntime", ONNX_NAME, _onnxruntime),
        RunnerEngine("openvino", ONNX_NAME, _openvino),
        # bfloat16 on CPUs that have it: a candidate of `zoo optimize`, served only if it gates.
        RunnerEngine("openvino-bf16", ONNX_NAME, lambda o: _openvino(o, precision="bf16")),
        RunnerEngine("tensorrt", ENGINE_NAME, _tensorrt),
    )
}


def runner_engine(name: str) -> RunnerEngine:
    """The engine called ``name``; :class:`InvalidNameError` listing them otherwise."""
    try:
        return ENGINES[name]
    except KeyError:
        raise InvalidNameError(
            f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}."
        ) from None


def make_runner(
    engine: str,
    model_name: str,
    entry: str | None = None,
    *,
    module: nn.Module | None = None,
    artifact: Path | None = None,
    threads: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str = "cpu",
    half: bool = False,
    channels_last: bool | None = None,
    compile_mode: str | None = None,
) -> Runner:
    """A runner of ``model_name``'s ``entry`` on ``engine`` (a name in :data:`ENGINES`).

    ``torch``/``compile`` run ``module`` (default: the pulled trained weights) eagerly or
    through ``torch.compile``, in float16 with ``half``, stored NHWC with ``channels_last``
    (default: as ``half``), compiled in ``compile_mode`` (``torch.compile``'s ``mode``:
    ``"reduce-overhead"`` replays CUDA graphs; ``compile`` only); ``onnxruntime``/``tensorrt`` run
    ``artifact`` (default: the model repository's ``model.onnx``/``model.plan`` for this entry
    point; ``openvino`` runs that ``model.onnx``, or the IR saved beside it). ``overrides``
    name the variant an artifact was exported from (its ``runner.entry`` is that variant's; a
    ``module`` brings its own config). ``device`` is where it runs (``"cuda"`` on a GPU host).
    Only the torch engines import torch.
    """
    chosen = runner_engine(engine)
    if compile_mode is not None and engine != "compile":
        raise InvalidInputError(f"compile_mode is an option of the compile engine, not {engine}.")
    if channels_last is not None and chosen.artifact is not None:
        raise InvalidInputError(f"channels_last is an option of the torch engines, not {engine}.")
    ep = get_spec(model_name).entry_point(entry)
    options = RunnerOptions(
        model_name, ep.name, module, artifact, threads, device, half, channels_last, compile_mode
    )
    runner = chosen.build(options)
    if chosen.artifact is None:
        return runner  # TorchRunner reads the variant's signature from the module's config
    spec = spec_of_module(model_name, module) if module is not None else get_spec(model_name)
    spec = spec.with_config(**(overrides or {}))
    if artifact is not None and Path(artifact).suffix == ".onnx":
        meta = read_meta(Path(artifact))
        if meta is not None and meta.get("overrides", {}) != spec.overrides:
            raise ExportGateError(
                f"{artifact} was exported with config overrides {meta.get('overrides', {})}, "
                f"not {spec.overrides}; rebuild it (`zoo repo build --set ...`)."
            )
    # The runner reads the default spec; a variant's graph has the variant's signature.
    runner.entry = spec.entry_point(runner.entry.name)
    return runner


def runner_factory(engine: str) -> Callable[[str, str], Runner]:
    """``(model, entry) → runner`` on ``engine``, the form :func:`zoo.evaluate.evaluate` takes.

    The name is checked now, before any evaluation starts.
    """
    runner_engine(engine)
    return lambda model_name, entry: make_runner(engine, model_name, entry)
