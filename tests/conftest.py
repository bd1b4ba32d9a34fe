"""Shared fixtures. Each area keeps its own fixtures in ``tests/<area>/conftest.py``.

Serving (tests/serving, tests/packaging): one repository and one real embedded Triton for the
whole session. The models have random weights (seeded): serving does not care what the digits
look like, and the suite must not depend on the training schedule. Export runs with a small
parity check and every Triton model gets one instance with one ONNX Runtime thread (CI has two
cores).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import torch

from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import ServerConfig, TritonServer
from zoo.registry import create_model, list_models

# No test reaches huggingface.co. Unless a test points HF_ENDPOINT at the olah mirror (tests/hub's
# hub_env), the Hub is a loopback port where nothing listens: a pull of the trained weights is
# refused at once and resolves to the bundled copy, after its sha256 check. Set at import, before
# anything reads it; the CLI and servers started by tests inherit it.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    # CI has two cores; one intra-op thread per process keeps parallel servers from thrashing.
    torch.set_num_threads(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking ``model_name`` over the whole registry."""
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize("model_name", list_models())


def on_ci() -> bool:
    """Whether this run is CI's (``CI`` set, as every CI service and `.ci/run`'s host do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_component(reason: str) -> NoReturn:
    """A real component a test needs is missing: skip here, fail on CI.

    CI installs every component (``make test``), so there a missing one is a broken install,
    not a reason to pass. Opt-outs are explicit variables checked by the callers (e.g.
    ``ZOO_SKIP_BROWSER=1``), never a silent skip.
    """
    if on_ci():
        pytest.fail(f"{reason} (CI is set: a missing real component fails the run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def missing_component() -> Callable[[str], NoReturn]:
    """``missing_component(reason)``: skip the test, or fail it on CI."""
    return _missing_component


@pytest.fixture(scope="session")
def serving_modules() -> dict[str, torch.nn.Module]:
    """Every zoo model with seeded random weights, in eval mode."""
    torch.manual_seed(1234)
    return {name: create_model(name).eval() for name in list_models()}


@pytest.fixture(scope="session")
def serving_repo(
    tmp_path_factory: pytest.TempPathFactory, serving_modules: dict[str, torch.nn.Module]
) -> Path:
    """A complete Triton repository (ONNX exports + configs) in a temp folder."""
    root = tmp_path_factory.mktemp("model_repository")
    # The defaults, made explicit. Built here, not at import: `make mutation` imports this file
    # with every mutated function raising, and an import error would stop the whole run.
    options = RepositoryOptions(engine="onnxruntime", instances=1, threads=1)
    build_repository(out_dir=root, options=options, modules=serving_modules, parity_n=4)
    return root


def _pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _group_pids(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (the server and its Python-backend stubs)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().split(")")[-1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry))
    return out


def _server_config(repo: Path, **kwargs: object) -> ServerConfig:
    """A loopback config on free ports."""
    return ServerConfig.on_free_ports(
        repo,
        exit_timeout_secs=3,  # a client's idle keep-alive connection delays shutdown this long
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def triton(serving_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """The real embedded Triton serving every model; checks that nothing outlives it."""
    log = tmp_path_factory.mktemp("logs") / "tritonserver.log"
    server = TritonServer(_server_config(serving_repo), log_file=log)
    server.start(timeout=300)
    pid = server.pid
    assert pid is not None
    yield server
    server.stop()
    deadline = time.monotonic() + 10
    while _group_pids(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(pid), "tritonserver outlived its fixture"
    assert not _group_pids(pid), "Python-backend stubs outlived the server"


@dataclass(frozen=True)
class ProcessTools:
    """Helpers for the launcher tests (fixtures, so no test imports conftest)."""

    config: Callable[..., ServerConfig]  # (repo, **fields) → config on free loopback ports
    alive: Callable[[int], bool]  # pid → alive and not a zombie
    group: Callable[[int], list[int]]  # pgid → live pids in that process group


@pytest.fixture(scope="session")
def proc() -> ProcessTools:
    """Process helpers for the launcher tests."""
    return ProcessTools(_server_config, _pid_alive, _group_pids)
