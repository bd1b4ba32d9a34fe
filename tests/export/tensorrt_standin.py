"""A stand-in for the part of TensorRT's Python API that ``export/tensorrt.py`` calls.

TensorRT's builder cannot be installed or run on the CPU machines this project is tested on,
so its logic (profile shapes, flags, precision constraints, the timing cache, the fp16 gate and
its bisection, manifest-driven rebuilds) is exercised against this instead, installed as
``sys.modules["tensorrt"]`` by a test. It follows the signatures of ``tensorrt-stubs`` 10.13
(which mypy checks the real calls against) for what it implements, and nothing more:

- the network comes from the real ONNX graph: one layer per ONNX node, named after it, with
  its output types from ONNX shape inference, and the graph inputs with ``-1`` for the batch;
- an "engine" is JSON of what the build was asked for (profile shapes, flags, the layers held
  in float32, strong typing, workspace) behind a magic line; nothing is compiled or run;
- the timing cache counts the builds that went through it.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import numpy as np

__version__ = "10.13.0-standin"
ENGINE_MAGIC = b"TENSORRT-STANDIN\n"


class DataType(enum.IntEnum):
    """``tensorrt.DataType``: the members used here."""

    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    INT64 = 8


float32, float16, int32, int64, uint8 = (
    DataType.FLOAT,
    DataType.HALF,
    DataType.INT32,
    DataType.INT64,
    DataType.UINT8,
)
_ONNX_TYPES = {
    1: DataType.FLOAT,
    10: DataType.HALF,
    6: DataType.INT32,
    7: DataType.INT64,
    2: DataType.UINT8,
    9: DataType.BOOL,
}
_NP_TYPES = {
    DataType.FLOAT: np.float32,
    DataType.HALF: np.float16,
    DataType.INT32: np.int32,
    DataType.INT64: np.int64,
    DataType.UINT8: np.uint8,
    DataType.BOOL: np.bool_,
}


def nptype(trt_type: DataType) -> type:
    """``tensorrt.nptype``: the NumPy type of a TensorRT type."""
    return _NP_TYPES[trt_type]


class NetworkDefinitionCreationFlag(enum.IntEnum):
    """``tensorrt.NetworkDefinitionCreationFlag`` (a bit position of ``create_network``)."""

    STRONGLY_TYPED = 1


class BuilderFlag(enum.IntEnum):
    """``tensorrt.BuilderFlag``: the members used here."""

    FP16 = 0
    OBEY_PRECISION_CONSTRAINTS = 9


class MemoryPoolType(enum.IntEnum):
    """``tensorrt.MemoryPoolType``: the members used here."""

    WORKSPACE = 0


class TensorIOMode(enum.IntEnum):
    """``tensorrt.TensorIOMode``."""

    NONE = 0
    INPUT = 1
    OUTPUT = 2


class Logger:
    """``tensorrt.Logger(min_severity)``."""

    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = range(5)

    def __init__(self, min_severity: int = 2) -> None:
        self.min_severity = min_severity


class Dims:
    """``tensorrt.Dims``: behaves like a tuple of ints; slicing gives a tuple."""

    def __init__(self, shape: list[int] | tuple[int, ...] = ()) -> None:
        self._dims = tuple(int(d) for d in shape)

    def __getitem__(self, index: Any) -> Any:
        return self._dims[index]

    def __len__(self) -> int:
        return len(self._dims)

    def __eq__(self, other: object) -> bool:
        return tuple(other) == self._dims if isinstance(other, list | tuple | Dims) else False  # type: ignore[arg-type]

    def __hash__(self) -> int:
        return hash(self._dims)


class ITensor:
    """A network tensor: name, type, shape."""

    def __init__(self, name: str, dtype: DataType, shape: Dims) -> None:
        self.name = name
        self.dtype = dtype
        self.shape = shape


class ILayer:
    """A network layer: its outputs, precision and output types (as constrained)."""

    def __init__(self, name: str, outputs: list[ITensor]) -> None:
        self.name = name
        self._outputs = outputs
        self._precision = DataType.FLOAT
        self.precision_is_set = False
        self.output_types: dict[int, DataType] = {}

    @property
    def precision(self) -> DataType:
        return self._precision

    @precision.setter
    def precision(self, value: DataType) -> None:
        self._precision = value
        self.precision_is_set = True

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_output(self, index: int) -> ITensor:
        return self._outputs[index]

    def set_output_type(self, index: int, dtype: DataType) -> None:
        self.output_types[index] = dtype


class INetworkDefinition:
    """What ``OnnxParser.parse`` fills in."""

    def __init__(self, strongly_typed: bool) -> None:
        self.strongly_typed = strongly_typed
        self.layers: list[ILayer] = []
        self.inputs: list[ITensor] = []

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def num_inputs(self) -> int:
        return len(self.inputs)

    def get_layer(self, index: int) -> ILayer:
        return self.layers[index]

    def get_input(self, index: int) -> ITensor:
        return self.inputs[index]


class OnnxParser:
    """``tensorrt.OnnxParser(network, logger)``: one layer per ONNX node of the real graph."""

    def __init__(self, network: INetworkDefinition, logger: Logger) -> None:
        self.network = network
        self.errors: list[str] = []

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    def get_error(self, index: int) -> str:
        return self.errors[index]

    def parse(self, model: bytes, path: str | None = None) -> bool:
        import onnx

        try:
            graph = onnx.shape_inference.infer_shapes(onnx.load_from_string(model)).graph
        except Exception as e:
            self.errors.append(f"{type(e).__name__}: {e}")
            return False
        types = {
            v.name: v.type.tensor_type.elem_type
            for v in [*graph.value_info, *graph.input, *graph.output]
        }
        weights = {i.name for i in graph.initializer}
        for v in graph.input:
            if v.name in weights:
                continue
            dims = [
                d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim
            ]
            self.network.inputs.append(ITensor(v.name, _ONNX_TYPES[types[v.name]], Dims(dims)))
        for i, node in enumerate(graph.node):
            outs = [
                ITensor(o, _ONNX_TYPES.get(types.get(o, 1), DataType.FLOAT), Dims())
                for o in node.output
            ]
            self.network.layers.append(ILayer(node.name or f"{node.op_type}_{i}", outs))
        return True


class IOptimizationProfile:
    """Min/opt/max shapes per input."""

    def __init__(self) -> None:
        self.shapes: dict[str, tuple[Dims, Dims, Dims]] = {}

    def set_shape(self, input: str, min: Dims, opt: Dims, max: Dims) -> None:
        for dims in (min, opt, max):
            if not isinstance(dims, Dims):
                raise TypeError(f"set_shape takes Dims, got {type(dims).__name__}")
        self.shapes[input] = (min, opt, max)


class ITimingCache:
    """Counts the builds that used it."""

    def __init__(self, builds: int) -> None:
        self.builds = builds

    def serialize(self) -> bytes:
        return f"standin-timing-cache {self.builds}".encode()


class IBuilderConfig:
    """What a build is configured with."""

    def __init__(self) -> None:
        self.flags: set[BuilderFlag] = set()
        self.pools: dict[MemoryPoolType, int] = {}
        self.profiles: list[IOptimizationProfile] = []
        self.cache: ITimingCache | None = None

    def set_memory_pool_limit(self, pool: MemoryPoolType, pool_size: int) -> None:
        self.pools[pool] = pool_size

    def add_optimization_profile(self, profile: IOptimizationProfile) -> int:
        self.profiles.append(profile)
        return len(self.profiles) - 1

    def set_flag(self, flag: BuilderFlag) -> None:
        self.flags.add(flag)

    def create_timing_cache(self, serialized_timing_cache: bytes) -> ITimingCache:
        text = bytes(serialized_timing_cache).decode()
        return ITimingCache(int(text.split()[1]) if text else 0)

    def set_timing_cache(self, cache: ITimingCache, ignore_mismatch: bool) -> bool:
        self.cache = cache
        return True

    def get_timing_cache(self) -> ITimingCache:
        assert self.cache is not None, "no timing cache was set"
        return self.cache


class Builder:
    """``tensorrt.Builder(logger)``."""

    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        return INetworkDefinition(
            bool(flags & 1 << int(NetworkDefinitionCreationFlag.STRONGLY_TYPED))
        )

    def create_builder_config(self) -> IBuilderConfig:
        return IBuilderConfig()

    def create_optimization_profile(self) -> IOptimizationProfile:
        return IOptimizationProfile()

    def build_serialized_network(
        self, network: INetworkDefinition, config: IBuilderConfig
    ) -> bytes:
        if config.cache is not None:
            config.cache.builds += 1
        kept = [
            layer.name
            for layer in network.layers
            if layer.precision_is_set
            and layer.precision == DataType.FLOAT
            and all(t == DataType.FLOAT for t in layer.output_types.values())
        ]
        plan = {
            "strongly_typed": network.strongly_typed,
            "flags": sorted(f.name for f in config.flags),
            "workspace": config.pools.get(MemoryPoolType.WORKSPACE),
            "profiles": [
                {name: [list(d) for d in dims] for name, dims in p.shapes.items()}
                for p in config.profiles
            ],
            "fp32_layers": kept,
        }
        return ENGINE_MAGIC + json.dumps(plan).encode()


class ICudaEngine:
    """A deserialised stand-in engine: the build's record (``plan``)."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan


class Runtime:
    """``tensorrt.Runtime(logger)``."""

    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, serialized_engine: bytes) -> ICudaEngine | None:
        data = bytes(serialized_engine)
        if not data.startswith(ENGINE_MAGIC):
            return None
        return ICudaEngine(json.loads(data[len(ENGINE_MAGIC) :]))


def read_plan(engine_bytes: bytes) -> dict[str, Any]:
    """The record of a stand-in engine file's build."""
    assert engine_bytes.startswith(ENGINE_MAGIC), "not an engine built by the stand-in"
    return dict(json.loads(engine_bytes[len(ENGINE_MAGIC) :]))
