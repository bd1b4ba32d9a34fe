"""Faults: broken models, Triton killed under load, a taken port, unwritable or full outputs,
an export interrupted mid-write.

An interrupted ``zoo pull`` is covered by tests/hub (test_interrupted_download_leaves_nothing_
a_later_run_would_load); the launcher's own port check by tests/serving.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from typer.testing import CliRunner

import export.onnx
from export.onnx import export_onnx
from serving.client import ServerUnavailableError, ZooClient, ZooClientError
from zoo.cli.main import app

if TYPE_CHECKING:
    from tests.reliability.conftest import ZooServe

runner = CliRunner()


def test_broken_models_are_reported_and_the_others_served(zoo_serve: ZooServe) -> None:
    out = zoo_serve.output()
    up = next(line for line in out.splitlines() if line.startswith("models up"))
    for name in ("dcgan-mnist", "cgan-mnist", "classifier-mnist", "vae-mnist_inpaint"):
        assert name in up
    assert "broken" not in up
    assert "not loaded: broken-corrupt (UNAVAILABLE)" in out
    assert "model.onnx changed since it was exported" in out  # the sha256 check said why
    assert "not loaded: broken-missing (UNAVAILABLE): ArtifactNotFoundError" in out
    assert "zoo export dcgan-mnist" in out  # and how to fix it
    with ZooClient(zoo_serve.grpc_url, protocol="grpc") as zoo:
        assert "broken-corrupt" not in zoo.list_models()
        assert zoo.generate("dcgan-mnist", [1]).shape == (1, 32, 32, 1)


def test_triton_killed_under_load_is_restarted_with_the_same_answers(
    zoo_serve: ZooServe, still_serving: Callable[[], None]
) -> None:
    pid = zoo_serve.triton_pid()
    assert pid is not None
    timeout = 10.0
    errors: list[str] = []  # error types the callers saw
    served = [0]
    stop = threading.Event()

    def load(protocol: str, url: str, first: int) -> None:
        with ZooClient(url, protocol=protocol, timeout=timeout) as zoo:  # type: ignore[arg-type]
            seed = first
            while not stop.is_set():
                try:
                    zoo.generate("stylegan2-mnist", range(seed, seed + 8))
                    served[0] += 1
                except ZooClientError as e:
                    errors.append(type(e).__name__)
                    time.sleep(0.1)
                seed += 8

    workers = [
        threading.Thread(target=load, args=(p, u, 10**6 * (i + 1)))
        for i, (p, u) in enumerate([("http", zoo_serve.http_url), ("grpc", zoo_serve.grpc_url)] * 2)
    ]
    for w in workers:
        w.start()
    try:
        deadline = time.monotonic() + 60
        while served[0] < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert served[0] >= 4, "no load reached the server"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not errors and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert errors, "killing the server caused no client error"
    # Every failure is the typed error (no hang: the workers above all returned).
    assert set(errors) == {"ServerUnavailableError"}, errors
    zoo_serve.wait_serving()
    assert zoo_serve.triton_pid() not in (None, pid)
    assert "tritonserver exited (code -9); restart 1/5" in zoo_serve.output()
    still_serving()
    with pytest.raises(ServerUnavailableError):  # nothing there: typed, not a hang
        ZooClient("127.0.0.1:9", timeout=2).generate("dcgan-mnist", [1])


def test_serve_on_a_taken_port_is_one_red_line(rel_repo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["serve", "--repository", str(rel_repo), "--grpc-port", str(port)]
        )
    assert result.exit_code == 1
    assert f"gRPC port {port} on 127.0.0.1 is already in use" in result.output
    assert "Traceback" not in result.output


def _unwritable_dir(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores modes: sysfs then)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys/kernel")):
        try:
            (candidate / ".probe").touch()
        except OSError:
            return candidate
        (candidate / ".probe").unlink()
    pytest.skip("no unwritable folder here (root without a read-only sysfs)")


def test_generate_to_a_read_only_folder_is_one_red_line(
    zoo_serve: ZooServe, tmp_path: Path
) -> None:
    out = _unwritable_dir(tmp_path) / "grid.png"
    result = runner.invoke(
        app,
        [
            "generate",
            "dcgan-mnist",
            "--seeds",
            "0-3",
            "--url",
            zoo_serve.http_url,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "PermissionError" in result.output and "Traceback" not in result.output
    assert not out.exists()


def _full_disk() -> None:
    """In the child: files may not grow past 2 KiB (EFBIG, as a full disk gives ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_generate_to_a_full_disk_is_one_red_line_and_no_partial_file(
    zoo_serve: ZooServe, tmp_path: Path
) -> None:
    out = tmp_path / "full" / "grid.png"
    cmd = [str(Path(sys.executable).parent / "zoo"), "generate", "dcgan-mnist", "--seeds", "0-63"]
    cmd += ["--url", zoo_serve.http_url, "--out", str(out)]
    result = subprocess.run(
        cmd, capture_output=True, text=True, env=zoo_serve.env, preexec_fn=_full_disk, timeout=300
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "File too large" in lines[0], result.stderr
    assert list(out.parent.iterdir()) == []  # no grid.png, no temp file


def test_export_to_a_read_only_folder_leaves_nothing(tmp_path: Path) -> None:
    root = _unwritable_dir(tmp_path)
    result = runner.invoke(
        app,
        [
            "export",
            "dcgan-mnist",
            "--random-weights",
            "--out",
            str(root / "repo"),
            "--threads",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "PermissionError" in result.output and "Traceback" not in result.output
    assert not (root / "repo").exists()


@pytest.mark.parametrize("where", ["while writing model.onnx", "during the parity gate"])
def test_interrupted_export_leaves_no_half_written_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Ctrl-C mid-export: the previous model.onnx stays as it was, and no partial file is left."""
    torch.manual_seed(0)
    from zoo.registry import create_model

    module = create_model("dcgan-mnist").eval()
    folder = tmp_path / "dcgan-mnist" / "1"
    folder.mkdir(parents=True)
    previous = b"the previous, complete export"
    (folder / "model.onnx").write_bytes(previous)

    if where == "while writing model.onnx":
        real = Path.write_bytes

        def cut(self: Path, data: bytes) -> int:
            if self.name.endswith(".staging"):
                real(self, data[: len(data) // 2])
                raise KeyboardInterrupt
            return real(self, data)

        monkeypatch.setattr(Path, "write_bytes", cut)
    else:

        def interrupt(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(export.onnx, "parity_check", interrupt)
    with pytest.raises(KeyboardInterrupt):
        export_onnx("dcgan-mnist", out_dir=folder, module=module, parity_n=2, threads=1)
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx"]
    assert (folder / "model.onnx").read_bytes() == previous
