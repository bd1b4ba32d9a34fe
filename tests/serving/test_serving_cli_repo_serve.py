"""``zoo repo build`` end to end with its sizing flags, and ``zoo serve`` when restarts run out.

Both start their own Triton over a repository in a temp folder (the session's is not changed).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from typer.testing import CliRunner

from serving.client import ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.repository import parse_config
from serving.server.triton import ServerConfig, TritonServer, free_port
from zoo.cli.main import app
from zoo.hub import pull_bundled

ZOO = str(Path(sys.executable).parent / "zoo")
runner = CliRunner()


@pytest.mark.slow
def test_repo_build_sizes_the_configs_and_serves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the bundled weights, after their sha256 check
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    repo = tmp_path / "repo"
    args = ["repo", "build", "--models", "dcgan-mnist", "--out", str(repo)]
    sizing = ["--instances", "2", "--threads", "2", "--max-batch-size", "8"]
    result = runner.invoke(app, [*args, *sizing, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"name": name, "path": str(repo / name)}
        for name in ("dcgan-mnist", "dcgan-mnist_interpolate")
    ]
    cfg = parse_config((repo / "dcgan-mnist" / "config.pbtxt").read_text())
    assert cfg.max_batch_size == 8
    assert cfg.instance_group[0].count == 2
    assert cfg.parameters["zoo_threads"].string_value == "2"
    # The default preferred sizes (16, 64) exceed 8: the batcher prefers single images then.
    assert list(cfg.dynamic_batching.preferred_batch_size) == [1]
    onnx = repo / "dcgan-mnist" / "1" / "model.onnx"

    config = ServerConfig.on_free_ports(
        repo,
    )
    with (
        TritonServer(config, log_file=tmp_path / "triton.log") as server,
        ZooClient(server.grpc_url, protocol="grpc") as zoo,
    ):
        sig = zoo.signature("dcgan-mnist", ("generate",))
        served = zoo.generate("dcgan-mnist", range(20))  # sent as 8 + 8 + 4
    assert sig.max_batch_size == 8
    local = InProcessZoo("torch", modules={"dcgan-mnist": pull_bundled("dcgan-mnist").load()})
    want = local.generate("dcgan-mnist", range(20))
    assert np.abs(served.astype(np.int16) - want.astype(np.int16)).max() <= 1  # ORT vs torch

    # Up to date: nothing exported again; --force exports again.
    before = onnx.stat().st_mtime_ns
    assert runner.invoke(app, [*args, *sizing]).exit_code == 0
    assert onnx.stat().st_mtime_ns == before
    result = runner.invoke(app, [*args, *sizing, "--force"])
    assert result.exit_code == 0, result.output
    assert onnx.stat().st_mtime_ns > before


def _tritons(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if c.name() == "tritonserver" and c.is_running()]


def _wait_for(what: str, check: Any, proc: subprocess.Popen[str], out: Path) -> Any:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if value := check():
            return value
        assert proc.poll() is None, f"zoo serve exited waiting for {what}:\n{out.read_text()}"
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{out.read_text()}")


@pytest.mark.slow
def test_serve_gives_up_when_restarts_run_out(serving_repo: Path, tmp_path: Path) -> None:
    """``--max-restarts 1``: the first death is restarted, the second ends `zoo serve` (exit 1)."""
    http = free_port()
    cmd = [ZOO, "serve", "--repository", str(serving_repo), "--models", "dcgan-mnist"]
    cmd += ["--http-port", str(http), "--grpc-port", str(free_port())]
    cmd += ["--metrics-port", str(free_port()), "--max-restarts", "1"]
    cmd += ["--log-file", str(tmp_path / "serve.log")]
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, text=True)

    def said(text: str, times: int = 1) -> Any:
        # Wait on what `zoo serve` reports, not on the server: killing a Triton that is up but
        # not yet seen by the supervisor would count as a failed restart.
        return lambda: out.read_text().count(text) >= times

    try:
        _wait_for("Triton", said("models up (2): dcgan-mnist, dcgan-mnist_interpolate"), proc, out)
        (first,) = _tritons(proc.pid)
        first.kill()
        _wait_for(
            "the restart", said("models up (2): dcgan-mnist, dcgan-mnist_interpolate", 2), proc, out
        )
        (second,) = _tritons(proc.pid)
        assert second.pid != first.pid
        with ZooClient(f"127.0.0.1:{http}", timeout=30) as zoo:
            assert zoo.generate("dcgan-mnist", [1]).shape == (1, 32, 32, 1)
        second.kill()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    output = out.read_text()
    assert code == 1, output
    assert "tritonserver exited (code -9); restart 1/1" in output
    assert "tritonserver exited (code -9) after 1 restarts in a row; giving up" in output
    assert "Traceback" not in output
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
