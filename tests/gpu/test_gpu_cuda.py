"""CUDA tests (``pytest -m gpu``): they run where torch sees a GPU and skip everywhere else.

``scripts/gpu_check.py`` runs them on the device machine. Each compares the GPU path with the
CPU float32 reference under the export gates' bounds (:mod:`export.gates`): float32 with TF32
off must meet the float32 bound, float16 and channels_last the float16 bound. Tests taking
``model_name`` run for every registered model (``tests/conftest.py`` parametrizes them).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from export.gates import FP16_REL_L2, FP32_REL_L2, check_runner
from zoo.registry import create_model, get_spec
from zoo.runners import TorchRunner

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(scope="module")
def random_model() -> Callable[[str], torch.nn.Module]:
    """``get(name)``: seeded random weights, one module per name (kept on the CPU)."""
    cache: dict[str, torch.nn.Module] = {}

    def get(name: str) -> torch.nn.Module:
        if name not in cache:
            torch.manual_seed(0)
            cache[name] = create_model(name).eval()
        return cache[name]

    return get


@pytest.fixture
def no_tf32() -> Iterator[None]:
    """Full float32 on the GPU (TF32 convolutions and matmuls off) for the test's duration."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _gpu_runner(name: str, module: torch.nn.Module, entry: str, **options: object) -> TorchRunner:
    # The reference keeps the CPU copy: the runner moves (and casts) the module it is given.
    import copy

    return TorchRunner(name, copy.deepcopy(module), entry, device="cuda", **options)  # type: ignore[arg-type]


def test_torch_on_cuda_matches_cpu_in_float32(
    model_name: str, random_model: Callable[[str], torch.nn.Module], no_tf32: None
) -> None:
    module = random_model(model_name)
    for ep in get_spec(model_name).entry_points:
        report = check_runner(
            module, ep, _gpu_runner(model_name, module, ep.name), n=16, engine="torch-cuda"
        )
        assert report.passed and report.bound == FP32_REL_L2, (ep.name, report.summary())


def test_fp16_channels_last_on_cuda_within_the_fp16_gate(
    model_name: str, random_model: Callable[[str], torch.nn.Module]
) -> None:
    module = random_model(model_name)
    for ep in get_spec(model_name).entry_points:
        for options in ({"half": True}, {"half": True, "channels_last": True}):
            runner = _gpu_runner(model_name, module, ep.name, **options)
            report = check_runner(module, ep, runner, n=16, fp16=True, engine="torch-cuda")
            assert report.passed and report.bound == FP16_REL_L2, (
                ep.name,
                options,
                report.summary(),
            )


@pytest.mark.parametrize("mode", [None, "reduce-overhead"])
def test_torch_compile_on_cuda_matches_cpu(
    mode: str | None, random_model: Callable[[str], torch.nn.Module], no_tf32: None
) -> None:
    module = random_model("dcgan-mnist")
    ep = get_spec("dcgan-mnist").entry_point()
    runner = _gpu_runner("dcgan-mnist", module, ep.name, compile=True, compile_mode=mode)
    for _ in range(2):  # CUDA graphs: recorded on the first calls, replayed after
        report = check_runner(module, ep, runner, n=16, engine="compile-cuda")
        assert report.passed, report.summary()


# ---------------------------------------------------------------------------------------------
# Triton's Python backend running the torch runner on the GPU.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpu_triton(
    tmp_path_factory: pytest.TempPathFactory, random_model: Callable[[str], torch.nn.Module]
) -> Iterator[object]:
    """The embedded Triton serving dcgan-mnist with the torch runner on ``cuda``."""
    from serving.server.repository import RepositoryOptions, build_repository
    from serving.server.triton import ServerConfig, TritonServer

    root = tmp_path_factory.mktemp("gpu_repository")
    options = RepositoryOptions(engine="torch", device="cuda", response_cache=False)
    build_repository(["dcgan-mnist"], out_dir=root, options=options,
                     modules={"dcgan-mnist": random_model("dcgan-mnist")})  # fmt: skip
    config = ServerConfig.on_free_ports(
        root,
        cache_size=0,
        exit_timeout_secs=3,
    )
    log = tmp_path_factory.mktemp("logs") / "tritonserver.log"
    with TritonServer(config, log_file=log) as server:
        yield server


def _cpu_images(module: torch.nn.Module, seeds: np.ndarray) -> np.ndarray:
    from serving.server.wire import graph_inputs, wire_results

    ep = get_spec("dcgan-mnist").entry_point()
    runner = TorchRunner("dcgan-mnist", module, ep.name)
    (images,) = wire_results(ep, runner(*graph_inputs(ep, {"seed": seeds})))
    return images


def test_triton_serves_the_torch_runner_on_the_gpu(
    gpu_triton: object, random_model: Callable[[str], torch.nn.Module]
) -> None:
    from serving.client import ZooClient

    config = (Path(gpu_triton.config.model_repository) / "dcgan-mnist" / "config.pbtxt").read_text()  # type: ignore[attr-defined]
    assert 'key: "zoo_device"' in config and 'string_value: "cuda"' in config
    seeds = np.arange(100, 164, dtype=np.int64)
    with ZooClient(gpu_triton.grpc_url, protocol="grpc") as client:  # type: ignore[attr-defined]
        served = client.generate("dcgan-mnist", seeds)
    expected = _cpu_images(random_model("dcgan-mnist"), seeds)
    assert served.shape == expected.shape == (64, 32, 32, 1)
    assert int(np.abs(served.astype(int) - expected.astype(int)).max()) <= 1  # uint8 gate
    # The stub holds a CUDA context when it runs on the GPU: NVML lists its process there.
    listing = torch.cuda.list_gpu_processes()  # a message, not an error, when NVML is missing
    pids = {int(m) for m in re.findall(r"process\s+(\d+) uses", listing)}
    if not pids:
        pytest.skip(
            f"served correctly; NVML lists no GPU processes here to show where ({listing!r})"
        )
    stubs = {int(p.name) for p in Path("/proc").glob("[0-9]*") if _is_stub(p)}
    assert stubs & pids, (stubs, listing)


def _is_stub(proc: Path) -> bool:
    try:
        return "triton_python_backend_stub" in (proc / "cmdline").read_text()
    except OSError:
        return False


def test_cuda_shared_memory_through_the_sdk(gpu_triton: object) -> None:
    from serving.client import ZooClient

    if "shared_memory" not in inspect.signature(ZooClient).parameters:
        pytest.skip("the SDK has no shared_memory option yet (the client branch adds it)")
    seeds = np.arange(7, 71, dtype=np.int64)
    url = gpu_triton.grpc_url  # type: ignore[attr-defined]
    with ZooClient(url, protocol="grpc") as plain:
        expected = plain.generate("dcgan-mnist", seeds)
    with ZooClient(url, protocol="grpc", shared_memory="cuda") as shm:  # type: ignore[call-arg]
        got = shm.generate("dcgan-mnist", seeds)
    np.testing.assert_array_equal(got, expected)


def test_matmul_peak_on_cuda_times_each_product_with_cuda_events() -> None:
    from serving.apps.bench.flops import measure_matmul_peak

    fp16 = measure_matmul_peak(size=4096, device="cuda", dtype="float16")
    fp32 = measure_matmul_peak(size=4096, device="cuda", dtype="float32")
    assert fp16.repetitions == fp32.repetitions == 10
    assert fp16.gflops >= fp16.median_gflops > 0 and fp32.gflops > 0
    assert fp16.gflops > fp32.gflops or fp32.tf32  # tensor cores, unless TF32 lets fp32 use them
    d = fp16.to_dict()
    assert d["device"] == "cuda" and d["dtype"] == "float16" and d["tf32"] is None
    assert d["method"] == "torch.mm float16 4096x4096x4096, random data, CUDA events, best of 10"
