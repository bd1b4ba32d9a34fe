"""Reliability fixtures: one repository and one real Triton, run by `zoo serve`, per session.

The server is the real product path: ``zoo serve`` in a subprocess (its supervisor, its model
report), over a repository built in a temp folder from seeded random weights, with a fake
``HF_TOKEN`` in its environment so the security tests can grep everything it wrote. Besides the
zoo's models the repository holds two broken ones (a corrupt and a missing ``model.onnx``) that
must fail to load while the others are served.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch

from serving.client import ZooClient
from serving.server.repository import (
    RepositoryOptions,
    build_repository,
    parse_config,
    render_config,
)
from serving.server.triton import free_port
from zoo.registry import create_model

#: Zoo models served in the session (the CycleGAN adds nothing new here: image in, image out).
MODELS = ("dcgan-mnist", "cgan-mnist", "stylegan2-mnist", "vae-mnist", "classifier-mnist")
#: Served entry points no test calls (the VAE's sample and inpaint stay).
UNUSED_ENTRIES = ("vae-mnist_encode", "vae-mnist_decode", "vae-mnist_reconstruct")
#: Broken copies of dcgan-mnist: model.onnx replaced by garbage, and model.onnx removed.
BROKEN = ("broken-corrupt", "broken-missing")
#: A token that must never show up in anything the server or a soak writes.
FAKE_TOKEN = "hf_" + secrets.token_hex(20)
#: Seeds and digits of the known answers a server must keep giving.
KNOWN_SEEDS = [11, 12, 13]


@dataclass
class ZooServe:
    """A `zoo serve` process and where it writes."""

    proc: subprocess.Popen[bytes]
    http_url: str
    grpc_url: str
    metrics_port: int
    stdout: Path  # its console output
    stderr: Path
    log: Path  # the Triton log
    home: Path  # ZOO_HOME of every subprocess the tests run
    env: dict[str, str]  # environment with the fake token, for more subprocesses

    def output(self) -> str:
        """Everything `zoo serve` printed so far."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def triton_pid(self) -> int | None:
        """The tritonserver process `zoo serve` runs now."""
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return None
        pids = [c.pid for c in children if c.name() == "tritonserver" and c.is_running()]
        return pids[0] if pids else None

    def wait_serving(self, model: str = "dcgan-mnist", timeout: float = 240.0) -> None:
        """Wait until ``model`` is READY (the server may be restarting)."""
        deadline = time.monotonic() + timeout
        with ZooClient(self.http_url, timeout=5) as zoo:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, f"zoo serve exited:\n{self.output()[-3000:]}"
                try:
                    if model in zoo.list_models():
                        return
                except Exception:
                    pass
                time.sleep(0.5)
        raise AssertionError(f"{model} not served after {timeout} s:\n{self.output()[-3000:]}")


@pytest.fixture(scope="session")
def rel_modules() -> dict[str, torch.nn.Module]:
    """The served models with seeded random weights."""
    torch.manual_seed(4321)
    return {name: create_model(name).eval() for name in MODELS}


@pytest.fixture(scope="session")
def rel_repo(
    tmp_path_factory: pytest.TempPathFactory, rel_modules: dict[str, torch.nn.Module]
) -> Path:
    """The repository: the zoo's models plus two broken copies of dcgan-mnist."""
    root = tmp_path_factory.mktemp("rel_repository")
    options = RepositoryOptions(instances=1, threads=1)
    build_repository(list(MODELS), out_dir=root, options=options, modules=rel_modules, parity_n=4)
    for entry in UNUSED_ENTRIES:  # fewer backend stubs: a faster start and restart
        shutil.rmtree(root / entry)
    for name in BROKEN:
        shutil.copytree(root / "dcgan-mnist", root / name)
        cfg = parse_config((root / name / "config.pbtxt").read_text())
        cfg.name = name
        (root / name / "config.pbtxt").write_text(render_config(cfg))
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    (root / "broken-corrupt" / "1" / "model.onnx").write_bytes(garbage)
    (root / "broken-missing" / "1" / "model.onnx").unlink()
    return root


@pytest.fixture(scope="session")
def zoo_serve(rel_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooServe]:
    """`zoo serve` over the repository, on free loopback ports, until the session ends."""
    work = tmp_path_factory.mktemp("zoo_serve")
    http, grpc, metrics = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "HF_TOKEN": FAKE_TOKEN,
        "ZOO_HOME": str(work / "home"),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }
    out, err, log = work / "stdout.txt", work / "stderr.txt", work / "tritonserver.log"
    args = [str(Path(sys.executable).parent / "zoo"), "serve", "--repository", str(rel_repo)]
    args += ["--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics)]
    args += ["--log-file", str(log), "--cache-mb", "16"]
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(args, stdout=o, stderr=e, env=env)
    server = ZooServe(
        proc, f"127.0.0.1:{http}", f"127.0.0.1:{grpc}", metrics, out, err, log, work / "home", env
    )
    try:
        deadline = time.monotonic() + 300
        while "models up" not in server.output():
            assert proc.poll() is None, f"zoo serve exited:\n{server.output()}"
            assert time.monotonic() < deadline, f"zoo serve not up:\n{server.output()}"
            time.sleep(0.5)
        yield server
    finally:
        triton = server.triton_pid()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        assert code == 0, f"zoo serve exited with {code} on SIGTERM:\n{server.output()[-3000:]}"
        assert (
            triton is None
            or not psutil.pid_exists(triton)
            or (psutil.Process(triton).status() == psutil.STATUS_ZOMBIE)
        ), "tritonserver outlived zoo serve"


@dataclass(frozen=True)
class Known:
    """Answers captured at the start of the session, compared after every fault."""

    digits: np.ndarray  # uint8 images fed to the classifier
    images: np.ndarray  # dcgan-mnist for KNOWN_SEEDS
    logits: np.ndarray  # classifier-mnist for ``digits``


@pytest.fixture(scope="session")
def known(zoo_serve: ZooServe) -> Known:
    """The server's answers before anything was thrown at it."""
    with ZooClient(zoo_serve.http_url) as zoo:
        digits = zoo.generate("cgan-mnist", range(4), labels=[0, 1, 2, 3])
        return Known(
            digits,
            zoo.generate("dcgan-mnist", KNOWN_SEEDS),
            zoo.classify("classifier-mnist", digits),
        )


@pytest.fixture(scope="session")
def still_serving(zoo_serve: ZooServe, known: Known) -> Callable[[], None]:
    """A check that both protocols still give the known answers (same seeds, same bytes)."""

    def check() -> None:
        for protocol, url in (("http", zoo_serve.http_url), ("grpc", zoo_serve.grpc_url)):
            with ZooClient(url, protocol=protocol, timeout=30) as zoo:  # type: ignore[arg-type]
                images = zoo.generate("dcgan-mnist", KNOWN_SEEDS)
                np.testing.assert_array_equal(images, known.images)
                logits = zoo.classify("classifier-mnist", known.digits)
                np.testing.assert_array_equal(logits, known.logits)

    return check


@dataclass(frozen=True)
class SoakRun:
    """One `zoo soak --json` run against the session server."""

    result: subprocess.CompletedProcess[str]
    out_dir: Path  # where it wrote soak.json and soak.md


@pytest.fixture(scope="session")
def soak_run(zoo_serve: ZooServe, tmp_path_factory: pytest.TempPathFactory) -> SoakRun:
    """A short soak (12 s, 4 workers, every served zoo model) with the fake token set."""
    out_dir = tmp_path_factory.mktemp("soak")
    cmd = [str(Path(sys.executable).parent / "zoo"), "soak", "--duration", "12"]
    cmd += ["--concurrency", "4", "--interval", "3", "--url", zoo_serve.http_url]
    cmd += ["--grpc-url", zoo_serve.grpc_url, "--out", str(out_dir), "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=zoo_serve.env, timeout=300)
    return SoakRun(result, out_dir)
