"""The bench's target registry: every name ``zoo bench`` takes, and what each one needs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
import typer

from export.runners import ENGINES as RUNNER_ENGINES
from serving.apps.bench.registry import (
    BENCH_TARGETS,
    DEFAULT_TARGETS,
    Resources,
    check_targets,
    is_in_process,
    targets_help,
)
from serving.apps.bench.results import Cell
from serving.apps.bench.run import OUT_OF_TIME, _measure_target
from serving.apps.bench.settings import BenchSettings
from zoo.cli.main import app
from zoo.errors import InvalidInputError, InvalidNameError
from zoo.registry import create_model
from zoo.runners import TorchRunner


def test_every_runner_engine_but_tensorrt_is_an_in_process_target() -> None:
    in_process = [name for name, t in BENCH_TARGETS.items() if t.in_process]
    # TensorRT's engine is built on a GPU host: the bench reaches it only through Triton.
    # Then the torch runner's variants the GPU check measures, each on a runner engine.
    variants = ["torch-cl", "torch-fp16", "torch-fp16-cl", "compile-graphs"]
    assert in_process == [name for name in RUNNER_ENGINES if name != "tensorrt"] + variants
    assert all(BENCH_TARGETS[name].runner == name for name in in_process[: -len(variants)])
    assert [BENCH_TARGETS[v].runner for v in variants] == ["torch", "torch", "torch", "compile"]
    assert not is_in_process("tensorrt") and not is_in_process("triton-grpc")


def test_defaults_and_help_come_from_the_registry() -> None:
    assert DEFAULT_TARGETS == ("torch", "onnxruntime", "triton-http", "triton-grpc", "litserve")
    assert BenchSettings(model="dcgan-mnist").targets == DEFAULT_TARGETS
    bench = typer.main.get_command(app).commands["bench"]  # type: ignore[attr-defined]
    option = next(p for p in bench.params if p.name == "targets")
    assert option.default == ",".join(DEFAULT_TARGETS)
    assert option.help == f"Comma-separated: {targets_help()}."
    text = targets_help()
    assert all(name in text for name in BENCH_TARGETS)
    assert "triton-shm (gRPC + system shared memory)" in text


def test_what_each_target_needs() -> None:
    url = "127.0.0.1:8000"
    for name in ("triton-http", "triton-grpc", "triton-shm", "triton-cuda-shm", "triton-perf"):
        t = BENCH_TARGETS[name]
        assert t.server == "triton"
        assert t.needs_repository(None) and not t.needs_repository(url)  # embedded or --url
        assert t.needs_model(None) and not t.needs_model(url)
    for name in ("onnxruntime", "openvino", "litserve"):  # they read the run's ONNX export
        assert BENCH_TARGETS[name].needs_repository(url)
    for name in ("torch", "compile", "torch-fp16-cl", "compile-graphs"):
        assert not BENCH_TARGETS[name].needs_repository(None)
        assert BENCH_TARGETS[name].needs_model(url)


def test_unknown_names_are_refused_with_the_list() -> None:
    with pytest.raises(InvalidNameError, match=r"unknown target\(s\) nope; choose from torch,"):
        check_targets(("torch", "nope"))
    with pytest.raises(InvalidNameError, match=r"\(none\)"):
        check_targets(())


def test_variant_targets_open_their_runner_options_on_a_copy(tmp_path: Path) -> None:
    """Each variant's runner has its precision, memory format and compile mode; the run's
    module is left as it was (float32, NCHW) for the targets after it."""
    torch.manual_seed(0)
    module = create_model("dcgan-mnist").eval()
    resources = Resources(BenchSettings(model="dcgan-mnist", threads=1), tmp_path, module)
    want = {  # target: (dtype, channels_last, compiled)
        "torch": (torch.float32, False, False),
        "torch-cl": (torch.float32, True, False),
        "torch-fp16": (torch.float16, False, False),
        "torch-fp16-cl": (torch.float16, True, False),
        "compile-graphs": (torch.float16, True, True),
    }
    for name, options in want.items():
        target = BENCH_TARGETS[name].open(resources)
        runner = target.runner  # type: ignore[attr-defined]
        assert target.name == name and isinstance(runner, TorchRunner)
        assert (runner.dtype, runner.channels_last, runner.compiled) == options
        assert runner.device == torch.device("cpu")  # the settings' device
        target.close()
    assert all(p.dtype == torch.float32 and p.is_contiguous() for p in module.parameters())


def test_settings_device_and_triton_runner() -> None:
    s = BenchSettings(
        model="dcgan-mnist", targets=("torch",), device="cuda:1", triton_runner="torch"
    )
    opts = s.repository_options()
    assert (opts.engine, opts.device, opts.half) == ("torch", "cuda:1", True)
    assert s.to_dict()["device"] == "cuda:1" and s.to_dict()["triton_runner"] == "torch"
    torch_only = ("torch", "triton-grpc")
    opts = BenchSettings(
        model="dcgan-mnist", targets=torch_only, triton_runner="torch"
    ).repository_options()
    assert (opts.engine, opts.device, opts.half) == ("torch", "cpu", False)
    assert BenchSettings(model="dcgan-mnist").repository_options().engine == "onnxruntime"
    with pytest.raises(InvalidInputError, match="device must be cpu or cuda"):
        BenchSettings(model="dcgan-mnist", device="tpu")
    with pytest.raises(InvalidNameError, match="triton_runner must be one of onnxruntime, torch"):
        BenchSettings(model="dcgan-mnist", triton_runner="tensorrt")
    with pytest.raises(InvalidInputError, match="onnxruntime, litserve read the run's ONNX export"):
        BenchSettings(model="dcgan-mnist", triton_runner="torch")  # the default targets


def test_cells_past_the_deadline_are_skipped(tmp_path: Path) -> None:
    """A target is not started, and a cell not measured, when the deadline is too near."""
    torch.manual_seed(0)
    module = create_model("dcgan-mnist").eval()
    settings = BenchSettings(model="dcgan-mnist", duration=0.2, warmup=0.0, threads=1)
    resources = Resources(settings, tmp_path, module)
    env: dict[str, Any] = {"versions": {}}
    plan = [(2, 1), (4, 1)]

    def measure(name: str, seconds_left: float) -> list[Cell]:
        return _measure_target(
            resources,
            name,
            plan,
            first=0,
            env=env,
            say=lambda *_: None,
            total=4,
            deadline=time.monotonic() + seconds_left,
        )

    # compile-graphs needs 90 s to start, and a cell 10.2 s: 60 s are not enough.
    skipped = measure("compile-graphs", 60.0)
    assert [(c.status, c.reason) for c in skipped] == [("skipped", OUT_OF_TIME)] * 2
    skipped = measure("torch", 20.0)  # torch starts in 10 s; 10 s are left for no cell
    assert [(c.status, c.reason) for c in skipped] == [("skipped", OUT_OF_TIME)] * 2
    cells = measure("torch", 30.0)  # enough for both
    assert [c.status for c in cells] == ["ok", "ok"]


def test_a_target_that_breaks_while_opening_costs_only_its_own_cells(tmp_path: Path) -> None:
    """A torch runner asked for CUDA on a host without it fails as it opens: its cells are
    errors that say why, and the next target still measures (a GPU check's one workload keeps
    its other variants)."""
    torch.manual_seed(0)
    module = create_model("dcgan-mnist").eval()
    env: dict[str, Any] = {"versions": {}}
    plan = [(2, 1), (4, 1)]

    def measure(device: str) -> list[Cell]:
        settings = BenchSettings(
            model="dcgan-mnist", duration=0.2, warmup=0.0, threads=1, device=device
        )
        resources = Resources(settings, tmp_path / device, module)
        return _measure_target(
            resources, "torch", plan, first=0, env=env, say=lambda *_: None, total=2
        )

    if torch.cuda.is_available():
        pytest.skip("this host has CUDA: the torch runner opens there")
    broken = measure("cuda")
    assert [c.status for c in broken] == ["error", "error"]
    assert all(c.reason and c.reason.startswith("could not open: ") for c in broken)
    assert "CUDA" in (broken[0].reason or "")
    assert [c.status for c in measure("cpu")] == ["ok", "ok"]
