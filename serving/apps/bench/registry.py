"""Every target ``zoo bench`` measures, by name: :data:`BENCH_TARGETS` (like the runners'
:data:`export.runners.ENGINES`).

A :class:`BenchTarget` says what a target is (its name and one line about it), what it needs
(the model in this process, the run's ONNX export, a server, the ``genzoo`` extra that installs
it) and how to open it from a run's :class:`Resources`. ``--targets`` validation, its help
text, the cell plan, what a run builds and starts, and the report's in-process marks all read
this table; adding a target is one row here.

- in-process: one row per runner engine of :data:`export.runners.ENGINES` (``torch``,
  ``compile``, ``onnxruntime``, ``openvino``, ``openvino-bf16``), with the wire conversion
  Triton's backend does; the ones reading an ONNX file (ONNX Runtime, OpenVINO) read the run's
  export. Not ``tensorrt``, whose engine is built on a GPU host (bench it there, behind Triton).
  Then the torch runner's variants the GPU check measures (``torch-cl``, ``torch-fp16``,
  ``torch-fp16-cl``, ``compile-graphs``: NHWC, float16, CUDA graphs), on the run's device;
- ``triton-http``, ``triton-grpc``, ``triton-shm``, ``triton-cuda-shm``: the SDK against the
  embedded Triton (or ``--url``); the ``-shm`` ones are gRPC with tensors in registered
  ``/dev/shm`` regions or CUDA memory;
- ``litserve`` and ``triton-perf``: the peers of :mod:`serving.apps.bench.peers`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from export.runners import ENGINES as RUNNER_ENGINES
from zoo.errors import InvalidNameError
from zoo.registry import EntryPoint, get_spec, triton_model_name

if TYPE_CHECKING:
    from torch import nn

    from serving.apps.bench.peers import LitServeProcess
    from serving.apps.bench.settings import BenchSettings
    from serving.apps.bench.targets import Target
    from serving.server.triton import TritonServer

#: The servers a target may load.
Server = Literal["triton", "litserve"]
#: Seconds a server may take to start, for a run with a deadline.
SERVER_START_S = 60.0


@dataclass
class Resources:
    """What a run's targets are made from: its settings, model and lazily started servers."""

    settings: BenchSettings  # the run
    work: Path  # folder for the repository it builds and the servers' logs
    module: nn.Module | None = None  # the model in this process (None: Triton at --url only)
    repository: Path | None = None  # the model repository the servers and exports read
    triton: TritonServer | None = None  # the embedded Triton, once started
    litserve_process: LitServeProcess | None = None  # the LitServe peer, once started

    @property
    def entry(self) -> EntryPoint:
        """The entry point benchmarked (of the variant ``--set`` describes)."""
        s = self.settings
        return get_spec(s.model, **s.overrides).entry_point(s.entry)

    @property
    def triton_model(self) -> str:
        """The Triton model serving :attr:`entry`."""
        return triton_model_name(self.settings.model, self.entry.name)

    @property
    def onnx(self) -> Path | None:
        """The run's ONNX export of :attr:`entry` (``None`` while there is no repository)."""
        if self.repository is None:
            return None
        return self.repository / self.triton_model / "1" / "model.onnx"

    def triton_urls(self) -> tuple[str, str, TritonServer | None]:
        """(HTTP url, gRPC url, server or None) of the Triton to use, started if needed."""
        s = self.settings
        if s.url is not None:
            assert s.grpc_url is not None
            return s.url, s.grpc_url, None
        if self.triton is None:
            from serving.server.triton import ServerConfig, TritonServer

            assert self.repository is not None
            config = ServerConfig.on_free_ports(
                self.repository, cache_size=0, load_models=tuple(triton_names(s.model))
            )
            server = TritonServer(config, log_file=self.work / "tritonserver.log")
            server.start(timeout=300)
            self.triton = server
        return self.triton.http_url, self.triton.grpc_url, self.triton

    def litserve(self) -> LitServeProcess:
        """The LitServe peer serving the run's ONNX export, started if needed."""
        if self.litserve_process is None:
            from serving.apps.bench.peers import LitServeProcess

            s, onnx = self.settings, self.onnx
            assert onnx is not None, "litserve reads the export: the run built a repository"
            self.litserve_process = LitServeProcess(
                s.model,
                self.entry.name,
                onnx,
                replace(s.litserve, threads=s.threads),
                log_file=self.work / "litserve.log",
            ).start()
        return self.litserve_process

    def stop(self) -> None:
        """Stop whatever was started."""
        if self.triton is not None:
            self.triton.stop()
            self.triton = None
        if self.litserve_process is not None:
            self.litserve_process.stop()
            self.litserve_process = None


def triton_names(model: str) -> list[str]:
    """The Triton models serving every entry point of ``model``."""
    return [triton_model_name(model, e.name) for e in get_spec(model).entry_points]


@dataclass(frozen=True)
class BenchTarget:
    """One target ``zoo bench`` can measure: what it is, what it needs, how to open it."""

    name: str  # its --targets name, and the target column of the report
    about: str  # one line for --targets' help ("" where the name says it all)
    extra: str  # the genzoo extra that installs what it needs (pip install 'genzoo[extra]')
    open: Callable[[Resources], Target]  # the target, on a run's resources
    runner: str | None = None  # in-process: its runner engine (export.runners.ENGINES)
    server: Server | None = None  # the server it loads (Triton: embedded, or the one at --url)
    reads_export: bool = False  # reads the run's ONNX export, so the run builds a repository
    default: bool = False  # measured when --targets is not given
    start_s: float = 10.0  # seconds opening it may take (a compile, a server start): a run
    # with a deadline does not start it with less left

    @property
    def in_process(self) -> bool:
        """Whether it runs in the bench process: one caller, every core in the graph."""
        return self.runner is not None

    def needs_repository(self, url: str | None) -> bool:
        """Whether a run with Triton at ``url`` (None: embedded) builds a repository for it."""
        return self.reads_export or (self.server == "triton" and url is None)

    def needs_model(self, url: str | None) -> bool:
        """Whether it needs the model in this process: everything but a Triton at ``--url``."""
        return not (self.server == "triton" and url is not None)


def _runner(
    name: str, engine: str, *, reads_export: bool, **options: Any
) -> Callable[[Resources], Target]:
    """How to open in-process target ``name``: runner ``engine`` on the run's device (on the
    run's export if it ``reads_export``, else on a copy of the module), with ``options``
    (``half``, ``channels_last``, ``compile_mode``: :func:`export.runners.make_runner`'s)."""

    def open_runner(r: Resources) -> Target:
        from export.runners import make_runner
        from serving.apps.bench.targets import InProcessTarget

        assert r.module is not None, "an in-process target always loads the model (needs_model)"
        s = r.settings
        # A copy: a torch runner moves its module (device, dtype, memory format) in place.
        module = r.module if reads_export else copy.deepcopy(r.module)
        runner = make_runner(
            engine,
            s.model,
            r.entry.name,
            module=module,
            artifact=r.onnx if reads_export else None,
            threads=s.threads,
            device=s.device,
            **options,
        )
        return InProcessTarget(name, runner)

    return open_runner


def _in_process(
    name: str,
    extra: str,
    *,
    runner: str | None = None,
    about: str = "",
    default: bool = False,
    **options: Any,
) -> BenchTarget:
    """In-process target ``name``: runner engine ``runner`` (default: ``name``, a name of
    :data:`export.runners.ENGINES`) with ``options`` (:func:`_runner`)."""
    engine = runner or name
    reads_export = RUNNER_ENGINES[engine].artifact is not None
    return BenchTarget(
        name,
        about,
        extra,
        _runner(name, engine, reads_export=reads_export, **options),
        runner=engine,
        reads_export=reads_export,
        default=default,
        start_s=90.0 if engine == "compile" else 10.0,
    )


def _triton(
    name: str, protocol: str, shared_memory: str | None = None
) -> Callable[[Resources], Target]:
    """How to open the SDK's target over ``protocol`` (through ``shared_memory`` if given)."""

    def open_triton(r: Resources) -> Target:
        from serving.apps.bench.targets import TritonTarget

        http_url, grpc_url, server = r.triton_urls()
        return TritonTarget(
            name,
            protocol,
            http_url if protocol == "http" else grpc_url,
            r.triton_model,
            stats_url=http_url,
            server=server,
            shared_memory=shared_memory,
            admin_key=r.settings.admin_key,
        )

    return open_triton


def _served(
    name: str,
    protocol: str,
    shared_memory: str | None = None,
    *,
    about: str = "",
    extra: str = "client",
    default: bool = False,
) -> BenchTarget:
    """The SDK's target ``name`` over ``protocol`` (through ``shared_memory`` if given)."""
    return BenchTarget(
        name,
        about,
        extra,
        _triton(name, protocol, shared_memory),
        server="triton",
        default=default,
        start_s=SERVER_START_S,
    )


def _open_litserve(r: Resources) -> Target:
    from serving.apps.bench.peers import LitServeTarget

    return LitServeTarget(r.litserve())


def _open_perf_analyzer(r: Resources) -> Target:
    from serving.apps.bench.peers import PerfAnalyzerTarget

    http_url, grpc_url, server = r.triton_urls()
    return PerfAnalyzerTarget(
        grpc_url, r.triton_model, stats_url=http_url, server=server, admin_key=r.settings.admin_key
    )


#: Every target ``zoo bench`` knows (its ``--targets`` names), in report order.
BENCH_TARGETS: dict[str, BenchTarget] = {
    t.name: t
    for t in (
        _in_process("torch", "torch", default=True),
        _in_process("compile", "torch"),
        _in_process("onnxruntime", "export", default=True),
        _in_process("openvino", "openvino"),
        _in_process("openvino-bf16", "openvino"),
        _in_process("torch-cl", "torch", runner="torch", about="NHWC", channels_last=True),
        _in_process(
            "torch-fp16", "torch", runner="torch", about="float16, GPU", half=True,
            channels_last=False,
        ),
        _in_process("torch-fp16-cl", "torch", runner="torch", about="float16 NHWC, GPU", half=True),
        _in_process(
            "compile-graphs", "torch", runner="compile", about="CUDA graphs, float16 NHWC, GPU",
            half=True, compile_mode="reduce-overhead",
        ),
        _served("triton-http", "http", default=True),
        _served("triton-grpc", "grpc", default=True),
        _served("triton-shm", "grpc", "system", about="gRPC + system shared memory"),
        _served(
            "triton-cuda-shm", "grpc", "cuda", about="gRPC + CUDA shared memory, GPU",
            extra="cuda-shm",
        ),
        BenchTarget(
            "litserve", "", "bench", _open_litserve, server="litserve", reads_export=True,
            default=True, start_s=SERVER_START_S,
        ),
        BenchTarget(
            "triton-perf", "perf_analyzer as the load", "client", _open_perf_analyzer,
            server="triton", start_s=SERVER_START_S,
        ),
    )
}  # fmt: skip

#: Targets run when none are named.
DEFAULT_TARGETS = tuple(name for name, t in BENCH_TARGETS.items() if t.default)


def check_targets(names: tuple[str, ...]) -> None:
    """Refuse an empty list or unknown names, listing the targets there are."""
    unknown = [n for n in names if n not in BENCH_TARGETS]
    if unknown or not names:
        raise InvalidNameError(
            f"unknown target(s) {', '.join(unknown) or '(none)'}; choose from {targets_text()}."
        )


def is_in_process(name: str) -> bool:
    """Whether ``name`` is an in-process target (a name no longer registered is not)."""
    target = BENCH_TARGETS.get(name)
    return target is not None and target.in_process


def targets_text() -> str:
    """``torch, compile, …, triton-perf``: the names, in report order."""
    return ", ".join(BENCH_TARGETS)


def targets_help() -> str:
    """The names with what the less obvious ones are, for ``--targets``' help."""
    return ", ".join(f"{t.name} ({t.about})" if t.about else t.name for t in BENCH_TARGETS.values())
