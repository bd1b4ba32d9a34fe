"""The bench's target registry: every name ``zoo bench`` takes, and what each one needs."""

from __future__ import annotations

import pytest
import typer

from export.runners import BACKENDS as RUNNER_BACKENDS
from serving.apps.bench.registry import (
    BENCH_TARGETS,
    DEFAULT_TARGETS,
    check_targets,
    is_in_process,
    targets_help,
)
from serving.apps.bench.settings import BenchSettings
from zoo.cli.main import app
from zoo.errors import InvalidNameError


def test_every_runner_backend_but_tensorrt_is_an_in_process_target() -> None:
    in_process = [name for name, t in BENCH_TARGETS.items() if t.in_process]
    # TensorRT's engine is built on a GPU host: the bench reaches it only through Triton.
    assert in_process == [name for name in RUNNER_BACKENDS if name != "tensorrt"]
    assert not is_in_process("tensorrt") and not is_in_process("triton-grpc")


def test_defaults_and_help_come_from_the_registry() -> None:
    assert DEFAULT_TARGETS == ("torch", "onnxruntime", "triton-http", "triton-grpc", "litserve")
    assert BenchSettings(model="dcgan-mnist").backends == DEFAULT_TARGETS
    bench = typer.main.get_command(app).commands["bench"]  # type: ignore[attr-defined]
    option = next(p for p in bench.params if p.name == "backends")
    assert option.default == ",".join(DEFAULT_TARGETS)
    assert option.help == f"Comma-separated: {targets_help()}."
    text = targets_help()
    assert all(name in text for name in BENCH_TARGETS)
    assert "triton-shm (gRPC + system shared memory)" in text


def test_what_each_target_needs() -> None:
    url = "127.0.0.1:8000"
    for name in ("triton-http", "triton-grpc", "triton-shm", "triton-perf"):
        t = BENCH_TARGETS[name]
        assert t.server == "triton"
        assert t.needs_repository(None) and not t.needs_repository(url)  # embedded or --url
        assert t.needs_model(None) and not t.needs_model(url)
    for name in ("onnxruntime", "openvino", "litserve"):  # they read the run's ONNX export
        assert BENCH_TARGETS[name].needs_repository(url)
    for name in ("torch", "compile"):
        assert not BENCH_TARGETS[name].needs_repository(None)
        assert BENCH_TARGETS[name].needs_model(url)


def test_unknown_names_are_refused_with_the_list() -> None:
    with pytest.raises(InvalidNameError, match=r"unknown backend\(s\) nope; choose from torch,"):
        check_targets(("torch", "nope"))
    with pytest.raises(InvalidNameError, match=r"\(none\)"):
        check_targets(())
