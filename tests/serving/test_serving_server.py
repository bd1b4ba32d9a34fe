"""The Triton launcher: start, stop, no orphans, clear errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from serving.client import ZooClient
from serving.server import triton as server_mod
from serving.server.repository import write_configs
from serving.server.triton import ServerConfig, TritonServer, find_binary
from zoo.errors import PortInUseError, ServerStartError, TritonNotFoundError

if TYPE_CHECKING:
    from conftest import ProcessTools  # type: ignore[import-not-found]


def test_flags_mirror_the_config(tmp_path: Path) -> None:
    cfg = ServerConfig(
        model_repository=tmp_path, http_port=1, grpc_port=2, metrics_port=3, cache_size=1024
    )
    args = cfg.args(tmp_path / "backends", None)
    assert f"--model-repository={tmp_path.resolve()}" in args
    assert {
        "--http-address=127.0.0.1",
        "--grpc-address=127.0.0.1",
        "--metrics-address=127.0.0.1",
    } <= set(args)
    assert {"--http-port=1", "--grpc-port=2", "--metrics-port=3"} <= set(args)
    assert "--cache-config=local,size=1024" in args
    explicit = ServerConfig(load_models=("a", "b"), cache_size=0).args(tmp_path, None)
    assert "--model-control-mode=explicit" in explicit and "--load-model=b" in explicit
    assert not any(a.startswith("--cache-config") for a in explicit)


def test_port_in_use_is_a_clear_error(serving_repo: Path, proc: ProcessTools) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = proc.config(serving_repo)
        cfg.grpc_port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"gRPC port {cfg.grpc_port}"):
            TritonServer(cfg).start()


def test_missing_binary_is_a_clear_error(
    serving_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proc: ProcessTools
) -> None:
    monkeypatch.setattr(server_mod, "wheel_dir", lambda: tmp_path)
    with pytest.raises(TritonNotFoundError, match="genzoo\\[serve\\]"):
        find_binary()
    cfg = proc.config(serving_repo, http_address="0.0.0.0")
    with (
        pytest.warns(UserWarning, match="reachable from other machines"),
        pytest.raises(TritonNotFoundError),
    ):
        TritonServer(cfg).start()


def test_empty_or_unbuilt_repository_is_refused(tmp_path: Path, proc: ProcessTools) -> None:
    with pytest.raises(ServerStartError, match="zoo repo build"):
        TritonServer(proc.config(tmp_path)).start()
    write_configs(tmp_path, ["dcgan-mnist"])  # configs alone, as in a fresh clone
    with pytest.raises(
        ServerStartError, match=r"dcgan-mnist, dcgan-mnist_interpolate in .* no model files"
    ):
        TritonServer(proc.config(tmp_path)).start()


def test_stop_leaves_no_process_behind(
    serving_repo: Path, tmp_path: Path, proc: ProcessTools
) -> None:
    """SIGINT stops the server; its Python-backend stubs go with it."""
    server = TritonServer(
        proc.config(serving_repo, load_models=("dcgan-mnist",)), log_file=tmp_path / "log.txt"
    )
    with server:
        pid = server.pid
        assert pid is not None and len(proc.group(pid)) >= 2  # server + one stub
        with ZooClient(server.http_url) as zoo:
            assert zoo.list_models() == ["dcgan-mnist"]
    assert server.pid is None and not server.is_running()
    deadline = time.monotonic() + 10
    while proc.group(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not proc.group(pid)
    assert "Started HTTPService" in (tmp_path / "log.txt").read_text()


def test_server_dies_with_its_parent(
    serving_repo: Path, tmp_path: Path, proc: ProcessTools
) -> None:
    """A parent killed with SIGKILL (no clean-up runs) takes the server down with it."""
    cfg = proc.config(serving_repo, load_models=("dcgan-mnist",))
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from serving.server.triton import ServerConfig, TritonServer
        cfg = ServerConfig(**json.loads({
            json.dumps(
                json.dumps(
                    {
                        "model_repository": str(serving_repo),
                        "http_port": cfg.http_port,
                        "grpc_port": cfg.grpc_port,
                        "metrics_port": cfg.metrics_port,
                        "load_models": ["dcgan-mnist"],
                    }
                )
            )
        }))
        server = TritonServer(cfg, log_file={str(tmp_path / "log.txt")!r}).start()
        print(server.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert proc.alive(pid)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while (proc.alive(pid) or proc.group(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not proc.alive(pid), "tritonserver outlived its parent"
    assert not proc.group(pid), "Python-backend stubs outlived their server"


def test_serve_stops_on_sigint_inherited_as_ignored(serving_repo: Path, tmp_path: Path) -> None:
    """`zoo serve` started as `&` starts it (SIGINT ignored), restricted on loopback: SIGINT stops
    it cleanly, and the admin key it wrote is private, required and gone afterwards."""
    import psutil
    import tritonclient.http as thttp
    from tritonclient.utils import InferenceServerException

    from serving.server.admin_key import admin_headers
    from serving.server.triton import free_port

    ports = [free_port() for _ in range(3)]
    cmd = [str(Path(sys.executable).parent / "zoo"), "serve", "--repository", str(serving_repo)]
    cmd += ["--models", "dcgan-mnist", "--restrict-apis", "--log-file", str(tmp_path / "t.log")]
    for flag, port in zip(("--http-port", "--grpc-port", "--metrics-port"), ports, strict=True):
        cmd += [flag, str(port)]
    env = {**os.environ, "ZOO_HOME": str(tmp_path / "home"), "COLUMNS": "300"}
    env.pop("ZOO_ADMIN_KEY", None)
    out = tmp_path / "out.txt"
    with open(out, "wb") as o:
        proc = subprocess.Popen(
            cmd,
            stdout=o,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
    try:
        deadline = time.monotonic() + 300
        while "models up" not in out.read_text():
            assert proc.poll() is None, out.read_text()
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.3)
        ignored = int(
            Path(f"/proc/{proc.pid}/status").read_text().split("SigIgn:")[1].split()[0], 16
        )
        assert not ignored & (1 << (signal.SIGINT - 1)), "zoo serve must handle SIGINT itself"
        tritons = [p for p in psutil.Process(proc.pid).children() if p.name() == "tritonserver"]
        assert len(tritons) == 1
        match = re.search(r"key in (\S+) \(0600\)", out.read_text())
        assert match, out.read_text()
        key_file = Path(match.group(1))
        assert key_file.parent == tmp_path / "home" / "serve"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        with ZooClient(f"127.0.0.1:{ports[0]}") as zoo:
            assert zoo.generate("dcgan-mnist", [7]).shape == (1, 32, 32, 1)  # no key needed
        raw = thttp.InferenceServerClient(f"127.0.0.1:{ports[0]}")
        with pytest.raises(InferenceServerException, match="restricted"):
            raw.get_inference_statistics("dcgan-mnist")
        assert raw.get_inference_statistics("dcgan-mnist", headers=admin_headers(key))
        raw.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text()
    assert "stopping Triton" in text
    assert key not in text and key not in (tmp_path / "t.log").read_text()
    assert not key_file.exists()
    gone = psutil.wait_procs(tritons, timeout=15)[1]
    assert not gone, "tritonserver outlived zoo serve"
