"""TensorRT engines: build one from an ONNX graph, record what it was built for, load it.

An engine is built from an exported ONNX graph with the TensorRT Python API (imported lazily:
``pip install 'genzoo[tensorrt]'`` on a CUDA host). It has one optimisation profile over the
batch axis (min/opt/max), a persistent timing cache (:func:`default_timing_cache`) so rebuilds
take seconds, and a manifest (``engine.json``) recording what it was built for: TensorRT, CUDA
and driver versions, GPU name and compute capability, the ONNX file's sha256 and the build
options. :func:`load_engine` (what :class:`export.runners.TensorRTRunner` runs) compares the
manifest with the host (:func:`stale_reasons`) and rebuilds an engine that does not match
instead of failing obscurely at deserialisation.

This module builds and loads one engine; :mod:`export.tensorrt` is the export pipeline above
it (export ONNX, build, run the parity gate, fall back to float32 layer by layer for fp16).

TensorRT is not installable on the CPU machines this project is developed on, so this module
has not run against the real library. Its calls are type-checked against TensorRT 10.13's API
(``tensorrt-stubs``, which ``make setup`` puts on mypy's path), and its logic (profile shapes,
flags, precision constraints, the timing cache, rebuilds on a stale manifest) is tested against
a stand-in for that API (``tests/export/tensorrt_standin.py``).
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from export.artifacts import ENGINE_MANIFEST_NAME
from zoo.errors import ArtifactNotFoundError, ExportGateError, MissingDependencyError
from zoo.settings import zoo_home
from zoo.weights import sha256_file, write_atomic

if TYPE_CHECKING:
    # Typed against TensorRT's real API (``tensorrt-stubs``, TensorRT 10.13), so a misspelt
    # method or a wrong argument fails mypy on machines where TensorRT cannot be installed.
    import tensorrt as trt

log = logging.getLogger(__name__)


def require_tensorrt() -> ModuleType:
    """The ``tensorrt`` module, or :class:`MissingDependencyError` with the install hint.

    Only the real library counts: ``tensorrt-stubs`` (installed for type checking) leaves an
    importable but empty ``tensorrt`` namespace package, so the test is for its API.
    """
    try:
        import tensorrt
    except ImportError:
        raise MissingDependencyError("tensorrt", "tensorrt") from None
    if not hasattr(tensorrt, "Builder"):
        raise MissingDependencyError("tensorrt", "tensorrt")
    return tensorrt


def tensorrt_available() -> bool:
    """Whether the real TensorRT library can be imported here (see :func:`require_tensorrt`)."""
    try:
        require_tensorrt()
    except MissingDependencyError:
        return False
    return True


def default_timing_cache() -> Path:
    """The persistent timing cache shared by every build on this host."""
    return zoo_home() / "tensorrt" / "timing.cache"


@dataclass(frozen=True)
class BuildOptions:
    """How an engine is built; part of its manifest, so a change of options forces a rebuild."""

    min_batch: int = 1  # smallest batch of the optimisation profile
    opt_batch: int = 16  # batch TensorRT tunes kernels for
    max_batch: int = 64  # largest batch the engine accepts
    fp16: bool = False  # allow float16 kernels
    strongly_typed: bool = False  # take every type from the ONNX graph (fp16 export)
    workspace_mib: int = 1024  # builder scratch memory
    fp32_layers: tuple[str, ...] = ()  # layers kept in float32 under precision constraints

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.opt_batch <= self.max_batch:
            raise ValueError(
                f"batch profile must satisfy 1 <= min <= opt <= max, got "
                f"{self.min_batch}/{self.opt_batch}/{self.max_batch}."
            )
        if self.workspace_mib < 1:
            raise ValueError("workspace must be at least 1 MiB.")


@dataclass(frozen=True)
class EngineManifest:
    """What an engine was built for and from (``engine.json`` beside ``model.plan``)."""

    host: dict[str, str]  # tensorrt, cuda, driver, gpu, compute_capability
    onnx_file: str  # graph it was built from, relative to the engine's folder
    onnx_sha256: str  # digest of that graph when built
    options: BuildOptions  # build options
    engine_sha256: str = ""  # digest of model.plan
    parity: dict[str, Any] | None = None  # the gate's report on this engine
    built: str = ""  # ISO time of the build
    notes: list[str] = field(default_factory=list)  # e.g. why it was rebuilt

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d = asdict(self)
        d["options"]["fp32_layers"] = list(self.options.fp32_layers)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineManifest:
        """Inverse of :meth:`to_dict`."""
        opts = dict(data["options"])
        opts["fp32_layers"] = tuple(opts.get("fp32_layers", ()))
        return cls(**{**data, "options": BuildOptions(**opts)})


def read_manifest(engine_path: Path) -> EngineManifest | None:
    """The manifest beside ``engine_path``, or ``None`` when missing or unreadable."""
    path = Path(engine_path).with_name(ENGINE_MANIFEST_NAME)
    try:
        return EngineManifest.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _cuda_driver_version() -> str:
    """The CUDA driver API version (e.g. ``12040`` → ``12.4``), or ``"unknown"``."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
        v = ctypes.c_int()
        if lib.cuDriverGetVersion(ctypes.byref(v)) != 0:
            return "unknown"
        return f"{v.value // 1000}.{v.value % 1000 // 10}"
    except OSError:
        return "unknown"


def host_fingerprint(device: int = 0) -> dict[str, str]:
    """TensorRT, CUDA and driver versions and the GPU an engine here would be built for."""
    import torch

    require_tensorrt()
    import tensorrt as trt

    if not torch.cuda.is_available():
        raise ExportGateError("TensorRT engines need a CUDA GPU; none is visible here.")
    major, minor = torch.cuda.get_device_capability(device)
    return {
        "tensorrt": str(trt.__version__),
        "cuda": str(torch.version.cuda),
        "driver": _cuda_driver_version(),
        "gpu": torch.cuda.get_device_name(device),
        "compute_capability": f"{major}.{minor}",
    }


def stale_reasons(
    manifest: EngineManifest | None,
    host: dict[str, str],
    onnx_sha256: str | None,
    options: BuildOptions | None = None,
) -> list[str]:
    """Why an engine with ``manifest`` must not be loaded on ``host``; empty when it may.

    ``onnx_sha256`` is the current digest of the graph it was built from (``None`` when that
    graph is gone: the engine is then judged by the host alone); ``options`` the options asked
    for now (``None``: whatever it was built with).
    """
    if manifest is None:
        return ["no readable engine manifest"]
    reasons = [
        f"{key} {manifest.host.get(key)!r} != {value!r} here"
        for key, value in host.items()
        if manifest.host.get(key) != value
    ]
    if onnx_sha256 is not None and manifest.onnx_sha256 != onnx_sha256:
        reasons.append("the ONNX graph changed since the build")
    if options is not None and options != manifest.options:
        reasons.append("build options changed")
    return reasons


def _float_layers(network: trt.INetworkDefinition) -> list[str]:
    """Names of the layers whose outputs are floating point (the fp16 candidates)."""
    import tensorrt as trt

    names = []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        outs = [layer.get_output(j) for j in range(layer.num_outputs)]
        if outs and all(o.dtype in (trt.float32, trt.float16) for o in outs):
            names.append(layer.name)
    return names


def _parse(
    builder: trt.Builder, logger: trt.ILogger, onnx_path: Path, strongly_typed: bool
) -> tuple[trt.INetworkDefinition, trt.OnnxParser]:
    """The network TensorRT's ONNX parser builds from ``onnx_path`` (and the parser, which
    must outlive it)."""
    import tensorrt as trt

    flags = 0
    if strongly_typed:
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ExportGateError(f"TensorRT cannot parse {onnx_path}: {errors}")
    return network, parser


def network_layers(onnx_path: Path) -> list[str]:
    """The floating-point layer names of ``onnx_path`` as TensorRT parses it."""
    require_tensorrt()
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, _parser = _parse(builder, logger, onnx_path, strongly_typed=False)
    return _float_layers(network)


def build_engine(
    onnx_path: Path,
    engine_path: Path,
    options: BuildOptions,
    *,
    timing_cache: Path | None = None,
    notes: Sequence[str] = (),
) -> EngineManifest:
    """Build ``engine_path`` from ``onnx_path``; write the engine and its manifest atomically."""
    require_tensorrt()
    import tensorrt as trt

    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not onnx_path.is_file():
        raise ArtifactNotFoundError(f"no ONNX graph at {onnx_path} to build an engine from.")
    host = host_fingerprint()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, _parser = _parse(builder, logger, onnx_path, options.strongly_typed)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, options.workspace_mib << 20)

    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        rest = list(tensor.shape[1:])  # every axis but the batch, as exported
        low, opt, high = (
            trt.Dims([n, *rest]) for n in (options.min_batch, options.opt_batch, options.max_batch)
        )
        profile.set_shape(tensor.name, low, opt, high)
    config.add_optimization_profile(profile)

    if options.fp16 and not options.strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)
        if options.fp32_layers:
            config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
            keep = set(options.fp32_layers)
            for i in range(network.num_layers):
                layer = network.get_layer(i)
                if layer.name in keep:
                    layer.precision = trt.float32
                    for j in range(layer.num_outputs):
                        layer.set_output_type(j, trt.float32)

    cache_path = timing_cache or default_timing_cache()
    cache_bytes = cache_path.read_bytes() if cache_path.is_file() else b""
    cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(cache, ignore_mismatch=False)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ExportGateError(f"TensorRT could not build an engine from {onnx_path}.")
    engine_bytes = bytes(serialized)
    write_atomic(engine_path, lambda p: p.write_bytes(engine_bytes))
    updated = bytes(config.get_timing_cache().serialize())
    write_atomic(cache_path, lambda p: p.write_bytes(updated))

    try:  # relative when beside the engine, so the folder can move as a whole
        onnx_file = str(onnx_path.resolve().relative_to(engine_path.parent.resolve()))
    except ValueError:
        onnx_file = str(onnx_path.resolve())
    manifest = EngineManifest(
        host=host,
        onnx_file=onnx_file,
        onnx_sha256=sha256_file(onnx_path),
        options=options,
        engine_sha256=sha256_file(engine_path),
        built=datetime.now(UTC).isoformat(timespec="seconds"),
        notes=list(notes),
    )
    write_manifest(engine_path, manifest)
    return manifest


def write_manifest(engine_path: Path, manifest: EngineManifest) -> Path:
    """Write ``engine.json`` beside ``engine_path``."""
    path = Path(engine_path).with_name(ENGINE_MANIFEST_NAME)
    text = json.dumps(manifest.to_dict(), indent=2) + "\n"
    write_atomic(path, lambda p: p.write_text(text))
    return path


def _onnx_of(engine_path: Path, manifest: EngineManifest) -> Path:
    p = Path(manifest.onnx_file)
    return p if p.is_absolute() else Path(engine_path).parent / p


def load_engine(engine_path: Path, *, options: BuildOptions | None = None) -> trt.ICudaEngine:
    """Deserialise ``engine_path``, rebuilding it first when its manifest does not match.

    A rebuild uses the manifest's ONNX graph and build options (or ``options``); without a
    readable manifest or graph it raises :class:`ExportGateError` saying to re-export.
    """
    require_tensorrt()
    import tensorrt as trt

    engine_path = Path(engine_path)
    manifest = read_manifest(engine_path)
    onnx_path = _onnx_of(engine_path, manifest) if manifest else None
    current = sha256_file(onnx_path) if onnx_path and onnx_path.is_file() else None
    reasons = stale_reasons(manifest, host_fingerprint(), current, options)
    if not engine_path.is_file():
        reasons.append("no engine file")
    if reasons:
        if manifest is None or onnx_path is None or current is None:
            raise ExportGateError(
                f"{engine_path} cannot be used here ({'; '.join(reasons)}) and cannot be rebuilt "
                "(its ONNX graph is missing); run `zoo export NAME --format tensorrt`."
            )
        log.warning("rebuilding %s: %s", engine_path, "; ".join(reasons))
        build_engine(
            onnx_path,
            engine_path,
            options or manifest.options,
            notes=[f"rebuilt: {'; '.join(reasons)}"],
        )
    manifest = read_manifest(engine_path)
    if manifest and manifest.parity is not None and not manifest.parity.get("passed", False):
        raise ExportGateError(
            f"{engine_path} failed its parity gate and is not loaded; see {ENGINE_MANIFEST_NAME} "
            "and re-run `zoo export NAME --format tensorrt`."
        )
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(engine_path.read_bytes())
    if engine is None:
        raise ExportGateError(f"TensorRT could not load {engine_path}; re-export it.")
    return engine
